import { randomInt } from 'node:crypto';
import pg from 'pg';

/**
 * Who holds a claim, and whether that holder still runs. A delivery claimed by a live scheduler is
 * in flight and must be left alone; one whose holder died (kill -9, crash) is reconciled on the platform
 * before anything is resent.
 */
export interface SchedulerInstance {
  readonly id: number;
  isAlive(holder: number): Promise<boolean>;
  close(): Promise<void>;
}

/** First key of the advisory lock each scheduler holds for its lifetime ("bc"). */
const LOCK_CLASS = 0x6263;

function newInstanceId(): number {
  return randomInt(1, 2 ** 31 - 1);
}

/**
 * PostgreSQL: each scheduler holds a session advisory lock (LOCK_CLASS, id) on a connection of its own.
 * The server drops the lock the moment the process dies and its socket closes, so "is the lock held" is
 * an exact liveness test shared by every replica, with no lease timeout to tune.
 */
export async function postgresInstance(url: string, id = newInstanceId()): Promise<SchedulerInstance> {
  // A lost lock connection means others may take our claims over: never crash on it, but stop claiming (see scheduler).
  let lost = false;
  const connect = async () => {
    const next = new pg.Client({ connectionString: url });
    // Only the connection currently holding the lock counts: a replaced one erroring late must not flag us lost.
    next.on('error', () => {
      if (client === next) lost = true;
    });
    await next.connect();
    return next;
  };
  let client!: pg.Client;
  client = await connect();
  await client.query('select pg_advisory_lock($1, $2)', [LOCK_CLASS, id]);
  /**
   * After a database outage: reconnect and take the same lock back, without waiting. Claims we held may have
   * been taken over (compare-and-set) by another replica meanwhile; if the lock is somehow still held we stay
   * "not alive" and try again next time. So the scheduler resumes by itself once the database is back.
   */
  const recover = async (): Promise<boolean> => {
    let next: pg.Client | undefined;
    try {
      await client.end().catch(() => undefined);
      lost = false;
      next = await connect();
      const got = await next.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LOCK_CLASS, id]);
      if (got.rows[0]?.ok !== true) throw new Error('liveness lock still held');
      client = next;
      return true;
    } catch {
      lost = true;
      await next?.end().catch(() => undefined);
      return false;
    }
  };
  return {
    id,
    async isAlive(holder) {
      if (lost && !(await recover())) {
        if (holder === id) return false;
        throw new Error('scheduler liveness connection is down');
      }
      if (holder === id) return true;
      const result = await client.query<{ alive: boolean }>(
        `select exists (
           select 1 from pg_locks
           where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())
             and classid = $1::int::oid and objid = $2::int::oid and objsubid = 2 and granted
         ) as alive`,
        [LOCK_CLASS, holder],
      );
      return result.rows[0]?.alive === true;
    },
    async close() {
      if (!lost) await client.end().catch(() => undefined);
    },
  };
}

/** Embedded PGlite is opened by one process only: any holder but ourselves is gone. */
export function soloInstance(id = newInstanceId()): SchedulerInstance {
  return { id, isAlive: async (holder) => holder === id, close: async () => undefined };
}
