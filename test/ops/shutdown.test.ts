import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openDatabase, queryRows, type Database } from '../../src/db/client.js';
import { createScheduler } from '../../src/jobs/scheduler.js';
import { postgresInstance } from '../../src/jobs/instance.js';
import { createScratchPostgres } from '../support/db.js';
import { silentLogger } from '../support/log.js';
import { isolatedEnv, repoRoot, tempDataDir } from '../support/spawn.js';
import { fakeSender, seedUser } from '../jobs/support/fixtures.js';

const PEOPLE = 400;

const statusCounts = async (db: Database['db']) =>
  Object.fromEntries(
    (
      await queryRows<{ status: string; n: number }>(
        db,
        sql`select status, count(*)::int as n from nudge_deliveries group by status`,
      )
    ).map((r) => [r.status, Number(r.n)]),
  ) as Record<string, number>;

const sentIds = async (db: Database['db']) =>
  (await queryRows<{ id: unknown }>(db, sql`select id from nudge_deliveries where status = 'sent' order by id`)).map(
    (r) => z.coerce.number().parse(r.id),
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real bot (`src/main.ts`: console adapter, scheduler with the console sender, PostgreSQL) is stopped
 * with SIGTERM in the middle of a nudge fan-out. Its stdout is not read at first, so the console's writes
 * back up and the fan-out is caught half-way; then the signal, then the output flows again.
 */
describe('graceful shutdown of a running bot', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let database: Database;
  const data = tempDataDir();

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 5 });
  });
  afterAll(async () => {
    await database?.close();
    await scratch?.drop();
    data.cleanup();
  });

  it(
    'SIGTERM mid fan-out: claimed nudges finish, no new ones start, nothing is lost or sent twice, exit 0',
    { timeout: 180_000 },
    async () => {
      const db = database.db;
      const dueAt = new Date();
      for (let i = 0; i < PEOPLE; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, PEOPLE - i) }, (_, k) => seedUser(db, { id: `person-${i + k}`, dueAt })),
        );
      }

      const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(
        // What `npm start` runs, with the scheduler ticking every second instead of waiting for the minute.
        process.execPath,
        ['--import', 'tsx', '--import', './test/support/every-second-cron.ts', 'src/main.ts'],
        {
          cwd: repoRoot,
          env: isolatedEnv({
            DATABASE_URL: scratch.url,
            BACKCARE_DATA_DIR: data.dir,
            BACKCARE_ADAPTER: 'console',
            LOG_LEVEL: 'info',
          }),
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // stdin stays open (a person at the terminal); stdout is left unread for now.
      child.stdout.pause();

      try {
        // Wait for the fan-out to start, then for it to stall on the full pipe.
        let last = -1;
        let stable = 0;
        for (let i = 0; i < 1500; i++) {
          const counts = await statusCounts(db);
          const total = (counts.claimed ?? 0) + (counts.sent ?? 0);
          if ((counts.claimed ?? 0) > 0 && total === last) stable += 1;
          else stable = 0;
          last = total;
          if (stable >= 5) break;
          await sleep(100);
        }
        const before = await statusCounts(db);
        expect(before.claimed ?? 0, `fan-out never stalled; stderr:\n${stderr}`).toBeGreaterThan(0);

        child.kill('SIGTERM');
        await sleep(300);
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stdout.resume();
        const code = await Promise.race([exited, sleep(20_000).then(() => 'timeout' as const)]);
        expect(code, stderr).toBe(0);
        expect(stderr).toContain('"event":"shutdown.done"');

        // What the console showed is what the rows say was sent: every claimed nudge finished, none is left claimed.
        const after = await statusCounts(db);
        expect(after.claimed ?? 0).toBe(0);
        const logFile = path.join(data.dir, 'console-nudges.log');
        const shown = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map(Number) : [];
        expect(new Set(shown).size).toBe(shown.length);
        expect([...shown].sort((a, b) => a - b)).toEqual(await sentIds(db));
        // Each nudge on the terminal ends with its buttons' prompt: as many on screen as recorded, none cut off.
        expect(stdout.split('\n').filter((l) => l === 'Type a number to choose.')).toHaveLength(shown.length);
        // Stopped taking new work: the fan-out did not run to the end after the signal.
        expect(after.sent).toBeLessThan(PEOPLE);
        expect(after.sent).toBeGreaterThanOrEqual(before.claimed ?? 0);

        // Nothing lost: the next scheduler run sends exactly the rest, and nobody twice.
        const sender = fakeSender();
        const next = createScheduler({
          db,
          log: silentLogger(),
          senders: { console: sender.sender },
          instance: await postgresInstance(scratch.url),
        });
        try {
          for (let i = 0; i < 20 && (await statusCounts(db)).sent! < PEOPLE; i++) await next.tick();
        } finally {
          await next.stop();
        }
        const resent = sender.sent.map((d) => d.deliveryId);
        expect(resent.filter((id) => shown.includes(id))).toEqual([]);
        expect(shown.length + resent.length).toBe(PEOPLE);
        const perPerson = await queryRows<{ n: number }>(
          db,
          sql`select count(*)::int as n from nudge_deliveries group by user_id`,
        );
        expect(perPerson).toHaveLength(PEOPLE);
        expect(perPerson.every((r) => Number(r.n) === 1)).toBe(true);
        expect(await statusCounts(db)).toEqual({ sent: PEOPLE });
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  );
});
