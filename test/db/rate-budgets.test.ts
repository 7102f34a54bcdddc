import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type Database, type Db } from '../../src/db/client.js';
import { postgresBudgets } from '../../src/db/rate-budgets.js';
import type { BudgetSpec } from '../../src/core/rate-budget.js';
import { describeEachDatabase, testDatabaseUrl, type TestDriver } from '../support/db.js';

/** Slack's chat.update budget as the live sessions use it: 45 a minute, 10 at once, 35 a minute refilled. */
const updates: BudgetSpec = { name: 'slack:chat.update', limit: 45, windowMs: 60_000, burst: 10 };

/** The most grants inside any window of `windowMs` (half-open: a grant exactly one window later is the next one's). */
function peakInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < sorted.length; i += 1) {
    while (sorted[i]! - sorted[j]! >= windowMs) j += 1;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

/** A second connection pool on the same database, as another replica has (PGlite is one process: the same one). */
async function secondReplica(database: Database, driver: TestDriver): Promise<{ db: Db; close: () => Promise<void> }> {
  if (driver === 'pglite') return { db: database.db, close: async () => undefined };
  const [row] = await queryRows<{ name: string }>(database.db, sql`select current_database() as name`);
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${row!.name}`;
  const other = await openDatabase({ driver: 'postgres', url: url.toString(), poolSize: 5 });
  return { db: other.db, close: () => other.close() };
}

describeEachDatabase('shared rate budgets (token bucket in rate_budgets)', (database, driver) => {
  it('a new key starts full: grants up to the burst at once, then nothing, and says when the next is due', async () => {
    let now = Date.parse('2026-03-02T09:00:00Z');
    const budget = postgresBudgets(database().db, { now: () => now })(updates);
    expect(await budget.take('T1', { count: 25 })).toEqual({ granted: 10, waitMs: Math.ceil(60_000 / 35) });
    expect((await budget.take('T1')).granted).toBe(0);
    // Refilled by elapsed time: 35 a minute, one every 1.72 s.
    now += 1714;
    expect((await budget.take('T1')).granted).toBe(0);
    now += 1;
    expect(await budget.take('T1')).toEqual({ granted: 1, waitMs: 0 });
    now += 60_000;
    expect((await budget.take('T1', { count: 100 })).granted).toBe(10);
  });

  it('two replicas asking at random never get more than the limit in any window, and do get the refill rate', async () => {
    let now = Date.parse('2026-03-02T09:00:00Z');
    const clock = { now: () => now };
    const replicas = [postgresBudgets(database().db, clock)(updates), postgresBudgets(database().db, clock)(updates)];
    const granted: number[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const start = now;
    const end = now + 10 * 60_000;
    let quietMs = 0;
    while (now < end) {
      now += Math.floor(random() * 900) + 50;
      // Quiet spells, after which a bucket that kept filling would burst past the limit.
      if (random() < 0.01) {
        const quiet = Math.floor(random() * 60_000) + 20_000;
        now += quiet;
        quietMs += quiet;
      }
      const replica = replicas[Math.floor(random() * 2)]!;
      const count = Math.floor(random() * 3) + 1;
      // Frames leave a reserve for final messages; finals take it.
      const keep = random() < 0.8 ? 9 : 0;
      const grant = await replica.take('T1', { count, keep });
      for (let i = 0; i < grant.granted; i += 1) granted.push(now);
    }
    expect(peakInWindow(granted, 60_000)).toBeLessThanOrEqual(45);
    // While they ask, demand is well above the budget: they get (nearly) all of the 35 a minute refilled.
    const busyMinutes = (now - start - quietMs) / 60_000;
    expect(granted.length).toBeGreaterThanOrEqual(Math.floor(0.9 * 35 * busyMinutes));
  });

  it('a concurrent burst from two replicas on the database clock never exceeds the bucket', async () => {
    const other = await secondReplica(database(), driver);
    try {
      const replicas = [postgresBudgets(database().db)(updates), postgresBudgets(other.db)(updates)];
      const started = Date.now();
      const grants = await Promise.all(
        Array.from({ length: 60 }, (_, i) => replicas[i % 2]!.take('T-burst', { count: 1 + (i % 3) })),
      );
      const elapsedMs = Date.now() - started;
      const total = grants.reduce((sum, g) => sum + g.granted, 0);
      expect(total).toBeGreaterThanOrEqual(10);
      expect(total).toBeLessThanOrEqual(10 + Math.floor((35 * elapsedMs) / 60_000) + 1);
      // Everyone who got less than asked is told to wait.
      for (const g of grants) if (g.granted === 0) expect(g.waitMs).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  it('refills on the database clock', async () => {
    const slow: BudgetSpec = { name: 'test:slow', limit: 2, windowMs: 2000, burst: 1 };
    const budget = postgresBudgets(database().db)(slow);
    const started = Date.now();
    expect((await budget.take('k')).granted).toBe(1);
    const second = await budget.take('k');
    if (Date.now() - started < 2000) {
      expect(second.granted).toBe(0);
      expect(second.waitMs).toBeGreaterThan(0);
      expect(second.waitMs).toBeLessThanOrEqual(2000);
    }
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await budget.take('k', { count: 5 })).granted).toBe(1);
  });

  it('keys are independent, and so are kinds of budget with the same key', async () => {
    const now = Date.parse('2026-03-02T09:00:00Z');
    const budgets = postgresBudgets(database().db, { now: () => now });
    const chatUpdate = budgets(updates);
    const posts = budgets({ name: 'slack:chat.postMessage', limit: 5, windowMs: 5000, burst: 1 });
    expect((await chatUpdate.take('T1', { count: 50 })).granted).toBe(10);
    expect((await chatUpdate.take('T1')).granted).toBe(0);
    expect((await chatUpdate.take('T2', { count: 50 })).granted).toBe(10);
    expect((await posts.take('T1', { count: 5 })).granted).toBe(1);
    const keys = await queryRows<{ key: string }>(database().db, sql`select key from rate_budgets order by key`);
    expect(keys.map((k) => k.key)).toEqual([
      'slack:chat.postMessage:T1',
      'slack:chat.update:T1',
      'slack:chat.update:T2',
    ]);
  });

  it('keep holds a reserve back that only takes without keep spend', async () => {
    let now = Date.parse('2026-03-02T09:00:00Z');
    const budget = postgresBudgets(database().db, { now: () => now })(updates);
    expect((await budget.take('T1', { count: 50, keep: 9 })).granted).toBe(1);
    expect((await budget.take('T1', { keep: 9 })).granted).toBe(0);
    expect((await budget.take('T1', { count: 50 })).granted).toBe(9);
    const wait = await budget.take('T1', { keep: 9 });
    // Back above the reserve takes ten refills.
    expect(wait.waitMs).toBe(Math.ceil((10 * 60_000) / 35));
    now += wait.waitMs;
    expect((await budget.take('T1', { keep: 9 })).granted).toBe(1);
  });

  it('the table is unlogged: a take does not wait for a WAL flush, and losing it in a crash only refills the buckets', async () => {
    const [row] = await queryRows<{ persistence: string }>(
      database().db,
      sql`select relpersistence as persistence from pg_class where relname = 'rate_budgets'`,
    );
    expect(row).toEqual({ persistence: 'u' });
  });

  it('a pause from one replica holds every replica off the key until it passes', async () => {
    let now = Date.parse('2026-03-02T09:00:00Z');
    const clock = { now: () => now };
    const [a, b] = [postgresBudgets(database().db, clock)(updates), postgresBudgets(database().db, clock)(updates)];
    await a.pause('T1', 30_000);
    expect(await b.take('T1')).toEqual({ granted: 0, waitMs: 30_000 });
    expect((await b.take('T2')).granted).toBe(1);
    // A shorter pause never shortens a longer one.
    await b.pause('T1', 1000);
    now += 29_999;
    expect((await a.take('T1')).granted).toBe(0);
    now += 1;
    expect((await a.take('T1', { count: 50 })).granted).toBe(10);
  });
});

describe('shared rate budgets when the database cannot answer', () => {
  const failing = { execute: () => Promise.reject(new Error('connection refused')) } as unknown as Db;
  const warnings: unknown[] = [];
  const log = { warn: (fields: unknown) => warnings.push(fields) } as never;

  it('grant nothing, say to ask again in a second, never throw, and log why', async () => {
    const budget = postgresBudgets(failing, { log })(updates);
    expect(await budget.take('T1')).toEqual({ granted: 0, waitMs: 1000 });
    await expect(budget.pause('T1', 5000)).resolves.toBeUndefined();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ event: 'rate_budget.take_failed', budget: 'slack:chat.update', key: 'T1' });
  });

  it('refuse a burst that is not below the limit (it could not keep the window bound)', () => {
    expect(() => postgresBudgets(failing)({ ...updates, burst: 45 })).toThrow(/burst/);
  });
});
