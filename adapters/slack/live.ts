import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { LiveBudget, LiveSessionStore, LiveSurface } from '../../src/core/ports.js';
import { LiveSessions, type LiveOutcome, type LiveStats } from '../../src/core/ports.js';
import { localBudgets, RateLimiter, type RateBudgets } from '../../src/core/ports.js';
import { actorSchema, type Actor, type CoreInput, type Reply, type Sequence } from '../../src/core/ports.js';
import { renderBlocks, renderMessage, type SlackMessage } from './render.js';
import { classifySlackError } from './slack-api.js';

/**
 * Live guided sessions in Slack: the core's live-session engine configured with one DM message per session,
 * edited with chat.update per phase. chat.update is rate tier 3 (about 50 calls a minute per workspace), and a
 * session edits every few seconds, so a workspace only fits a handful of live sessions at once. Each workspace
 * gets a budget; sessions share it fairly, skip phases when it is tight, fall back to the static version when
 * it is very tight, and the final message of every session is always delivered (it waits for budget instead
 * of being skipped).
 */

const WINDOW_MS = 60_000;
/** Below this many updates a minute a session is not "live" any more: show the static version instead. */
const MIN_LIVE_UPDATES_PER_MINUTE = 4;
const FINAL_ATTEMPTS = 6;
/** Frames due at the same moment a budget shared by replicas lets through at once (see slackUpdateBudget). */
const SIMULTANEOUS_FRAMES = 6;

interface SlackBudgetOptions {
  perMinute: number;
  timeScale: number;
  now: () => number;
  budgets: RateBudgets;
}

/**
 * chat.update calls per workspace per minute, with a reserve only final messages may use (so sessions can
 * always finish), a fair share per session, and a pause after a 429. The workspace's count is a RateBudget,
 * shared by every replica when they run on one PostgreSQL; a session's share stays in this process (one
 * replica plays it).
 */
function slackUpdateBudget(options: SlackBudgetOptions): LiveBudget {
  const { perMinute, timeScale, now } = options;
  const reserve = Math.max(1, Math.ceil(perMinute * 0.2));
  // A shared bucket holds the reserve plus room for the frames of several sessions due at the same moment, and
  // refills the rest: 45 - 9 - 6 = 30 a minute, two sessions at full pace (npm run bench -- live --replicas 2).
  const workspaces = options.budgets({
    name: 'slack:chat.update',
    limit: perMinute,
    windowMs: WINDOW_MS,
    burst: Math.min(perMinute - 1, reserve + SIMULTANEOUS_FRAMES),
  });
  const sessions = new RateLimiter({ limit: perMinute, windowMs: WINDOW_MS, now });
  const share = (peers: number) => (perMinute - reserve) / Math.max(1, peers);
  return {
    // Showing fewer than half the phases would mislead more than it guides (a stale "breathe in"): go static.
    prefersStatic: (session, peers) =>
      share(peers) < Math.max(MIN_LIVE_UPDATES_PER_MINUTE, wantedPerMinute(session.sequence, timeScale) / 2),
    async takeFrame(session, peers) {
      const live = session.mode === 'live';
      if (live && sessions.used(session.sessionId) >= share(peers)) return false;
      if ((await workspaces.take(session.scope ?? '', { keep: reserve })).granted === 0) return false;
      if (live) sessions.tryTake(session.sessionId);
      return true;
    },
    async takeFinal(session) {
      const grant = await workspaces.take(session.scope ?? '');
      return grant.granted > 0 ? 0 : Math.max(50, grant.waitMs);
    },
    pause: (session, ms) => workspaces.pause(session.scope ?? '', ms),
  };
}

/** How many updates a minute the sequence would need to show every phase. */
function wantedPerMinute(sequence: Sequence, timeScale: number): number {
  const total = sequence.frames.reduce((sum, f) => sum + f.ms, 0) * timeScale;
  return total > 0 ? (sequence.frames.length * WINDOW_MS) / total : 0;
}

export interface LiveMessageApi {
  post(message: SlackMessage): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
}

interface LiveStart {
  workspace: string;
  user: string;
  sequence: Sequence;
  api: LiveMessageApi;
  /** Play on this message (a button on it asked for another round) instead of posting a new one. */
  existing?: { channel: string; ts: string } | undefined;
  /** The message the session ends with: the core's answer to `onComplete`, or the static version. */
  finish(): Promise<SlackMessage>;
  /** Stored with the session, so another replica can end it the same way (see SharedSessions). */
  context?: SlackSessionContext | undefined;
}

/** What another replica needs to finish a Slack session: who to answer as, and the summary without onComplete. */
const slackSessionContext = z.object({ actor: actorSchema, summary: z.string().max(3000) });
export type SlackSessionContext = z.infer<typeof slackSessionContext>;

const messageRefSchema = z.object({ channel: z.string().min(1), ts: z.string().min(1) });

/** The message a session ends with: the core's answer to its completion, or its written-out version. */
export async function completionMessage(
  handle: (actor: Actor, input: CoreInput) => Promise<Reply>,
  context: SlackSessionContext,
  sequence: Sequence,
): Promise<SlackMessage> {
  if (!sequence.onComplete)
    return { text: context.summary.slice(0, 2000), blocks: renderBlocks(sequence.staticBlocks, []) };
  return renderMessage(await handle(context.actor, { kind: 'action', ...sequence.onComplete }));
}

/**
 * Sessions kept in the database so several replicas share them: a Stop on any replica reaches the one playing
 * it, and another replica carries a session on when its player goes away (see src/core/live-sessions.ts).
 */
export interface SharedSessions {
  store: LiveSessionStore;
  /** The Web API for a workspace, from its stored token (null: no longer installed). */
  apiFor(workspace: string): Promise<LiveMessageApi | null>;
  handle(actor: Actor, input: CoreInput): Promise<Reply>;
  /** How often to look for sessions whose player went away (ms). */
  sweepMs?: number;
}

export interface SlackLiveOptions {
  log: Logger;
  updatesPerMinute?: number;
  /** Where the per-workspace count is kept: in this process by default; the app shares one in PostgreSQL. */
  budgets?: RateBudgets | undefined;
  timeScale?: number;
  /** Clock and timers: real ones by default; a simulation (bench/live-budget.ts) passes virtual ones. */
  now?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  shared?: SharedSessions | undefined;
}

interface MessageRef {
  channel: string;
  ts: string;
}

export interface SlackLiveSessions {
  readonly stats: LiveStats;
  /** Sessions not yet over in this workspace. */
  active(workspace: string): number;
  isLiveMessage(channel: string, ts: string): boolean;
  /**
   * Stops the session whose message carried a pressed button (Stop, or anything else on it), here or on the
   * replica playing it; resolves once it has stopped, so the press's answer lands after its last frame.
   */
  stopByMessage(channel: string, ts: string): Promise<boolean>;
  stopAll(): Promise<void>;
  /** Starts sharing sessions with other replicas (take-over, stops from elsewhere); nothing without `shared`. */
  share(): Promise<() => Promise<void>>;
  /** Shutdown: shared sessions are saved and released for another replica; without `shared`, stopAll. */
  handOver(): Promise<void>;
  /** Resolves once no session is playing or completing here. */
  idle(): Promise<void>;
  /**
   * Starts (or restarts: one live session per person) a session. `started`: its first message is out (what a work
   * slot waits for); `done`: its final message is shown.
   */
  start(request: LiveStart): { started: Promise<void>; done: Promise<LiveOutcome> };
}

export function createSlackLiveSessions(options: SlackLiveOptions): SlackLiveSessions {
  const now = options.now ?? Date.now;
  const timeScale = options.timeScale ?? 1;
  const engine = new LiveSessions<MessageRef, SlackMessage>({
    platform: 'slack',
    log: options.log,
    timeScale,
    budget: slackUpdateBudget({
      perMinute: options.updatesPerMinute ?? 45,
      timeScale,
      now,
      budgets: options.budgets ?? localBudgets(now),
    }),
    finalAttempts: FINAL_ATTEMPTS,
    now,
    setTimer: options.setTimer,
    clearTimer: options.clearTimer,
    store: options.shared?.store,
    messageKey: (ref) => `slack:${ref.channel}:${ref.ts}`,
  });
  const onMessage = (channel: string, ts: string) => (state: { message?: MessageRef | undefined }) =>
    state.message?.channel === channel && state.message.ts === ts;
  const shared = options.shared;
  /** Another replica's session, rebuilt from its stored state; null when it cannot be (it is then dropped). */
  const restore = (state: { message?: MessageRef | undefined; scope?: string | undefined; context?: unknown }) => {
    const context = slackSessionContext.safeParse(state.context);
    const ref = messageRefSchema.safeParse(state.message);
    if (!shared || !context.success || !ref.success || !state.scope) return null;
    const workspace = state.scope;
    const api: LiveMessageApi = {
      post: () => Promise.reject(new Error('a session taken over already has its message')),
      async update(channel, ts, message) {
        const found = await shared.apiFor(workspace);
        if (!found) throw new WorkspaceGone(workspace);
        await found.update(channel, ts, message);
      },
    };
    return surfaceFor(api, (sequence) => completionMessage(shared.handle, context.data, sequence));
  };
  return {
    stats: engine.stats,
    active: (workspace) => engine.count(workspace),
    isLiveMessage: (channel, ts) => engine.find(onMessage(channel, ts)).length > 0,
    stopByMessage: (channel, ts) => engine.stopMessage({ channel, ts }, onMessage(channel, ts)),
    stopAll: () => engine.stopAll(),
    share: () => engine.share(restore, shared?.sweepMs),
    handOver: () => engine.handOver(),
    idle: () => engine.idle(),
    start(request) {
      const session = engine.play(
        request.sequence,
        surfaceFor(request.api, () => request.finish()),
        { user: request.user, scope: request.workspace, message: request.existing, context: request.context },
      );
      return { started: session.started, done: session.done };
    },
  };
}

/** One session's message, edited through `api`; the frames carry the sequence's buttons (Stop). */
function surfaceFor(
  api: LiveMessageApi,
  finishWith: (sequence: Sequence) => Promise<SlackMessage>,
): LiveSurface<MessageRef, SlackMessage> {
  const message = (blocks: Sequence['staticBlocks'], sequence: Sequence): SlackMessage => ({
    text: 'Guided session in progress',
    blocks: renderBlocks(blocks, sequence.actions),
  });
  return {
    open: (frame, state) => api.post(message(frame.blocks, state.sequence)),
    async edit(frame, _index, state) {
      const ref = state.message!;
      await api.update(ref.channel, ref.ts, message(frame.blocks, state.sequence));
    },
    // Without a message (nothing was posted) there is nothing to end on.
    complete: (_onComplete, state) => (state.message ? finishWith(state.sequence) : null),
    async finish(final, state) {
      const ref = state.message!;
      await api.update(ref.channel, ref.ts, final);
    },
    async interrupted(blocks, state) {
      const ref = state.message!;
      await api.update(ref.channel, ref.ts, { text: 'Guided session interrupted', blocks: renderBlocks(blocks, []) });
    },
    classify: (error) =>
      error instanceof WorkspaceGone ? { kind: 'permanent', reason: 'not_installed' } : classifySlackError(error),
  };
}

/** A session taken over for a workspace that has no token any more: nothing can edit its message. */
class WorkspaceGone extends Error {
  constructor(workspace: string) {
    super(`no Slack token for workspace ${workspace}`);
  }
}
