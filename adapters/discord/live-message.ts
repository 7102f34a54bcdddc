import { DiscordAPIError, Routes, type REST } from 'discord.js';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { Block, LiveSurface } from '../../src/core/ports.js';
import type { DiscordMessage } from './render.js';

/**
 * How a Discord live session reaches its message: the interaction's reply, edited through the interaction
 * webhook while its token lasts (by the replica that got the interaction, or from the stored token by another
 * one), then a DM message edited with the bot token.
 */

/** Discord's interaction tokens last 15 minutes. */
const TOKEN_VALID_MS = 15 * 60 * 1000;

/** Where the session's message is: the interaction's reply, or (past the token's lifetime) a DM message. */
export interface MessageRef {
  interactionId: string;
  /** When the interaction was created: the token's clock, on every replica. */
  createdAt: number;
  /** The message id known when the session started: with the interaction id, how a press finds the session. */
  originalId?: string | undefined;
  /** The newest id Discord returned for the reply (presses on this replica). */
  messageId?: string | undefined;
  /**
   * The interaction webhook, stored only while the session is shared and on the reply: the token is what lets
   * another replica edit it. It is dropped once the session moves to a DM and goes with the row at the end.
   */
  webhook?: { applicationId: string; interactionToken: string } | undefined;
  dm?: { channelId: string; messageId: string } | undefined;
}

export const snowflake = z.string().regex(/^\d{1,21}$/);
export const messageRefSchema = z.object({
  interactionId: z.string().min(1),
  createdAt: z.number(),
  originalId: snowflake.optional(),
  messageId: snowflake.optional(),
  webhook: z.object({ applicationId: snowflake, interactionToken: z.string().min(1).max(500) }).optional(),
  dm: z.object({ channelId: snowflake, messageId: snowflake }).optional(),
});

const messageIdSchema = z.looseObject({ id: z.string() });

/** Errors no retry can fix: the webhook (token) or the message is gone. */
const GONE_CODES = new Set([10008, 10015, 50027]);

/** A session taken over without its interaction token (or past it): its reply cannot be edited from here. */
class NoWebhook extends Error {
  constructor() {
    super('no interaction webhook stored for this live session');
  }
}

/** How one session's message is reached: on the replica that started it, or rebuilt from the store. */
interface SurfaceParts {
  userId: string;
  render(blocks: readonly Block[]): DiscordMessage;
  editOriginal(ref: MessageRef, message: DiscordMessage): Promise<string | undefined>;
  complete(): Promise<DiscordMessage | null>;
}

export function createLiveMessages(deps: {
  rest: REST;
  log: Logger;
  now: () => number;
  /** Past this age of the interaction the session moves to a DM (a margin before the token's 15 minutes). */
  lifetime: number;
  stats: { movedToDm: number };
}) {
  const { rest, log, now, lifetime, stats } = deps;

  async function moveToDm(parts: SurfaceParts, ref: MessageRef, message: DiscordMessage): Promise<MessageRef> {
    const channel = messageIdSchema.parse(
      await rest.post(Routes.userChannels(), { body: { recipient_id: parts.userId } }),
    );
    const posted = messageIdSchema.parse(
      await rest.post(Routes.channelMessages(channel.id), { body: withoutFiles(message) }),
    );
    stats.movedToDm += 1;
    // The note on the old reply is a courtesy: the session lives in the DM now whether or not it lands.
    await parts
      .editOriginal(ref, {
        content: 'This session continues in your direct messages with Backcare.',
        embeds: [],
        components: [],
      })
      .catch((error: unknown) =>
        log.warn({ event: 'discord.live_note_failed', err: error }, 'could not point the reply to the DM'),
      );
    // No webhook (and no token) from here on: nothing edits the reply any more.
    return {
      interactionId: ref.interactionId,
      createdAt: ref.createdAt,
      dm: { channelId: channel.id, messageId: posted.id },
    };
  }

  /** Edits wherever the message is now; returns where it is after. */
  async function send(parts: SurfaceParts, ref: MessageRef, message: DiscordMessage): Promise<MessageRef> {
    if (ref.dm) {
      await rest.patch(Routes.channelMessage(ref.dm.channelId, ref.dm.messageId), { body: withoutFiles(message) });
      return ref;
    }
    if (now() - ref.createdAt > lifetime) return moveToDm(parts, ref, message);
    const id = await parts.editOriginal(ref, message);
    return id ? { ...ref, messageId: id } : ref;
  }

  function surfaceFor(parts: SurfaceParts): LiveSurface<MessageRef, DiscordMessage> {
    return {
      edit: (frame, _index, state) => send(parts, state.message!, parts.render(frame.blocks)),
      complete: () => parts.complete(),
      async finish(final, state) {
        state.message = await send(parts, state.message!, final);
      },
      // Past the token's lifetime this lands in a DM: the reply cannot be edited any more.
      async interrupted(blocks, state) {
        await send(parts, state.message!, { ...parts.render(blocks), components: [] });
      },
      // Discord's REST client already waits out 429s; a lost edit is replaced by the next frame.
      classify: (error) =>
        error instanceof NoWebhook ||
        (error instanceof DiscordAPIError && typeof error.code === 'number' && GONE_CODES.has(error.code))
          ? { kind: 'permanent', reason: 'message_gone' }
          : { kind: 'transient' },
    };
  }

  /** Edits the reply through the interaction webhook, as `interaction.editReply` would, from any replica. */
  async function editThroughWebhook(ref: MessageRef, message: DiscordMessage): Promise<string | undefined> {
    if (!ref.webhook || now() - ref.createdAt >= TOKEN_VALID_MS) throw new NoWebhook();
    const { applicationId, interactionToken } = ref.webhook;
    const edited = await rest.patch(Routes.webhookMessage(applicationId, interactionToken, '@original'), {
      body: withoutFiles(message),
      auth: false,
    });
    return messageIdSchema.safeParse(edited).data?.id;
  }

  return { surfaceFor, editThroughWebhook };
}

/** Attachments are never part of a session's frames; a REST body carries JSON only. */
const withoutFiles = ({ files: _files, ...body }: DiscordMessage): DiscordMessage => body;
