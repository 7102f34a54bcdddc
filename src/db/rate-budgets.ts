import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Logger } from '../config/logger.js';
import type { BudgetSpec, Grant, RateBudget, RateBudgets, TakeRequest } from '../core/rate-budget.js';
import { queryRows, type Db } from './client.js';

/** When the database cannot be asked: grant nothing and ask again after this long. */
const UNREACHABLE_RETRY_MS = 1000;

const takeRow = z.object({
  granted: z.coerce.number().int().min(0),
  tokens: z.coerce.number(),
  paused_ms: z.coerce.number(),
});

export interface PostgresBudgetsOptions {
  log?: Logger;
  /** Tests and the live bench's virtual clock; by default the database's own clock (one clock for every replica). */
  now?: () => number;
}

/**
 * Budgets shared by every replica on one PostgreSQL: a token bucket per key in `rate_budgets`. A take is ONE
 * statement (an upsert holding the key's row lock): it refills the bucket by the time elapsed on the database
 * clock, grants what it can without going below `keep`, and returns the grant, so two replicas can never both
 * spend the same token. The bucket holds at most `burst` tokens and refills `limit - burst` per window, so any
 * window of `windowMs` sees at most `limit` grants, whichever replicas asked.
 *
 * One statement per frame (not tokens leased in batches per process): a frame is due every few seconds per
 * session and at most `limit` a minute are granted per workspace, so the statement (well under a millisecond on
 * a local server, see `npm run bench -- live --replicas 2`) costs nothing next to the platform call it guards,
 * while a leased batch would let one replica hoard tokens the other could use and break the window bound if
 * spent late.
 */
export function postgresBudgets(db: Db, options: PostgresBudgetsOptions = {}): RateBudgets {
  return (spec) => postgresBudget(db, spec, options);
}

function postgresBudget(db: Db, spec: BudgetSpec, options: PostgresBudgetsOptions): RateBudget {
  if (!(spec.burst >= 1 && spec.burst < spec.limit))
    throw new Error(`rate budget ${spec.name}: burst must be from 1 to below limit`);
  const capacity = spec.burst;
  const perMs = (spec.limit - spec.burst) / spec.windowMs;
  const stored = (key: string) => `${spec.name}:${key}`;
  const clock = (): SQL =>
    options.now ? sql`${new Date(options.now()).toISOString()}::timestamptz` : sql`clock_timestamp()`;

  const unreachable = (event: string, key: string, error: unknown) =>
    options.log?.warn(
      { event, budget: spec.name, key, err: error },
      'shared rate budget unavailable; granting nothing',
    );

  async function take(key: string, request: TakeRequest = {}): Promise<Grant> {
    const count = Math.max(1, Math.floor(request.count ?? 1));
    const keep = Math.max(0, Math.floor(request.keep ?? 0));
    // A key seen for the first time starts full.
    const first = Math.max(0, Math.min(count, Math.floor(capacity - keep)));
    const elapsedMs = sql`greatest(0, extract(epoch from excluded.updated_at - b.updated_at)::float8 * 1000)`;
    const level = sql`least(${capacity}::float8, b.tokens + ${elapsedMs} * ${perMs}::float8)`;
    const grant = sql`case when b.paused_until > excluded.updated_at then 0
      else greatest(0, least(${count}::int, floor(${level} - ${keep}::int)))::int end`;
    try {
      const rows = await queryRows<unknown>(
        db,
        sql`insert into rate_budgets as b (key, tokens, granted, updated_at)
            values (${stored(key)}, ${capacity - first}::float8, ${first}::int, ${clock()})
            on conflict (key) do update set
              tokens = ${level} - ${grant},
              granted = ${grant},
              updated_at = greatest(b.updated_at, excluded.updated_at)
            returning b.granted, b.tokens,
              greatest(0, coalesce(extract(epoch from b.paused_until - b.updated_at)::float8 * 1000, 0)) as paused_ms`,
      );
      const row = takeRow.parse(rows[0]);
      if (row.granted >= count) return { granted: row.granted, waitMs: 0 };
      const missing = keep + 1 - row.tokens;
      const refillMs = missing > 0 ? Math.ceil(missing / perMs) : 0;
      return { granted: row.granted, waitMs: Math.max(1, Math.ceil(row.paused_ms), refillMs) };
    } catch (error) {
      unreachable('rate_budget.take_failed', key, error);
      return { granted: 0, waitMs: UNREACHABLE_RETRY_MS };
    }
  }

  async function pause(key: string, ms: number): Promise<void> {
    try {
      await db.execute(
        sql`insert into rate_budgets as b (key, tokens, updated_at, paused_until)
            values (${stored(key)}, ${capacity}::float8, ${clock()}, ${clock()} + ${Math.max(0, ms)}::float8 * interval '1 millisecond')
            on conflict (key) do update set paused_until = greatest(b.paused_until, excluded.paused_until)`,
      );
    } catch (error) {
      unreachable('rate_budget.pause_failed', key, error);
    }
  }

  return { take, pause };
}
