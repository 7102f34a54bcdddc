import type { APIEmbed, REST } from 'discord.js';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { LiveBudget, LiveSessionStore } from '../../src/core/ports.js';
import { LiveSessions, type LiveStats } from '../../src/core/ports.js';
import { RateLimiter } from '../../src/core/ports.js';
import {
  actorSchema,
  type Actor,
  type Block,
  type CoreInput,
  type Reply,
  type Sequence,
} from '../../src/core/ports.js';
import type { ActionRefs, MessageContext, RefOwner } from './custom-id.js';
import { createLiveMessages, messageRefSchema, snowflake, type MessageRef } from './live-message.js';
import { renderMessage, sessionEmbedsAfter, type DiscordMessage } from './render.js';

/**
 * Guided sessions on Discord: the core's live-session engine configured to edit the reply to the interaction
 * frame by frame through the interaction webhook. Its token lasts 15 minutes, so a longer session moves to a
 * regular DM message and edits that.
 *
 * Under load it degrades like Slack: edits share one budget (well under the 50 requests/s global limit); a
 * frame that finds no budget is skipped (the next one replaces it anyway), an edit still in flight is never
 * queued behind (only the newest frame is sent), and above `maxLive` concurrent sessions new ones get the
 * static version (the whole pattern written out) instead of live updates.
 *
 * With `shared` (PostgreSQL, several replicas) a session is kept in `live_sessions` like Slack's: a Stop on any
 * replica reaches the one playing it, SIGTERM hands it over, and another replica carries it on when its player
 * dies. Editing the reply from another replica needs the interaction's token, so it is stored with the session.
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
  /** Sessions kept in the database and shared with the other replicas; memory only without it. */
  shared?: SharedDiscordSessions | undefined;
  /** How long past its next frame a dead player's lease lasts (ms; the engine's default otherwise). */
  leaseGraceMs?: number;
  /** A session taken over whose frame was due longer ago than this is ended with a message (ms). */
  staleAfterMs?: number;
}

/** What another replica's session needs here: the store, the core (its completion) and the button references. */
interface SharedDiscordSessions {
  store: LiveSessionStore;
  handle(actor: Actor, input: CoreInput): Promise<Reply>;
  refs: ActionRefs;
  /** How often to look for sessions whose player went away (ms). */
  sweepMs?: number;
}

type Rows = DiscordMessage['components'];

/** What is stored with a session so that any replica renders its frames and its ending the same way. */
export interface DiscordSessionContext {
  /** Who to answer the completion as. */
  actor: Actor;
  /** The routine's intro, rendered once (cautions included), shown above every frame. */
  intro: APIEmbed | null;
  /** The session's buttons (Stop), as rendered when it started: their custom ids work on any replica. */
  components: Rows;
  /** How the completion's buttons are encoded (in DMs: which guild they are about; whose references). */
  encoding: { ctx: MessageContext; owner?: RefOwner | undefined };
}

export interface PlayRequest {
  sequence: Sequence;
  /** From canPlayLive() when the first frame (or the static version) was shown. */
  live: boolean;
  userId: string;
  interactionId: string;
  /** When the interaction was created (its token's clock). */
  createdAt: number;
  /** The reply's message id when it is known from the start (a button's message, a deferred reply). */
  messageId?: string | undefined;
  /** The interaction's webhook: stored with the session (only with `shared`) so another replica can edit the reply. */
  applicationId?: string | undefined;
  interactionToken?: string | undefined;
  context: DiscordSessionContext;
  render(blocks: Block[]): DiscordMessage;
  /** Edits the interaction's original reply; returns its message id when Discord says. */
  editOriginal(message: DiscordMessage): Promise<string | undefined>;
  /** Sends the core the sequence's onComplete and returns what to show at the end (null: leave as is). */
  complete(): Promise<DiscordMessage | null>;
}

/** Only the outline is checked on the way back: these were rendered here, and Discord validates what it gets. */
const embedOutline = z.looseObject({ title: z.string().optional(), description: z.string().optional() });
const rowOutline = z.looseObject({ type: z.number().int(), components: z.array(z.looseObject({ type: z.number() })) });
const sessionContextSchema = z.object({
  actor: actorSchema,
  intro: z.custom<APIEmbed>((v) => embedOutline.safeParse(v).success).nullable(),
  components: z.array(z.custom<Rows[number]>((v) => rowOutline.safeParse(v).success)).max(5),
  encoding: z.object({
    ctx: z.object({ guildId: snowflake.optional(), deliveryId: z.number().int().nonnegative().optional() }),
    owner: z.object({ workspaceExternalId: z.string(), userId: z.string() }).optional(),
  }),
});

/** A frame of the session: its intro above the frame, its buttons below. */
export const renderFrame = (context: DiscordSessionContext, blocks: readonly Block[]): DiscordMessage => ({
  embeds: sessionEmbedsAfter(context.intro, blocks),
  components: context.components,
});

/** The message a session ends with: the core's answer to its completion, or the last frame without buttons. */
export async function completionMessage(
  handle: (actor: Actor, input: CoreInput) => Promise<Reply>,
  refs: ActionRefs,
  context: DiscordSessionContext,
  sequence: Sequence,
): Promise<DiscordMessage> {
  if (!sequence.onComplete)
    return { ...renderFrame(context, sequence.frames.at(-1)?.blocks ?? sequence.staticBlocks), components: [] };
  const done = await handle(context.actor, { kind: 'action', ...sequence.onComplete });
  const encoding = { ctx: context.encoding.ctx, refs, owner: context.encoding.owner };
  const { dropped: _dropped, flags: _flags, ...body } = renderMessage(done, encoding);
  // Long button values must be stored before the message that carries them is shown.
  await refs.flush();
  return body;
}

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
   * Stops whatever session a press on this message belongs to, here or (shared) on the replica playing it;
   * resolves once its last edit has landed, so the press's own answer is not overwritten by a late frame.
   */
  stopFor(press: {
    userId: string;
    messageId?: string | undefined;
    interactionId?: string | undefined;
  }): Promise<boolean>;
  stopAll(): void;
  idle(): Promise<void>;
  /** Starts sharing sessions with other replicas (take-over, stops from elsewhere); nothing without `shared`. */
  share(): Promise<() => Promise<void>>;
  /** Shutdown: shared sessions are saved and released for another replica; without `shared`, all stop. */
  handOver(): Promise<void>;
  /** Plays a sequence whose first frame (or, not live, its static version) the adapter has already shown. */
  play(request: PlayRequest): void;
}

export function createDiscordLiveSessions(options: LiveOptions): DiscordLiveSessions {
  const { rest, log, shared } = options;
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
    store: shared?.store,
    // One name per message for presses on any replica: the DM message, the reply's id when known at the start,
    // else the interaction (a press on a slash command's reply carries it as its interaction metadata).
    messageKey: (ref) =>
      ref.dm
        ? `discord:m:${ref.dm.messageId}`
        : ref.originalId
          ? `discord:m:${ref.originalId}`
          : `discord:i:${ref.interactionId}`,
    leaseGraceMs: options.leaseGraceMs,
    staleAfterMs: options.staleAfterMs,
  });
  const stats = Object.assign(engine.stats, { movedToDm: 0 });

  const { surfaceFor, editThroughWebhook } = createLiveMessages({ rest, log, now, lifetime, stats });

  /** Another replica's session, rebuilt from its stored state; null when it cannot be (it is then dropped). */
  const restore = (state: { message?: unknown; context?: unknown; user?: string | undefined; sequence: Sequence }) => {
    const ref = messageRefSchema.safeParse(state.message);
    const context = sessionContextSchema.safeParse(state.context);
    if (!shared || !ref.success || !context.success || !state.user) return null;
    const stored = context.data;
    return surfaceFor({
      userId: state.user,
      render: (blocks) => renderFrame(stored, blocks),
      editOriginal: editThroughWebhook,
      complete: () => completionMessage(shared.handle, shared.refs, stored, state.sequence),
    });
  };

  const byUserAndMessage =
    (press: { userId: string; messageId?: string | undefined; interactionId?: string | undefined }) =>
    (state: { user?: string | undefined; message?: MessageRef | undefined }) =>
      state.user === press.userId &&
      ((press.messageId !== undefined &&
        (state.message?.dm?.messageId ?? state.message?.messageId) === press.messageId) ||
        (press.interactionId !== undefined && state.message?.interactionId === press.interactionId));

  return {
    stats,
    get active() {
      return engine.size;
    },
    canPlayLive: () => engine.size < (options.maxLive ?? 100),
    async stopFor(press) {
      const match = byUserAndMessage(press);
      // Here first; then the store by the message's id, then by the interaction the message answered.
      const keys: MessageRef[] = [
        ...(press.messageId ? [{ interactionId: '', createdAt: 0, originalId: press.messageId }] : []),
        ...(press.interactionId ? [{ interactionId: press.interactionId, createdAt: 0 }] : []),
      ];
      if (keys.length === 0) {
        const stopped = engine.stopWhere(match);
        await Promise.all(stopped.map((s) => s.done));
        return stopped.length > 0;
      }
      for (const key of keys) if (await engine.stopMessage(key, match)) return true;
      return false;
    },
    stopAll: () => void engine.stopAll(),
    idle: () => engine.idle(),
    share: () => engine.share(restore, shared?.sweepMs),
    handOver: () => engine.handOver(),
    play(request) {
      if (!request.live)
        log.info({ event: 'discord.live_static', active: engine.size }, 'too many live sessions: static version');
      const webhook =
        shared && request.applicationId && request.interactionToken
          ? { applicationId: request.applicationId, interactionToken: request.interactionToken }
          : undefined;
      const message: MessageRef = {
        interactionId: request.interactionId,
        createdAt: request.createdAt,
        ...(request.messageId ? { originalId: request.messageId, messageId: request.messageId } : {}),
        ...(webhook ? { webhook } : {}),
      };
      engine.play(
        request.sequence,
        surfaceFor({
          userId: request.userId,
          render: (blocks) => request.render([...blocks]),
          editOriginal: (_ref, body) => request.editOriginal(body),
          complete: () => request.complete(),
        }),
        {
          user: request.userId,
          message,
          mode: request.live ? 'live' : 'static',
          shown: true,
          ...(shared ? { context: request.context } : {}),
        },
      );
    },
  };
}
