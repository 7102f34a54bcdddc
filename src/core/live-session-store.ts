import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import {
  claimExpiredLiveSessions,
  endLiveSession,
  LIVE_STOP_CHANNEL,
  liveSessionHolders,
  liveSessionStopPending,
  openLiveSession,
  releaseLiveSession,
  renewLiveSession,
  requestLiveStop,
} from '../db/live-sessions.js';
import type { Listen, Unlisten } from '../db/listen.js';
import type { LiveSessionState } from './live-session-state.js';
import type { Block, Sequence } from './reply.js';

/** A session claimed from the store: its state as saved, and the lease that now makes this replica its player. */
export interface ClaimedSession {
  state: LiveSessionState;
  lease: string;
  stopRequested: boolean;
  /** When its previous player last wrote it. */
  savedAt: number;
}

/**
 * Where live sessions are kept so that they outlive the process playing them (several replicas, deploys). The
 * engine writes through it at the start, at every frame and at the end; a lease fences the one replica that
 * may edit a session's message. Without a store the engine keeps everything in memory (one process).
 */
export interface LiveSessionStore {
  /** This replica, as leases and logs name it. */
  readonly owner: string;
  /** Stores a new session (replacing one with the same id, wherever it plays); returns its lease. */
  open(state: LiveSessionState, messageKey: string | null, leaseUntil: number): Promise<string>;
  /** Saves the state and extends the lease; 'stop': a Stop was pressed elsewhere; 'lost': the lease is not ours. */
  renew(state: LiveSessionState, lease: string, messageKey: string | null, leaseUntil: number): Promise<RenewResult>;
  end(sessionId: string, lease: string): Promise<void>;
  /** Saves the state and gives the lease up so another replica claims it at once (hand-over at shutdown). */
  release(state: LiveSessionState, lease: string, messageKey: string | null): Promise<boolean>;
  /** Claims up to `limit` sessions whose lease ran out, each for exactly one replica. */
  claimExpired(limit: number, leaseUntil: number): Promise<ClaimedSession[]>;
  /**
   * A press on a session's message: ends it when nobody holds it, otherwise tells its holder and waits (up to
   * `waitMs`) until it has stopped, so the press's answer is not overwritten by a late frame.
   */
  requestStop(messageKey: string, waitMs: number): Promise<'none' | 'ended' | 'stopped' | 'timeout'>;
  /** Calls `handler` with the session id when a stop is requested on another replica (LISTEN), where supported. */
  onStopRequested(handler: (sessionId: string) => void): Promise<Unlisten>;
}

export type RenewResult = 'ok' | 'stop' | 'lost';

const blockSchema: z.ZodType<Block> = z.union([
  z.object({ type: z.enum(['header', 'text', 'caution', 'context']), text: z.string() }),
  z.object({ type: z.literal('list'), style: z.enum(['bullet', 'numbered']), items: z.array(z.string()) }),
  z.object({ type: z.literal('fields'), fields: z.array(z.object({ label: z.string(), value: z.string() })) }),
  z.object({ type: z.literal('divider') }),
]);

const actionSchema = z.union([
  z.object({
    type: z.literal('button'),
    actionId: z.string(),
    label: z.string(),
    value: z.string(),
    style: z.enum(['primary', 'danger']).optional(),
  }),
  z.object({
    type: z.literal('select'),
    actionId: z.string(),
    placeholder: z.string(),
    options: z.array(z.object({ label: z.string(), value: z.string() })),
  }),
]);

/** The stored sequence, checked when read back: a JSON column is only as trustworthy as its last writer. */
const sequenceSchema: z.ZodType<Sequence> = z.object({
  sessionId: z.string(),
  frames: z.array(z.object({ blocks: z.array(blockSchema), ms: z.number().nonnegative() })).min(1),
  staticBlocks: z.array(blockSchema),
  onComplete: z.object({ actionId: z.string(), value: z.string() }).optional(),
  actions: z.array(actionSchema),
});

/** Everything but the sequence; the message reference and the context are the adapter's to check. */
const progressSchema = z.object({
  user: z.string().optional(),
  scope: z.string().optional(),
  message: z.unknown().optional(),
  context: z.unknown().optional(),
  step: z.number().int().min(-1),
  nextFrameAt: z.number().nullable(),
  mode: z.enum(['live', 'static']),
  staticShown: z.boolean(),
});

function progressOf(state: LiveSessionState): z.input<typeof progressSchema> {
  const { sessionId: _id, sequence: _sequence, ...progress } = state;
  return progress;
}

/** Reads a stored session back; null when it does not parse (it is then ended, not played). */
function parseStoredSession(sessionId: string, sequence: unknown, state: unknown): LiveSessionState | null {
  const parsedSequence = sequenceSchema.safeParse(sequence);
  const parsedState = progressSchema.safeParse(state);
  if (!parsedSequence.success || !parsedState.success) return null;
  if (parsedSequence.data.sessionId !== sessionId) return null;
  const step = Math.min(parsedState.data.step, parsedSequence.data.frames.length - 1);
  return { sessionId, sequence: parsedSequence.data, ...parsedState.data, step };
}

const POLL_MS = 50;

/**
 * The store over the `live_sessions` table, for one platform (a replica takes over only sessions of the
 * platforms it runs). `listen` is PostgreSQL's LISTEN (node-postgres); without it (PGlite: one process), a
 * requested stop reaches the holder at its next frame, and a press on the holder itself stops it in memory.
 */
/**
 * Whether another replica still runs: its id is the liveness lock it holds for its lifetime (on PostgreSQL the
 * lock goes the moment the process dies). See src/jobs/instance.ts.
 */
export interface Liveness {
  readonly id: number;
  isAlive(holder: number): Promise<boolean>;
}

export function createLiveSessionStore(deps: {
  db: Db;
  platform: string;
  owner?: string;
  listen?: Listen | undefined;
  /** With it, a session whose player died is stopped or taken over at once, not when its lease runs out. */
  liveness?: Liveness | undefined;
  now?: () => number;
}): LiveSessionStore {
  const { db, platform, liveness } = deps;
  const holder = liveness?.id ?? null;
  /** Players of held sessions (on one message, or of this platform) that no longer run. */
  const deadHolders = async (which: { platform?: string; messageKey?: string }): Promise<number[]> => {
    if (!liveness) return [];
    const holders = await liveSessionHolders(db, { ...which, except: holder, now: at() });
    const alive = await Promise.all(holders.map((h) => liveness.isAlive(h).catch(() => true)));
    return holders.filter((_, i) => !alive[i]);
  };
  const owner = deps.owner ?? `${platform}-${randomUUID()}`;
  const now = deps.now ?? Date.now;
  const at = () => new Date(now());
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  return {
    owner,
    async open(state, messageKey, leaseUntil) {
      const lease = randomUUID();
      await openLiveSession(db, {
        sessionId: state.sessionId,
        platform,
        sequence: state.sequence,
        state: progressOf(state),
        messageKey,
        owner,
        holder,
        leaseToken: lease,
        leaseUntil: new Date(leaseUntil),
        now: at(),
      });
      return lease;
    },
    renew: (state, lease, messageKey, leaseUntil) =>
      renewLiveSession(db, {
        sessionId: state.sessionId,
        state: progressOf(state),
        messageKey,
        leaseToken: lease,
        leaseUntil: new Date(leaseUntil),
        now: at(),
      }),
    end: (sessionId, lease) => endLiveSession(db, sessionId, lease),
    release: (state, lease, messageKey) =>
      releaseLiveSession(db, {
        sessionId: state.sessionId,
        state: progressOf(state),
        messageKey,
        leaseToken: lease,
        now: at(),
      }),
    async claimExpired(limit, leaseUntil) {
      const rows = await claimExpiredLiveSessions(db, {
        platform,
        owner,
        holder,
        deadHolders: await deadHolders({ platform }),
        now: at(),
        leaseUntil: new Date(leaseUntil),
        limit,
      });
      const claimed: ClaimedSession[] = [];
      for (const row of rows) {
        const state = parseStoredSession(row.sessionId, row.sequence, row.state);
        // Unreadable: nobody can play it; it goes rather than being claimed again and again.
        if (!state) await endLiveSession(db, row.sessionId, row.leaseToken);
        else
          claimed.push({
            state,
            lease: row.leaseToken,
            stopRequested: row.stopRequested,
            savedAt: row.updatedAt.getTime(),
          });
      }
      return claimed;
    },
    async requestStop(messageKey, waitMs) {
      const dead = await deadHolders({ messageKey });
      const { outcome, sessionIds } = await requestLiveStop(db, { messageKey, now: at(), deadHolders: dead });
      if (outcome !== 'held') return outcome;
      const deadline = Date.now() + waitMs;
      for (const sessionId of sessionIds) {
        while (await liveSessionStopPending(db, sessionId)) {
          if (Date.now() >= deadline) return 'timeout';
          await sleep(POLL_MS);
        }
      }
      return 'stopped';
    },
    async onStopRequested(handler) {
      if (!deps.listen) return async () => undefined;
      return deps.listen(LIVE_STOP_CHANNEL, handler);
    },
  };
}
