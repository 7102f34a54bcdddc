import { Routes, type REST } from 'discord.js';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { Block, Sequence } from '../../src/core/reply.js';
import { playSequence } from '../../src/core/sequence-player.js';
import type { DiscordMessage } from './render.js';

/**
 * Guided sessions on Discord: the reply to the interaction is edited frame by frame through the interaction
 * webhook. Its token lasts 15 minutes, so a longer session moves to a regular DM message and edits that.
 *
 * Under load it degrades like the Slack adapter: edits share one budget (well under the 50 requests/s global
 * limit); a frame that finds no budget is skipped (the next one replaces it anyway), an edit still in flight
 * is never queued behind (only the newest frame is sent), and above `maxLive` concurrent sessions new ones
 * get the static version (the whole pattern written out) instead of live updates.
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

interface Session {
  sessionId: string;
  userId: string;
  interactionId: string;
  messageId?: string | undefined;
  controller: AbortController;
  done: Promise<void>;
}

const messageIdSchema = z.looseObject({ id: z.string() });

class EditBudget {
  private tokens: number;
  private last: number;
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = perSecond;
    this.last = now();
  }
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class LiveSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly budget: EditBudget;
  private readonly now: () => number;
  /** Counters for logs and tests. */
  readonly stats = { edits: 0, skipped: 0, staticStarts: 0, movedToDm: 0 };

  constructor(private readonly options: LiveOptions) {
    this.now = options.now ?? Date.now;
    this.budget = new EditBudget(options.editsPerSecond ?? 40, this.now);
  }

  get active(): number {
    return this.sessions.size;
  }

  /** Whether a new session gets live updates; above `maxLive` it gets the static version instead. */
  canPlayLive(): boolean {
    return this.sessions.size < (this.options.maxLive ?? 100);
  }

  /**
   * Stops whatever session a press on this message belongs to; resolves once its last edit has landed, so the
   * press's own answer is not overwritten by a late frame.
   */
  async stopFor(press: {
    userId: string;
    messageId?: string | undefined;
    interactionId?: string | undefined;
  }): Promise<boolean> {
    const stopped: Promise<void>[] = [];
    for (const session of this.sessions.values()) {
      if (session.userId !== press.userId) continue;
      const sameMessage = press.messageId !== undefined && session.messageId === press.messageId;
      const sameInteraction = press.interactionId !== undefined && session.interactionId === press.interactionId;
      if (sameMessage || sameInteraction) {
        session.controller.abort();
        this.sessions.delete(session.sessionId);
        stopped.push(session.done);
      }
    }
    await Promise.all(stopped);
    return stopped.length > 0;
  }

  stopAll(): void {
    for (const session of this.sessions.values()) session.controller.abort();
    this.sessions.clear();
  }

  async idle(): Promise<void> {
    while (this.sessions.size > 0) await Promise.all([...this.sessions.values()].map((s) => s.done));
  }

  /** Plays a sequence whose first frame (or, not live, its static version) the adapter has already shown. */
  play(request: PlayRequest): void {
    const { sequence } = request;
    // The core keeps sessionId stable per user: a new session replaces the one still playing.
    this.sessions.get(sequence.sessionId)?.controller.abort();
    const controller = new AbortController();
    const session: Session = {
      sessionId: sequence.sessionId,
      userId: request.userId,
      interactionId: request.interactionId,
      controller,
      done: Promise.resolve(),
    };
    this.sessions.set(sequence.sessionId, session);
    session.done = this.run(request, session, request.live)
      .catch((error: unknown) => {
        this.options.log.error({ event: 'discord.live_failed', err: error }, 'live session failed');
      })
      .finally(() => {
        if (this.sessions.get(sequence.sessionId) === session) this.sessions.delete(sequence.sessionId);
      });
  }

  private async run(request: PlayRequest, session: Session, live: boolean): Promise<void> {
    const { rest, log } = this.options;
    const lifetime = this.options.tokenLifetimeMs ?? 14 * 60 * 1000;
    let target: { kind: 'interaction' } | { kind: 'message'; channelId: string; messageId: string } = {
      kind: 'interaction',
    };
    let inFlight: Promise<void> | null = null;
    let pending: DiscordMessage | null = null;

    const moveToDm = async (message: DiscordMessage): Promise<void> => {
      const channel = messageIdSchema.parse(
        await rest.post(Routes.userChannels(), { body: { recipient_id: request.userId } }),
      );
      const posted = messageIdSchema.parse(await rest.post(Routes.channelMessages(channel.id), { body: message }));
      target = { kind: 'message', channelId: channel.id, messageId: posted.id };
      session.messageId = posted.id;
      this.stats.movedToDm++;
      await request.editOriginal({
        content: 'This session continues in your direct messages with Backcare.',
        embeds: [],
        components: [],
      });
    };

    const send = async (message: DiscordMessage): Promise<void> => {
      this.stats.edits++;
      if (target.kind === 'interaction' && this.now() - request.createdAt > lifetime) return moveToDm(message);
      if (target.kind === 'interaction') {
        const id = await request.editOriginal(message);
        if (id) session.messageId = id;
      } else {
        await rest.patch(Routes.channelMessage(target.channelId, target.messageId), { body: message });
      }
    };

    // Only the newest frame matters: while an edit is in flight the next one waits, frames in between are dropped.
    const show = (message: DiscordMessage): void => {
      if (inFlight) {
        if (pending) this.stats.skipped++;
        pending = message;
        return;
      }
      inFlight = send(message)
        .catch((error: unknown) => log.warn({ event: 'discord.live_edit_failed', err: error }, 'live edit failed'))
        .then(async () => {
          inFlight = null;
          const next = pending;
          pending = null;
          if (next && !session.controller.signal.aborted) show(next);
        });
    };

    const timing = {
      timeScale: this.options.timeScale ?? 1,
      signal: session.controller.signal,
      ...(this.options.setTimer ? { setTimer: this.options.setTimer } : {}),
      ...(this.options.clearTimer ? { clearTimer: this.options.clearTimer } : {}),
    };

    let outcome: 'completed' | 'stopped';
    if (live) {
      outcome = await playSequence(request.sequence, {
        ...timing,
        show: (frame, index) => {
          if (index === 0) return; // the adapter's response showed it
          if (!this.budget.take()) {
            this.stats.skipped++;
            return;
          }
          show(request.render(frame.blocks));
        },
      });
    } else {
      // Static version (already shown): wait out its length, then ask how it went.
      this.stats.staticStarts++;
      log.info({ event: 'discord.live_static', active: this.sessions.size }, 'too many live sessions: static version');
      const total = request.sequence.frames.reduce((ms, f) => ms + f.ms, 0);
      outcome = await playSequence({ frames: [{ blocks: [], ms: total }] }, { ...timing, show: () => undefined });
    }
    while (inFlight) await inFlight;
    if (outcome !== 'completed') return;
    const final = await request.complete();
    if (final)
      await send(final).catch((error: unknown) =>
        log.warn({ event: 'discord.live_edit_failed', err: error }, 'final edit failed'),
      );
  }
}
