import type { Logger } from '../../src/config/logger.js';
import type { LiveBudget } from '../../src/core/ports.js';
import { LiveSessions, type LiveOutcome, type LiveStats } from '../../src/core/ports.js';
import { localBudgets, RateLimiter, type RateBudgets } from '../../src/core/ports.js';
import type { Sequence } from '../../src/core/ports.js';
import { renderBlocks, type SlackMessage } from './render.js';
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
  /** Stops the session whose message carried a pressed button (Stop, or anything else on it). */
  stopByMessage(channel: string, ts: string): boolean;
  stopAll(): Promise<void>;
  /** Starts (or restarts: one live session per person) a session; resolves once its final message is shown. */
  start(request: LiveStart): Promise<LiveOutcome>;
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
  });
  const onMessage = (channel: string, ts: string) => (state: { message?: MessageRef | undefined }) =>
    state.message?.channel === channel && state.message.ts === ts;
  return {
    stats: engine.stats,
    active: (workspace) => engine.count(workspace),
    isLiveMessage: (channel, ts) => engine.find(onMessage(channel, ts)).length > 0,
    stopByMessage: (channel, ts) => engine.stopWhere(onMessage(channel, ts)).length > 0,
    stopAll: () => engine.stopAll(),
    start(request) {
      const { sequence, api } = request;
      const message = (blocks: Sequence['staticBlocks']): SlackMessage => ({
        text: 'Guided session in progress',
        blocks: renderBlocks(blocks, sequence.actions),
      });
      const session = engine.play(
        sequence,
        {
          open: (frame) => api.post(message(frame.blocks)),
          async edit(frame, _index, state) {
            const ref = state.message!;
            await api.update(ref.channel, ref.ts, message(frame.blocks));
          },
          // Without a message (nothing was posted) there is nothing to end on.
          complete: (_onComplete, state) => (state.message ? request.finish() : null),
          async finish(final, state) {
            const ref = state.message!;
            await api.update(ref.channel, ref.ts, final);
          },
          classify: classifySlackError,
        },
        { user: request.user, scope: request.workspace, message: request.existing },
      );
      return session.done;
    },
  };
}
