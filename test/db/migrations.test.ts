import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { migrationsFolder, openDatabase, queryRows, type Database, type DatabaseOptions } from '../../src/db/client.js';
import { createScratchPostgres, testDrivers, type TestDriver } from '../support/db.js';

const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
  entries: { tag: string }[];
};

/** An empty database that can be opened twice (a persisted PGlite directory, or a scratch PostgreSQL database). */
async function emptyDatabase(driver: TestDriver): Promise<{ options: DatabaseOptions; drop: () => Promise<void> }> {
  if (driver === 'pglite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'backcare-migrate-'));
    return {
      options: { driver: 'pglite', dataDir: dir },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const scratch = await createScratchPostgres();
  return { options: { driver: 'postgres', url: scratch.url }, drop: scratch.drop };
}

const appliedCount = async (database: Database) =>
  Number(
    (
      await queryRows<{ n: number | string }>(
        database.db,
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      )
    )[0]?.n,
  );

describe.each(testDrivers)('migrations on an empty database [%s]', (driver) => {
  it('apply every committed migration, create the tables, and apply nothing twice on the next start', async () => {
    const { options, drop } = await emptyDatabase(driver);
    try {
      const first = await openDatabase(options);
      try {
        expect(await appliedCount(first)).toBe(journal.entries.length);
        const tables = await queryRows<{ tablename: string }>(
          first.db,
          sql`select tablename from pg_tables where schemaname = 'public' order by 1`,
        );
        expect(tables.map((t) => t.tablename)).toEqual(
          expect.arrayContaining([
            'workspaces',
            'users',
            'preferences',
            'nudge_deliveries',
            'activity_events',
            'triage_records',
            'audit_log',
          ]),
        );
        // The unique key that makes a nudge happen once per user and slot exists on both drivers.
        const indexes = await queryRows<{ indexname: string }>(
          first.db,
          sql`select indexname from pg_indexes where tablename = 'nudge_deliveries'`,
        );
        expect(indexes.map((i) => i.indexname)).toContain('nudge_deliveries_user_slot_uq');
      } finally {
        await first.close();
      }
      const second = await openDatabase(options);
      try {
        expect(await appliedCount(second)).toBe(journal.entries.length);
      } finally {
        await second.close();
      }
    } finally {
      await drop();
    }
    // initdb and every migration on PGlite, twice: about 12 s on an idle 2-core machine, far more under load.
  }, 120_000);
});

describe('migrations from two replicas starting at once [postgres]', () => {
  it('both start: the advisory lock makes the second wait and then find nothing left to apply', async () => {
    const { options, drop } = await emptyDatabase('postgres');
    try {
      const [a, b] = await Promise.all([openDatabase(options), openDatabase(options)]);
      try {
        expect(await appliedCount(a)).toBe(journal.entries.length);
        expect(await appliedCount(b)).toBe(journal.entries.length);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    } finally {
      await drop();
    }
  });
});
