import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Queryable } from './client.js';
import { liveSessions } from './schema.js';

/** The channel a Stop pressed on one replica is announced on, to the replica playing the session. */
export const LIVE_STOP_CHANNEL = 'backcare_live_stop';

export interface LiveSessionWrite {
  sessionId: string;
  state: unknown;
  messageKey: string | null;
  leaseUntil: Date;
}

export interface ClaimedLiveSession {
  sessionId: string;
  sequence: unknown;
  state: unknown;
  leaseToken: string;
  stopRequested: boolean;
  /** When the row was last written (the player's last frame, or its release). */
  updatedAt: Date;
}

/**
 * A new session, or a new sequence for the same session id: the row is (re)written with a new lease. Whoever
 * held the previous lease finds it gone at its next frame and stops without editing again.
 */
export async function openLiveSession(
  db: Queryable,
  row: LiveSessionWrite & {
    platform: string;
    sequence: unknown;
    owner: string;
    holder: number | null;
    leaseToken: string;
    now: Date;
  },
): Promise<void> {
  const values = {
    sessionId: row.sessionId,
    platform: row.platform,
    sequence: row.sequence,
    state: row.state,
    messageKey: row.messageKey,
    owner: row.owner,
    holder: row.holder,
    leaseToken: row.leaseToken,
    leaseUntil: row.leaseUntil,
    stopRequested: false,
    updatedAt: row.now,
  };
  const { sessionId: _key, ...update } = values;
  await db.insert(liveSessions).values(values).onConflictDoUpdate({ target: liveSessions.sessionId, set: update });
}

/**
 * The holder's heartbeat at each frame: saves the state and extends the lease, only while the lease is still
 * its own. 'lost': another replica holds it now (or it was ended); 'stop': someone pressed Stop elsewhere.
 */
export async function renewLiveSession(
  db: Queryable,
  row: LiveSessionWrite & { leaseToken: string; now: Date },
): Promise<'ok' | 'stop' | 'lost'> {
  const renewed = await db
    .update(liveSessions)
    .set({ state: row.state, messageKey: row.messageKey, leaseUntil: row.leaseUntil, updatedAt: row.now })
    .where(and(eq(liveSessions.sessionId, row.sessionId), eq(liveSessions.leaseToken, row.leaseToken)))
    .returning({ stopRequested: liveSessions.stopRequested });
  if (renewed.length === 0) return 'lost';
  return renewed[0]!.stopRequested ? 'stop' : 'ok';
}

/** The session is over: its row goes, if the lease is still the caller's. */
export async function endLiveSession(db: Queryable, sessionId: string, leaseToken: string): Promise<void> {
  await db
    .delete(liveSessions)
    .where(and(eq(liveSessions.sessionId, sessionId), eq(liveSessions.leaseToken, leaseToken)));
}

/** Hand-over (shutdown): the state is saved and the lease given up, so another replica can claim it at once. */
export async function releaseLiveSession(
  db: Queryable,
  row: Omit<LiveSessionWrite, 'leaseUntil'> & { leaseToken: string; now: Date },
): Promise<boolean> {
  const released = await db
    .update(liveSessions)
    .set({
      state: row.state,
      messageKey: row.messageKey,
      owner: null,
      holder: null,
      leaseToken: null,
      leaseUntil: row.now,
      updatedAt: row.now,
    })
    .where(and(eq(liveSessions.sessionId, row.sessionId), eq(liveSessions.leaseToken, row.leaseToken)))
    .returning({ sessionId: liveSessions.sessionId });
  return released.length > 0;
}

const claimedRow = z.object({
  session_id: z.string(),
  sequence: z.unknown(),
  state: z.unknown(),
  lease_token: z.string(),
  stop_requested: z.boolean(),
  previous_update: z.union([z.date(), z.string()]).transform((v) => new Date(v)),
});

/** The liveness ids of the players holding sessions (by platform, or on one message), other than `except`. */
export async function liveSessionHolders(
  db: Queryable,
  which: { platform?: string; messageKey?: string; except: number | null; now: Date },
): Promise<number[]> {
  const rows = await queryRows<{ holder: number }>(
    db,
    sql`select distinct holder from live_sessions
        where holder is not null and holder is distinct from ${which.except}::int
          and lease_until > ${which.now.toISOString()}::timestamptz
          and (${which.platform ?? null}::text is null or platform = ${which.platform ?? null})
          and (${which.messageKey ?? null}::text is null or message_key = ${which.messageKey ?? null})`,
  );
  return rows.map((r) => Number(r.holder));
}

/** `holder = any(dead)`, written so that an empty list matches nothing on both drivers. */
const heldBy = (dead: readonly number[]) =>
  dead.length === 0
    ? sql`false`
    : sql`holder in (${sql.join(
        dead.map((d) => sql`${d}::int`),
        sql`, `,
      )})`;

/**
 * Takes over sessions of this platform whose lease ran out (the player released them, or died without a
 * liveness lock to say so) or whose player is known dead (`deadHolders`): each row goes to exactly one caller
 * (SKIP LOCKED; the check is repeated under the row lock), with a new lease token.
 */
export async function claimExpiredLiveSessions(
  db: Queryable,
  claim: {
    platform: string;
    owner: string;
    holder: number | null;
    deadHolders: readonly number[];
    now: Date;
    leaseUntil: Date;
    limit: number;
  },
): Promise<ClaimedLiveSession[]> {
  const rows = await queryRows<unknown>(
    db,
    sql`with due as (
          select session_id, updated_at from live_sessions
          where platform = ${claim.platform}
            and (lease_until <= ${claim.now.toISOString()}::timestamptz or ${heldBy(claim.deadHolders)})
          order by lease_until
          limit ${claim.limit}
          for update skip locked
        )
        update live_sessions s
        set owner = ${claim.owner}, holder = ${claim.holder}::int, lease_token = gen_random_uuid()::text,
            lease_until = ${claim.leaseUntil.toISOString()}::timestamptz, updated_at = ${claim.now.toISOString()}::timestamptz
        from due
        where s.session_id = due.session_id
        returning s.session_id, s.sequence, s.state, s.lease_token, s.stop_requested, due.updated_at as previous_update`,
  );
  return rows.map((raw) => {
    const row = claimedRow.parse(raw);
    return {
      sessionId: row.session_id,
      sequence: row.sequence,
      state: row.state,
      leaseToken: row.lease_token,
      stopRequested: row.stop_requested,
      updatedAt: row.previous_update,
    };
  });
}

/**
 * A Stop (or any press) on a session's message, on whichever replica received it. A session nobody holds (its
 * lease ran out, or its player is in `deadHolders`) is ended here and now; one that is held is flagged and its holder told on LIVE_STOP_CHANNEL
 * (it also sees the flag at its next frame). 'held': wait for the holder (see liveSessionStopPending).
 */
export async function requestLiveStop(
  db: Queryable,
  match: { messageKey: string; now: Date; deadHolders?: readonly number[] },
): Promise<{ outcome: 'none' | 'ended' | 'held'; sessionIds: string[] }> {
  const ended = await db
    .delete(liveSessions)
    .where(
      and(
        eq(liveSessions.messageKey, match.messageKey),
        sql`(${liveSessions.leaseUntil} <= ${match.now.toISOString()}::timestamptz or ${heldBy(match.deadHolders ?? [])})`,
      ),
    )
    .returning({ sessionId: liveSessions.sessionId });
  const flagged = await queryRows<{ session_id: string }>(
    db,
    sql`with flagged as (
          update live_sessions set stop_requested = true
          where message_key = ${match.messageKey}
          returning session_id
        )
        select session_id, pg_notify(${LIVE_STOP_CHANNEL}, session_id) from flagged`,
  );
  if (flagged.length > 0) return { outcome: 'held', sessionIds: flagged.map((r) => r.session_id) };
  if (ended.length > 0) return { outcome: 'ended', sessionIds: ended.map((r) => r.sessionId) };
  return { outcome: 'none', sessionIds: [] };
}

/** True while a requested stop has not been carried out (the row is still there, still flagged). */
export async function liveSessionStopPending(db: Queryable, sessionId: string): Promise<boolean> {
  const rows = await db
    .select({ sessionId: liveSessions.sessionId })
    .from(liveSessions)
    .where(and(eq(liveSessions.sessionId, sessionId), eq(liveSessions.stopRequested, true)));
  return rows.length > 0;
}
