/**
 * `npm run bench -- retention [--rows N]`: the daily retention job on the real PostgreSQL, in a scratch database of
 * its own (created here, dropped at the end): N activity events one hour apart going back years (default 200,000),
 * then `runRetention` with the default 13 months, timed. Prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase } from '../src/db/client.js';
import { ensureUser, ensureWorkspace } from '../src/db/users.js';
import { runRetention } from '../src/ops/retention.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function runRetentionBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { rows: { type: 'string', default: '200000' } } });
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1 || rows > 10_000_000) {
    process.stderr.write('--rows must be a whole number from 1 to 10000000\n');
    return 2;
  }
  const name = `backcare_bench_retention_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ driver: 'postgres', url: url.toString() });
  try {
    const db = database.db;
    const now = new Date();
    const workspace = await ensureWorkspace(db, { platform: 'console', externalId: 'bench' });
    const user = await ensureUser(db, workspace.id, 'bench');
    await db.execute(sql`insert into activity_events (user_id, workspace_id, kind, outcome, source, occurred_at)
      select ${user.id}, ${workspace.id}, 'session', 'completed', 'breathe', ${now}::timestamptz - (g || ' hours')::interval
        from generate_series(1, ${rows}) g`);
    const started = process.hrtime.bigint();
    const report = await runRetention(db, { retentionMonths: 13, auditRetentionMonths: 24 }, now);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(`${JSON.stringify({ rows, deleted: report.activity_events ?? 0, ms: Math.round(ms) })}\n`);
    return 0;
  } finally {
    await database.close();
    await admin(`drop database if exists ${name} with (force)`);
  }
}
