/**
 * `npm run bench -- retention [--rows N]`: the daily retention job on the real PostgreSQL, in a scratch database of
 * its own (created here, dropped at the end): N activity events one hour apart going back years (default 200,000),
 * then `runRetention` with the default 13 months, timed. Prints one JSON line.
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { openDatabase } from '../src/db/client.js';
import { ensureUser, ensureWorkspace } from '../src/db/users.js';
import { runRetention } from '../src/ops/retention.js';

export async function runRetentionBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { rows: { type: 'string', default: '200000' } } });
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1 || rows > 10_000_000) {
    process.stderr.write('--rows must be a whole number from 1 to 10000000\n');
    return 2;
  }
  const scratch = await createScratchDatabase('backcare_bench_retention');
  const database = await openDatabase({ driver: 'postgres', url: scratch.url });
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
    await scratch.drop();
  }
}
