import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createScratchPostgres } from '../support/db.js';
import { deliveries } from './support/fixtures.js';

const run = promisify(execFile);
const worker = path.resolve(import.meta.dirname, 'support/tick-worker.ts');
const USERS = 400;

describe('two scheduler processes ticking at once against PostgreSQL', () => {
  let scratch: { url: string; drop: () => Promise<void> };
  let database: Database;
  beforeAll(async () => {
    scratch = await createScratchPostgres();
    database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 2 });
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
  });

  it('never sends one slot twice and sends every due slot', async () => {
    const due = new Date('2026-03-03T10:00:00Z');
    await database.db.execute(sql`insert into workspaces (platform, external_id) values ('console', 'local')`);
    await database.db.execute(
      sql`insert into users (workspace_id, platform_user_id) select 1, 'u' || g from generate_series(1, ${USERS}) g`,
    );
    await database.db.execute(
      sql`insert into preferences (user_id, opted_in, timezone, days, start_time, end_time, every_minutes, kinds, next_due_at)
          select id, true, 'UTC', '["mon","tue","wed","thu","fri","sat","sun"]', '00:00', '23:59', 60, '["stretch"]', ${due} from users`,
    );
    const startAt = String(Date.now() + 2500);
    const now = '2026-03-03T10:00:30Z';
    const outputs = await Promise.all(
      [0, 1].map(() =>
        // One node each with the tsx loader (no tsx CLI wrapper spawning a second node).
        run(process.execPath, ['--import', 'tsx', worker, scratch.url, now, startAt], { timeout: 60_000 }).then(
          (r) => JSON.parse(r.stdout.trim()) as { instance: number; sent: [number, string, number][] },
        ),
      ),
    );
    // Both took part (the start barrier lines them up); which share each got is up to the race.
    expect(outputs.map((o) => o.sent.length).every((n) => n > 0)).toBe(true);
    const all = outputs.flatMap((o) => o.sent.map(([user, slot]) => `${user}@${slot}`));
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(USERS);
    const rows = await deliveries(database.db);
    expect(rows).toHaveLength(USERS);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    // Each row was confirmed by the process that claimed it.
    expect(new Set(rows.map((r) => r.claimed_by))).toEqual(
      new Set(outputs.filter((o) => o.sent.length > 0).map((o) => o.instance)),
    );
  });
});
