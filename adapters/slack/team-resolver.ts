import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { TeamResolution, TeamResolver } from '../../src/core/ports.js';
import { classifySlackError, type TokenLookup } from './slack-api.js';

/** Slack escapes a typed `#design` as `<#C0123|design>` (with should_escape on the slash command). */
const channelMention = /^<#([CG][A-Z0-9]{2,30})(?:\|([^>]{0,80}))?>$/;
const wholeWorkspace = new Set(['workspace', 'all', 'everyone', 'team']);
/** A team is a channel; very large channels are the whole company and are capped rather than paged for ever. */
const MAX_MEMBERS = 20_000;

const membersPage = z.looseObject({
  members: z.array(z.string()).default([]),
  response_metadata: z.looseObject({ next_cursor: z.string().optional() }).optional(),
});

/**
 * What "a team" means on Slack for `/backcare stats [team]`: nothing (or "workspace") is the whole workspace,
 * a channel mention is that channel's members (conversations.members, so Backcare must be in private channels).
 */
export function createSlackTeamResolver(options: {
  tokens: TokenLookup;
  client: (token: string) => WebClient;
  log: Logger;
}): TeamResolver {
  return {
    platform: 'slack',
    async resolve(actor, team): Promise<TeamResolution> {
      const workspaceLabel = actor.workspaceName ? `${actor.workspaceName} (whole workspace)` : 'the whole workspace';
      if (team === undefined || wholeWorkspace.has(team.toLowerCase()))
        return { kind: 'workspace', label: workspaceLabel };
      const match = channelMention.exec(team.trim());
      if (!match)
        return {
          kind: 'unknown',
          message:
            'Name the team as a channel, like `/backcare stats #design`, or leave it out for the whole workspace.',
        };
      const [, channel, name] = match;
      const token = await options.tokens(actor.workspaceExternalId);
      if (!token) return { kind: 'unknown', message: 'Backcare is not installed in this workspace.' };
      const client = options.client(token);
      const members: string[] = [];
      let cursor: string | undefined;
      try {
        do {
          const page = membersPage.parse(
            await client.conversations.members({ channel: channel!, limit: 1000, ...(cursor ? { cursor } : {}) }),
          );
          members.push(...page.members);
          cursor = page.response_metadata?.next_cursor || undefined;
        } while (cursor && members.length < MAX_MEMBERS);
      } catch (error) {
        const failure = classifySlackError(error);
        options.log.warn({ event: 'slack.team_members_failed', failure }, 'could not list channel members');
        if (failure.kind === 'permanent')
          return {
            kind: 'unknown',
            message: `I can't see who is in that channel. For a private channel, invite Backcare to it first.`,
          };
        return { kind: 'unknown', message: 'Slack did not answer in time; try again in a minute.' };
      }
      return {
        kind: 'members',
        label: name ? `#${name}` : `<#${channel}>`,
        platformUserIds: members.slice(0, MAX_MEMBERS),
      };
    },
  };
}
