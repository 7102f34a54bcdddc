import { DiscordAPIError, HTTPError, RateLimitError, Routes, type REST } from 'discord.js';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { Availability, NudgeDelivery, ReconcileResult, Sender, SendResult } from '../../src/core/ports.js';
import { ActionRefs, decodeCustomId, type MessageContext } from './custom-id.js';
import { renderMessage } from './render.js';

/** Recorded as the pause reason; `/backcare` commands recognise it and explain the fix. */
export const DMS_CLOSED_REASON = 'Discord would not let Backcare message you (direct messages are closed)';

/** Discord's nonce is at most 25 characters; with `enforce_nonce` a repeat returns the first message. */
export const deliveryNonce = (deliveryId: number) => `bc-${deliveryId}`;

const permanentCodes: Record<number, string> = {
  50007: DMS_CLOSED_REASON,
  10013: 'the Discord user no longer exists',
  10003: 'the Discord channel for nudges no longer exists',
  50001: 'Backcare cannot see the channel chosen for nudges',
  50013: 'Backcare lacks permission to post in the channel chosen for nudges',
};

const messageSchema = z.looseObject({ id: z.string(), channel_id: z.string().optional() });
const channelSchema = z.looseObject({ id: z.string() });
const historySchema = z.array(
  z.looseObject({
    id: z.string(),
    nonce: z.union([z.string(), z.number()]).nullish(),
    author: z.looseObject({ id: z.string() }).optional(),
    components: z
      .array(z.looseObject({ components: z.array(z.looseObject({ custom_id: z.string().optional() })).optional() }))
      .optional(),
  }),
);

export interface DiscordSenderOptions {
  rest: REST;
  log: Logger;
  /** The bot's user id (equal to the application id for bot applications): only its own messages count in reconcile. */
  botUserId: string;
  refs?: ActionRefs;
  /** Is the user in a voice channel of this guild (the gateway's voice-state cache)? Without it everyone is available. */
  inVoice?: (guildId: string, userId: string) => boolean;
}

/** Recorded on the skipped delivery and shown in `/backcare me`. */
export const IN_VOICE_REASON = 'in a Discord voice channel';

export interface DiscordSender extends Sender {
  /** Opens (or returns the cached) DM channel with a user. */
  dmChannel(userId: string): Promise<string>;
}

/**
 * Delivers nudges as Discord messages: by DM (the channel id is cached, opening DMs is what Discord watches for
 * abuse) or to a team channel. discord.js's REST client already waits on 429 and retries 5xx; the enforced
 * nonce makes such a retry (or the scheduler's) return the first message instead of posting twice.
 */
export function createDiscordSender(options: DiscordSenderOptions): DiscordSender {
  const { rest, log } = options;
  const refs = options.refs ?? new ActionRefs();
  const dmChannels = new Map<string, string>();

  async function dmChannel(userId: string): Promise<string> {
    const cached = dmChannels.get(userId);
    if (cached) return cached;
    const channel = channelSchema.parse(await rest.post(Routes.userChannels(), { body: { recipient_id: userId } }));
    dmChannels.set(userId, channel.id);
    return channel.id;
  }

  async function channelFor(delivery: NudgeDelivery): Promise<string> {
    if (delivery.destination.kind === 'channel') return delivery.destination.channelId;
    if (delivery.user.dmChannelId) {
      dmChannels.set(delivery.user.platformUserId, delivery.user.dmChannelId);
      return delivery.user.dmChannelId;
    }
    return dmChannel(delivery.user.platformUserId);
  }

  const contextOf = (delivery: NudgeDelivery): MessageContext => ({
    guildId: delivery.workspace.externalId,
    deliveryId: delivery.deliveryId,
  });

  function classify(error: unknown): SendResult {
    if (error instanceof DiscordAPIError) {
      const reason = typeof error.code === 'number' ? permanentCodes[error.code] : undefined;
      if (reason) return { status: 'permanent', reason };
      if (error.status >= 500) return { status: 'retry', retryAfterMs: 30_000, reason: `discord ${error.status}` };
      return { status: 'permanent', reason: `Discord refused the nudge (${error.code}: ${error.message})` };
    }
    if (error instanceof RateLimitError)
      return {
        status: 'retry',
        retryAfterMs: Math.max(1000, error.retryAfter),
        reason: 'rate limited',
        rateLimited: true,
      };
    if (error instanceof HTTPError) return { status: 'retry', retryAfterMs: 30_000, reason: `discord ${error.status}` };
    // Timeouts and network errors: the enforced nonce makes the retry safe.
    return { status: 'retry', retryAfterMs: 30_000, reason: error instanceof Error ? error.name : 'network error' };
  }

  return {
    platform: 'discord',
    dmChannel,
    async send(delivery) {
      let channelId: string | undefined;
      try {
        channelId = await channelFor(delivery);
        const message = renderMessage(delivery.message, {
          ctx: contextOf(delivery),
          refs,
          ...(delivery.destination.kind === 'dm'
            ? { owner: { workspaceExternalId: delivery.workspace.externalId, userId: delivery.user.platformUserId } }
            : {}),
        });
        await refs.flush();
        // Nudges carry no local images, so no attachments: the body is the whole message.
        const { files: _files, dropped: _dropped, ...body } = message;
        const created = messageSchema.parse(
          await rest.post(Routes.channelMessages(channelId), {
            body: { ...body, nonce: deliveryNonce(delivery.deliveryId), enforce_nonce: true },
          }),
        );
        return {
          status: 'sent',
          messageRef: `${channelId}/${created.id}`,
          ...(delivery.destination.kind === 'dm' ? { dmChannelId: channelId } : {}),
        };
      } catch (error) {
        const result = classify(error);
        log.warn(
          {
            event: 'discord.nudge_failed',
            deliveryId: delivery.deliveryId,
            status: result.status,
            code: error instanceof DiscordAPIError ? error.code : undefined,
          },
          'nudge not delivered',
        );
        return result;
      }
    },
    async isAvailable(delivery): Promise<Availability> {
      // A call in the server is the Discord equivalent of a meeting: skip this slot, the next one comes as usual.
      if (options.inVoice?.(delivery.workspace.externalId, delivery.user.platformUserId))
        return { available: false, reason: IN_VOICE_REASON };
      return { available: true };
    },
    async reconcile(delivery) {
      // Look in the channel's recent history for this delivery's message: by nonce, or by the delivery id its buttons carry.
      const channelId = await channelFor(delivery);
      const history = historySchema.parse(
        await rest.get(Routes.channelMessages(channelId), { query: new URLSearchParams({ limit: '50' }) }),
      );
      const nonce = deliveryNonce(delivery.deliveryId);
      const found = history.find((m) => {
        if (m.author && m.author.id !== options.botUserId) return false;
        if (m.nonce === nonce) return true;
        return (m.components ?? []).some((row) =>
          (row.components ?? []).some((c) => {
            const id = c.custom_id ? decodeCustomId(c.custom_id) : null;
            return (
              id !== null && (id.kind === 'button' || id.kind === 'select') && id.ctx.deliveryId === delivery.deliveryId
            );
          }),
        );
      });
      const result: ReconcileResult = found
        ? { found: true, messageRef: `${channelId}/${found.id}` }
        : { found: false };
      log.info(
        { event: 'discord.reconciled', deliveryId: delivery.deliveryId, found: result.found },
        'reconciled nudge',
      );
      return result;
    },
  };
}
