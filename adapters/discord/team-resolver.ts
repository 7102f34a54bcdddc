import { DiscordAPIError, Routes, type REST } from 'discord.js';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { Actor, TeamResolution, TeamResolver } from '../../src/core/ports.js';

/**
 * A Discord team is the whole server or one role. Listing a role's members needs the privileged Server Members
 * intent, which Backcare does not ask for; but fetching one member by id does not. So the people Backcare knows
 * in this server are looked up one by one (a few at a time, discord.js pacing the requests) and kept if they
 * hold the role. Only Backcare's own users can count towards stats anyway.
 */

const roleSchema = z.array(z.looseObject({ id: z.string(), name: z.string() }));
const memberSchema = z.looseObject({ roles: z.array(z.string()) });
const wholeServerWords = new Set(['server', 'all', 'everyone', 'workspace', 'team']);

export function createDiscordTeamResolver(options: {
  rest: REST;
  /** Platform ids of the people Backcare knows in a guild (the core's `knownPeople`). */
  knownUsers: (guildId: string) => Promise<string[]>;
  log: Logger;
  concurrency?: number;
}): TeamResolver {
  const { rest, knownUsers, log } = options;

  async function holdsRole(guildId: string, userId: string, roleId: string): Promise<boolean> {
    try {
      const member = memberSchema.parse(await rest.get(Routes.guildMember(guildId, userId)));
      return member.roles.includes(roleId);
    } catch (error) {
      // 10007 Unknown Member: they left the server, so they are not in the team.
      if (error instanceof DiscordAPIError && error.code === 10007) return false;
      throw error;
    }
  }

  return {
    platform: 'discord',
    async resolve(actor: Actor, team: string | undefined): Promise<TeamResolution> {
      const guildId = actor.workspaceExternalId;
      const serverLabel = `${actor.workspaceName ?? 'this server'} (whole server)`;
      if (team === undefined || wholeServerWords.has(team.toLowerCase()))
        return { kind: 'workspace', label: serverLabel };
      const roleId = /^<@&(\d{15,21})>$/.exec(team)?.[1];
      if (!roleId || !/^\d{15,21}$/.test(guildId)) {
        return {
          kind: 'unknown',
          message:
            'On Discord a team is the whole server or a role: pick the role in the `team` option, or leave it out.',
        };
      }
      const roles = roleSchema.parse(await rest.get(Routes.guildRoles(guildId)));
      const role = roles.find((r) => r.id === roleId);
      if (!role) return { kind: 'unknown', message: 'That role is not in this server.' };
      const candidates = await knownUsers(guildId);
      const members: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < candidates.length) {
          const userId = candidates[next++]!;
          if (await holdsRole(guildId, userId, roleId)) members.push(userId);
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, candidates.length) }, worker));
      log.info(
        { event: 'discord.team_resolved', checked: candidates.length, members: members.length },
        'role team resolved',
      );
      return { kind: 'members', label: `@${role.name}`.slice(0, 200), platformUserIds: members };
    },
  };
}
