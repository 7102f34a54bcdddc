import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Adapter } from '../core/adapter.js';
import { migrationsFolder, queryRows, type Database } from '../db/client.js';

type CheckResult = { ok: true; detail?: string } | { ok: false; detail: string };

/** One thing `/readyz` asks about. Checks never throw: a failure is a result with a short, id-free detail. */
export interface ReadinessCheck {
  name: string;
  run(): Promise<CheckResult>;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 200);

/** The database answers `select 1` in time. */
export function databaseCheck(database: Pick<Database, 'ping'>, timeoutMs = 2000): ReadinessCheck {
  return {
    name: 'database',
    async run() {
      try {
        await withTimeout(database.ping(), timeoutMs, 'database');
        return { ok: true };
      } catch (error) {
        return { ok: false, detail: describe(error) };
      }
    },
  };
}

const journalSchema = z.object({ entries: z.array(z.object({ when: z.number(), tag: z.string() })) });

/** The newest migration this build ships (drizzle's journal): the database must have applied it. */
function latestShippedMigration(folder = migrationsFolder): { when: number; tag: string } | null {
  const journal = journalSchema.parse(JSON.parse(readFileSync(path.join(folder, 'meta/_journal.json'), 'utf8')));
  return journal.entries.reduce<{ when: number; tag: string } | null>(
    (latest, e) => (latest && latest.when >= e.when ? latest : e),
    null,
  );
}

/**
 * Every migration shipped with this build is applied. Start-up applies them, so this fails only when another
 * replica's newer build is mid-upgrade or someone rolled the schema back by hand.
 */
export function migrationsCheck(database: Pick<Database, 'db'>, folder = migrationsFolder): ReadinessCheck {
  return {
    name: 'migrations',
    async run() {
      try {
        const latest = latestShippedMigration(folder);
        if (!latest) return { ok: true, detail: 'no migrations shipped' };
        const [row] = await queryRows<{ last: string | null }>(
          database.db,
          sql`select max(created_at)::text as last from drizzle.__drizzle_migrations`,
        );
        const applied = row?.last ? Number(row.last) : 0;
        return applied >= latest.when
          ? { ok: true, detail: latest.tag }
          : { ok: false, detail: `migration ${latest.tag} is not applied` };
      } catch (error) {
        return { ok: false, detail: describe(error) };
      }
    },
  };
}

/**
 * The connection pool can take more work: every connection busy with commands already queueing means a locked
 * table or a slow server, and a load balancer should send work elsewhere until it clears (the database itself
 * may still answer `select 1` on a connection a moment later).
 */
export function poolCheck(stats: () => { total: number; idle: number; waiting: number; max: number }): ReadinessCheck {
  return {
    name: 'pool',
    async run() {
      const { total, idle, waiting, max } = stats();
      if (waiting > 0 && idle === 0 && total >= max)
        return { ok: false, detail: `saturated: all ${total} connections busy, ${waiting} waiting` };
      return { ok: true, detail: `${total - idle}/${max} busy` };
    },
  };
}

/** Every adapter that can tell (Slack socket, Discord gateway) says it is connected. */
export function adaptersCheck(adapters: readonly Pick<Adapter, 'name' | 'isConnected'>[]): ReadinessCheck {
  return {
    name: 'adapters',
    async run() {
      const down = adapters.filter((a) => a.isConnected && !a.isConnected()).map((a) => a.name);
      return down.length === 0
        ? { ok: true, detail: adapters.map((a) => a.name).join(',') }
        : { ok: false, detail: `not connected: ${down.join(', ')}` };
    },
  };
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export async function runChecks(checks: readonly ReadinessCheck[]): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map(async (c) => [c.name, await c.run()] as const));
  return { ready: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}
