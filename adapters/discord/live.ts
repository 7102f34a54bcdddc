import { Routes, type REST } from 'discord.js';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { LiveBudget } from '../../src/core/ports.js';
import { LiveSessions, type LiveStats } from '../../src/core/ports.js';
import { RateLimiter } from '../../src/core/ports.js';
import type { Block, Sequence } from '../../src/core/ports.js';
import type { DiscordMessage } from './render.js';

/**
 * Guided sessions on Discord: the core's live-session engine configured to edit the reply to the interaction
 * frame by frame through the interaction webhook. Its token lasts 15 minutes, so a longer session moves to a
 * regular DM message and edits that.
 *
 * Under load it degrades like Slack: edits share one budget (well under the 50 requests/s global limit); a
 * frame that finds no budget is skipped (the next one replaces it anyway), an edit still in flight is never
 * queued behind (only the newest frame is sent), and above `maxLive` concurrent sessions new ones get the
 * static version (the whole pattern written out) instead of live updates.
 */

export interface LiveOptions {
  rest: REST;
  log: Logger;
  timeScale?: number;
  now?: () => number;
  /** Switch to a regular message this long after the interaction (tokens last 15 minutes). */
  tokenLifetimeMs?: number;
  maxLive?: number;
  editsPerSecond?: number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface PlayRequest {
  sequence: Sequence;
  /** From canPlayLive() when the first frame (or the static version) was shown. */
  live: boolean;
  userId: string;
  interactionId: string;
  /** When the interaction was created (its token's clock). */
  createdAt: number;
  render(blocks: Block[]): DiscordMessage;
  /** Edits the interaction's original reply; returns its message id when Discord says. */
  editOriginal(message: DiscordMessage): Promise<string | undefined>;
  /** Sends the core the sequence's onComplete and returns what to show at the end (null: leave as is). */
  complete(): Promise<DiscordMessage | null>;
}

/** Where the session's message is: the interaction's reply, or (past the token's lifetime) a DM message. */
interface MessageRef {
  interactionId: string;
  messageId?: string | undefined;
  dm?: { channelId: string; messageId: string } | undefined;
}

const messageIdSchema = z.looseObject({ id: z.string() });

/** One window of edits for the whole bot; Discord's REST client itself queues on 429s, so pauses are rare. */
function discordEditBudget(editsPerSecond: number, now: () => number): LiveBudget {
  const edits = new RateLimiter({ limit: editsPerSecond, windowMs: 1000, now });
  return {
    takeFrame: () => edits.tryTake('edits'),
    // The final message is one edit per session and must land: it is not held back.
    takeFinal: () => 0,
    pause: (_session, ms) => edits.pause('edits', ms),
  };
}

export interface DiscordLiveSessions {
  readonly stats: LiveStats & { movedToDm: number };
  /** Sessions not yet over. */
  readonly active: number;
  /** Whether a new session gets live updates; above `maxLive` it gets the static version instead. */
  canPlayLive(): boolean;
  /**
   * Stops whatever session a press on this message belongs to; resolves once its last edit has landed, so the
   * press's own answer is not overwritten by a late frame.
   */
  stopFor(press: {
    userId: string;
    messageId?: string | undefined;
    interactionId?: string | undefined;
  }): Promise<boolean>;
  stopAll(): void;
  idle(): Promise<void>;
  /** Plays a sequence whose first frame (or, not live, its static version) the adapter has already shown. */
  play(request: PlayRequest): void;
}

export function createDiscordLiveSessions(options: LiveOptions): DiscordLiveSessions {
  const { rest, log } = options;
  const now = options.now ?? Date.now;
  const lifetime = options.tokenLifetimeMs ?? 14 * 60 * 1000;
  const engine = new LiveSessions<MessageRef, DiscordMessage>({
    platform: 'discord',
    log,
    timeScale: options.timeScale ?? 1,
    budget: discordEditBudget(options.editsPerSecond ?? 40, now),
    now,
    setTimer: options.setTimer,
    clearTimer: options.clearTimer,
  });
  const stats = Object.assign(engine.stats, { movedToDm: 0 });

  async function moveToDm(request: PlayRequest, ref: MessageRef, message: DiscordMessage): Promise<MessageRef> {
    const channel = messageIdSchema.parse(
      await rest.post(Routes.userChannels(), { body: { recipient_id: request.userId } }),
    );
    const posted = messageIdSchema.parse(await rest.post(Routes.channelMessages(channel.id), { body: message }));
    stats.movedToDm += 1;
    await request.editOriginal({
      content: 'This session continues in your direct messages with Backcare.',
      embeds: [],
      components: [],
    });
    return { ...ref, dm: { channelId: channel.id, messageId: posted.id } };
  }

  /** Edits wherever the message is now; returns where it is after. */
  async function send(request: PlayRequest, ref: MessageRef, message: DiscordMessage): Promise<MessageRef> {
    if (ref.dm) {
      await rest.patch(Routes.channelMessage(ref.dm.channelId, ref.dm.messageId), { body: message });
      return ref;
    }
    if (now() - request.createdAt > lifetime) return moveToDm(request, ref, message);
    const id = await request.editOriginal(message);
    return id ? { ...ref, messageId: id } : ref;
  }

  return {
    stats,
    get active() {
      return engine.size;
    },
    canPlayLive: () => engine.size < (options.maxLive ?? 100),
    async stopFor(press) {
      const stopped = engine.stopWhere(
        (state) =>
          state.user === press.userId &&
          ((press.messageId !== undefined &&
            (state.message?.dm?.messageId ?? state.message?.messageId) === press.messageId) ||
            (press.interactionId !== undefined && state.message?.interactionId === press.interactionId)),
      );
      await Promise.all(stopped.map((s) => s.done));
      return stopped.length > 0;
    },
    stopAll: () => void engine.stopAll(),
    idle: () => engine.idle(),
    play(request) {
      if (!request.live)
        log.info({ event: 'discord.live_static', active: engine.size }, 'too many live sessions: static version');
      engine.play(
        request.sequence,
        {
          edit: (frame, _index, state) => send(request, state.message!, request.render(frame.blocks)),
          complete: () => request.complete(),
          async finish(final, state) {
            state.message = await send(request, state.message!, final);
          },
          // Discord's REST client already waits out 429s; a lost edit is replaced by the next frame.
          classify: () => ({ kind: 'transient' }),
        },
        {
          user: request.userId,
          message: { interactionId: request.interactionId },
          mode: request.live ? 'live' : 'static',
          shown: true,
        },
      );
    },
  };
}
