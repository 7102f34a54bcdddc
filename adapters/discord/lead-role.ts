import { reply as makeReply, text, type Reply } from '../../src/core/ports.js';
import type { DiscordContext } from './context.js';
import type { ActorFacts, OptionValues } from './parse.js';

/** `/backcare lead-role`: shows, sets or clears the role whose members count as team leads (stored by the core). */
export function createLeadRoleCommand(ctx: DiscordContext) {
  const { log } = ctx;
  const leadRoleFor = (guildId: string) => ctx.leadRoles.roleOf('discord', guildId);

  async function leadRoleCommand(facts: ActorFacts, values: OptionValues): Promise<Reply> {
    const say = (message: string) => makeReply(message, [text(message)]);
    if (!facts.guildId || facts.guildId.startsWith('dm-') || !/^\d+$/.test(facts.guildId))
      return say('Run this in your server, not in a direct message.');
    if (values.clear === 'yes' || typeof values.role === 'string') {
      if (!facts.manageGuild) return say('Only members with the *Manage Server* permission can choose the lead role.');
      const roleId = values.clear === 'yes' ? null : (values.role as string);
      await ctx.leadRoles.set({
        platform: 'discord',
        workspaceExternalId: facts.guildId,
        workspaceName: facts.guildName,
        changedBy: facts.userId,
        roleId,
      });
      log.info({ event: 'discord.lead_role', guildId: facts.guildId, set: roleId !== null }, 'lead role changed');
      return say(
        roleId
          ? `Members with <@&${roleId}> now count as team leads (as do members with Manage Server).`
          : 'The lead role is cleared: only members with Manage Server count as team leads.',
      );
    }
    const current = await leadRoleFor(facts.guildId);
    return say(
      current
        ? `Team leads: members with <@&${current}>, and members with Manage Server.`
        : 'Team leads: members with Manage Server. Choose a lead role with `/backcare lead-role role:`.',
    );
  }

  return leadRoleCommand;
}
