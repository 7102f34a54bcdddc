import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/config/logger.js';
import type { ChannelMessenger, ChannelRef } from '../../src/core/ports.js';
import type { TeamResolver } from '../../src/core/ports.js';
import { renderMessage } from './render.js';
import { classifySlackError, type TokenLookup } from './slack-api.js';

/** Slack escapes a typed `#design` as `<#C0123|design>` (sometimes `<#C0123|>`); a bare channel id is accepted too. */
const channelMention = /^<#([CG][A-Z0-9]{2,30})(?:\|[^>]{0,80})?>$/;
const bareChannel = /^([CG][A-Z0-9]{2,30})$/;

/**
 * The one reading of a channel typed into a Slack command. A plain `#design` (no id) is what Slack sends when the
 * name was typed rather than picked, or when the command does not escape channels: posting to a name fails, so
 * the person is asked to pick it instead of Backcare storing something unusable.
 */
export function slackChannelRef(typed: string): ChannelRef {
  const value = typed.trim();
  const id = channelMention.exec(value)?.[1] ?? bareChannel.exec(value)?.[1];
  if (id) return { ok: true, channelId: id };
  if (/^#?[\p{L}\p{N}_.-]{1,80}$/u.test(value)) {
    return {
      ok: false,
      message: `Slack sent only the name ${value.startsWith('#') ? value : `#${value}`}, not the channel itself. Type \`#\` and pick the channel from Slack's list, so Slack sends its id.`,
    };
  }
  return {
    ok: false,
    message: 'That is not a channel. Name it as a mention: type `#` and pick the channel from the list.',
  };
}

const postFailures: Record<string, string> = {
  not_in_channel: 'Backcare is not in that channel. Add it there first (`/invite @Backcare`), then try again.',
  channel_not_found: 'Slack does not know that channel, or it is private and Backcare is not in it.',
  is_archived: 'that channel is archived.',
  restricted_action: 'posting in that channel is restricted.',
};

/** Slack's answers that say this person can never get the DM; anything else may work on another run. */
const unreachableErrors = new Set([
  'user_not_found',
  'users_not_found',
  'user_disabled',
  'user_not_visible',
  'cannot_dm_bot',
]);
/** A Tier-3 minute and then some: the response_url the answer goes to stays valid for 30 minutes. */
const MAX_DM_WAIT_MS = 2 * 60 * 1000;

/**
 * `/backcare invite` on Slack: the announcement is a chat.postMessage in the channel; members come from the team
 * resolver (conversations.members); each DM opens the conversation first (conversations.open, then postMessage).
 */
export function createSlackChannelMessenger(options: {
  tokens: TokenLookup;
  client: (token: string) => WebClient;
  teamResolver: TeamResolver;
  log: Logger;
  /** Waits out a Retry-After (tests scale it down). */
  sleep?: (ms: number) => Promise<void>;
  /** The most one invitation waits for rate limits before the run stops and leaves the rest for later. */
  maxDmWaitMs?: number;
}): ChannelMessenger {
  const { log } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxDmWaitMs = options.maxDmWaitMs ?? MAX_DM_WAIT_MS;
  async function clientFor(teamId: string): Promise<WebClient | null> {
    const token = await options.tokens(teamId);
    return token ? options.client(token) : null;
  }
  return {
    platform: 'slack',
    channelRef: slackChannelRef,
    async post(actor, channelId, message) {
      const client = await clientFor(actor.workspaceExternalId);
      if (!client) return { ok: false, message: 'Backcare is not installed in this workspace.' };
      try {
        const rendered = renderMessage(message);
        await client.chat.postMessage({
          channel: channelId,
          text: rendered.text,
          blocks: rendered.blocks,
          unfurl_links: false,
        });
        return { ok: true };
      } catch (error) {
        const failure = classifySlackError(error);
        log.warn({ event: 'slack.invite_post_failed', failure }, 'invite announcement not posted');
        const reason =
          failure.kind === 'permanent'
            ? (postFailures[failure.reason] ?? `Slack refused (${failure.reason}).`)
            : 'Slack did not answer in time; try again in a minute.';
        return { ok: false, message: reason };
      }
    },
    async listMembers(actor, channelId) {
      const resolved = await options.teamResolver.resolve(actor, `<#${channelId}>`);
      if (resolved.kind === 'members') return { ok: true, platformUserIds: resolved.platformUserIds };
      return { ok: false, message: resolved.kind === 'unknown' ? resolved.message : 'that is not a channel.' };
    },
    async sendDm(actor, platformUserId, message) {
      const client = await clientFor(actor.workspaceExternalId);
      if (!client) return { status: 'later', reason: 'Backcare is not installed in this workspace' };
      let waitedMs = 0;
      let channel: string | undefined;
      // conversations.open is Tier 3 (about 50 a minute): a 429 is waited out for its Retry-After and the same
      // call repeated, so a run of 100 invitations slows down instead of losing people.
      for (;;) {
        try {
          if (!channel) {
            const opened = await client.conversations.open({ users: platformUserId });
            channel = opened.channel?.id;
            if (!channel) return { status: 'later', reason: 'Slack did not open the conversation' };
          }
          const rendered = renderMessage(message);
          await client.chat.postMessage({ channel, text: rendered.text, blocks: rendered.blocks, unfurl_links: false });
          return { status: 'sent' };
        } catch (error) {
          const failure = classifySlackError(error);
          if (failure.kind === 'rate_limited' && waitedMs + failure.retryAfterMs <= maxDmWaitMs) {
            log.info(
              { event: 'slack.invite_dm_rate_limited', retryAfterMs: failure.retryAfterMs },
              'invite DM rate-limited; waiting',
            );
            waitedMs += failure.retryAfterMs;
            await sleep(failure.retryAfterMs);
            continue;
          }
          log.warn({ event: 'slack.invite_dm_failed', failure }, 'invite DM not delivered');
          // Only an answer retrying cannot change (the person is gone, a bot, DMs closed) makes them unreachable.
          if (failure.kind !== 'rate_limited' && unreachableErrors.has(failure.reason))
            return { status: 'unreachable', reason: failure.reason };
          return {
            status: 'later',
            reason:
              failure.kind === 'rate_limited'
                ? 'Slack is rate-limiting direct messages'
                : 'Slack did not take the direct messages for now',
          };
        }
      }
    },
  };
}
