import { PermissionFlagsBits, type Interaction } from 'discord.js';
import { homeWorkspaceOf, storedPreferences as coreStoredPreferences, type Actor } from '../../src/core/ports.js';
import { memberRoles, type DiscordContext } from './context.js';
import type { MessageContext } from './custom-id.js';
import { ownerFrom, type ActorFacts } from './parse.js';

export type Who = ReturnType<typeof createWho>;

/** Who is asking: the member, their rights in the guild (Manage Server, the lead role) or, in a DM, their home guild. */
export function createWho(ctx: DiscordContext) {
  const { core, refs } = ctx;
  const leadRoleFor = (guildId: string) => ctx.leadRoles.roleOf('discord', guildId);

  /** In DMs: the guild the person last set Backcare up in (most recently saved settings), if any. */
  const homeGuild = (userId: string) => homeWorkspaceOf(core.deps, 'discord', userId);

  async function factsFor(interaction: Interaction, ctx: MessageContext = {}, timezone?: string): Promise<ActorFacts> {
    const user = interaction.user;
    const base = { userId: user.id, displayName: user.globalName ?? user.username, ...(timezone ? { timezone } : {}) };
    if (interaction.guildId) {
      const manageGuild = interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
      const leadRole = await leadRoleFor(interaction.guildId);
      return {
        ...base,
        guildId: interaction.guildId,
        guildName: interaction.guild?.name,
        manageGuild,
        isLead: leadRole !== null && memberRoles(interaction.member).includes(leadRole),
      };
    }
    return { ...base, guildId: ctx.guildId ?? (await homeGuild(user.id)), manageGuild: false, isLead: false };
  }

  /** In a DM, buttons name the guild they are about; in a server the interaction already says. */
  const encodingFor = (facts: ActorFacts, interaction: Interaction) => ({
    ctx: !interaction.guildId && facts.guildId && /^\d+$/.test(facts.guildId) ? { guildId: facts.guildId } : {},
    refs,
    owner: ownerFrom(facts),
  });

  const storedPreferences = (actor: Actor) => coreStoredPreferences(core.deps, actor);

  return { factsFor, encodingFor, homeGuild, storedPreferences };
}
