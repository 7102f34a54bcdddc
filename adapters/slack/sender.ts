import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import {
  RateLimitedError,
  SEND_WINDOW_MS,
  type Availability,
  type NudgeDelivery,
  type ReconcileResult,
  type SendResult,
  type Sender,
} from '../../src/core/ports.js';
import { renderMessage } from './render.js';
import { createBusyLookups, type SlackProfile } from './busy-check.js';
import { classifySlackError, type TokenLookup } from './slack-api.js';

/** The metadata event type that marks Backcare's nudge messages; its payload carries the delivery id. */
export const NUDGE_EVENT_TYPE = 'backcare_nudge';
/**
 * Slack limits conversations.history for apps distributed outside its Marketplace (new ones since May 2025) to
 * 15 messages a call and about one call a minute. A nudge is only ever posted between its slot and the end of its
 * send window, so reconciliation reads just that window (with some clock skew and the last send's duration), 15
 * at a time, and matches the delivery id in the message metadata.
 */
export const RECONCILE_PAGE_SIZE = 15;
/** Pages read before giving up as "unknown" (the window is a few minutes; more than this is a very busy channel). */
const RECONCILE_MAX_PAGES = 4;
const RECONCILE_SKEW_MS = 2 * 60 * 1000;
const RECONCILE_SEND_MS = 60 * 1000;

/** `channel:ts`, what Slack needs to find the message again (chat.update, reactions…). */
function slackMessageRef(channel: string, ts: string): string {
  return `${channel}:${ts}`;
}

const historySchema = z.looseObject({
  messages: z
    .array(
      z.looseObject({
        ts: z.string(),
        metadata: z
          .looseObject({ event_type: z.string(), event_payload: z.record(z.string(), z.unknown()).optional() })
          .optional(),
      }),
    )
    .default([]),
  has_more: z.boolean().optional(),
  response_metadata: z.looseObject({ next_cursor: z.string().optional() }).optional(),
});

/** Slack's `ts` form: seconds with six decimals. */
const slackTs = (ms: number) => (ms / 1000).toFixed(6);

/** Status emoji that mean "in a meeting or on a call" (calendar sync sets :spiral_calendar_pad:); SLACK_BUSY_STATUS_EMOJI overrides. */
const DEFAULT_BUSY_STATUS_EMOJI = [
  ':spiral_calendar_pad:',
  ':calendar:',
  ':date:',
  ':headphones:',
  ':phone:',
  ':telephone_receiver:',
  ':slack_call:',
  ':zoom:',
  ':google_meet:',
];
/** Status words calendar integrations and people use for the same thing. */
const busyStatusText = /\b(in a meeting|on a call|in a call|in a huddle)\b/i;

/** Why a Slack profile says "busy", or null: a huddle, or a meeting/call status that has not expired. */
function busyReason(
  profile: SlackProfile | undefined,
  busyEmoji: readonly string[],
  nowSeconds: number,
): string | null {
  if (!profile) return null;
  if (profile.huddle_state === 'in_a_huddle') return 'in a Slack huddle';
  const expired =
    profile.status_expiration !== undefined && profile.status_expiration > 0 && profile.status_expiration <= nowSeconds;
  if (expired) return null;
  const emoji = profile.status_emoji?.trim().toLowerCase();
  if (emoji && busyEmoji.includes(emoji)) return `in a meeting (Slack status ${emoji})`;
  if (profile.status_text && busyStatusText.test(profile.status_text)) return 'in a meeting (Slack status)';
  return null;
}

export interface SlackSenderOptions {
  /** Status emoji that mark a meeting or call (default DEFAULT_BUSY_STATUS_EMOJI). */
  busyStatusEmoji?: readonly string[];
  tokens: TokenLookup;
  client: (token: string) => WebClient;
  log: Logger;
  now?: () => Date;
}

/**
 * The scheduler's view of Slack: post a nudge (carrying its delivery id as message metadata), find it
 * again after a crash, and tell whether the person is in do-not-disturb.
 */
export function createSlackSender(options: SlackSenderOptions): Sender {
  const { log } = options;
  const now = options.now ?? (() => new Date());
  const busyEmoji = (options.busyStatusEmoji ?? DEFAULT_BUSY_STATUS_EMOJI).map((e) => e.trim().toLowerCase());
  const busy = createBusyLookups({ client: options.client, log, now });

  async function clientFor(delivery: NudgeDelivery): Promise<WebClient | null> {
    const token = await options.tokens(delivery.workspace.externalId);
    return token ? options.client(token) : null;
  }

  /** The channel a nudge goes to; a DM is opened once and its id cached by the scheduler (returned with the result). */
  async function channelFor(client: WebClient, delivery: NudgeDelivery): Promise<{ channel: string; opened: boolean }> {
    if (delivery.destination.kind === 'channel') return { channel: delivery.destination.channelId, opened: false };
    if (delivery.user.dmChannelId) return { channel: delivery.user.dmChannelId, opened: false };
    const opened = await client.conversations.open({ users: delivery.user.platformUserId });
    const channel = opened.channel?.id;
    if (!channel) throw new Error('conversations.open returned no channel');
    return { channel, opened: true };
  }

  /** Reads the window a nudge could have been posted in, 15 at a time, for the delivery id in the metadata. */
  async function findPosted(client: WebClient, delivery: NudgeDelivery): Promise<ReconcileResult> {
    const { channel } = await channelFor(client, delivery);
    const window = {
      oldest: slackTs(delivery.slotAt.getTime() - RECONCILE_SKEW_MS),
      latest: slackTs(delivery.slotAt.getTime() + SEND_WINDOW_MS + RECONCILE_SEND_MS + RECONCILE_SKEW_MS),
    };
    let cursor: string | undefined;
    for (let page = 0; page < RECONCILE_MAX_PAGES; page++) {
      const history = historySchema.parse(
        await client.conversations.history({
          channel,
          ...window,
          inclusive: true,
          include_all_metadata: true,
          limit: RECONCILE_PAGE_SIZE,
          ...(cursor ? { cursor } : {}),
        }),
      );
      const match = history.messages.find(
        (m) =>
          m.metadata?.event_type === NUDGE_EVENT_TYPE &&
          String(m.metadata.event_payload?.delivery_id) === String(delivery.deliveryId),
      );
      if (match) return { found: true, messageRef: slackMessageRef(channel, match.ts) };
      cursor = history.response_metadata?.next_cursor || undefined;
      if (!history.has_more || !cursor) return { found: false };
    }
    throw new Error(
      `more than ${RECONCILE_MAX_PAGES * RECONCILE_PAGE_SIZE} messages around the slot; cannot tell whether it was posted`,
    );
  }

  return {
    platform: 'slack',
    // chat.postMessage allows about one message a second per channel, with short bursts.
    channelPostRate: { name: 'slack:chat.postMessage', limit: 5, windowMs: 5000, burst: 1 },

    async send(delivery): Promise<SendResult> {
      const client = await clientFor(delivery);
      if (!client) return { status: 'permanent', reason: 'Backcare is not installed in this Slack workspace' };
      try {
        const { channel, opened } = await channelFor(client, delivery);
        const message = renderMessage(delivery.message);
        const posted = await client.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          metadata: { event_type: NUDGE_EVENT_TYPE, event_payload: { delivery_id: String(delivery.deliveryId) } },
        });
        if (!posted.ts) return { status: 'retry', retryAfterMs: 5000, reason: 'no_ts' };
        const postedChannel = posted.channel ?? channel;
        return {
          status: 'sent',
          messageRef: slackMessageRef(postedChannel, posted.ts),
          ...(opened && delivery.destination.kind === 'dm' ? { dmChannelId: channel } : {}),
        };
      } catch (error) {
        const failure = classifySlackError(error);
        log.warn({ event: 'slack.nudge.send_failed', deliveryId: delivery.deliveryId, failure }, 'nudge not sent');
        if (failure.kind === 'rate_limited')
          return { status: 'retry', retryAfterMs: failure.retryAfterMs, reason: 'rate_limited', rateLimited: true };
        if (failure.kind === 'permanent') return { status: 'permanent', reason: failure.reason };
        return { status: 'retry', retryAfterMs: 5000, reason: failure.reason };
      }
    },

    async reconcile(delivery): Promise<ReconcileResult> {
      const client = await clientFor(delivery);
      if (!client) return { found: false };
      try {
        return await findPosted(client, delivery);
      } catch (error) {
        // Either way it throws ("unknown" must not be mistaken for "not sent"); a 429 says how long to wait, and
        // the scheduler paces its checks by it (our clients never retry a 429 themselves: slack-api.ts).
        const failure = classifySlackError(error);
        if (failure.kind === 'rate_limited')
          throw new RateLimitedError(failure.retryAfterMs, 'Slack rate limited the reconcile check');
        throw error;
      }
    },

    async isAvailable(delivery): Promise<Availability> {
      const token = await options.tokens(delivery.workspace.externalId);
      if (!token) return { available: true };
      const userId = delivery.user.platformUserId;
      // Both lookups are batched across everyone due at the same moment (see busy-check.ts).
      const [dnd, profile] = await Promise.all([busy.dnd(token, userId), busy.profile(token, userId)]);
      const nowSeconds = now().getTime() / 1000;
      if (dnd?.dnd_enabled && dnd.next_dnd_start_ts !== undefined && dnd.next_dnd_end_ts !== undefined) {
        if (dnd.next_dnd_start_ts <= nowSeconds && nowSeconds < dnd.next_dnd_end_ts)
          return { available: false, reason: 'Slack do not disturb' };
      }
      const reason = busyReason(profile, busyEmoji, nowSeconds);
      return reason ? { available: false, reason } : { available: true };
    },
  };
}
