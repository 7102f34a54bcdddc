import { openAsBlob } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, inject } from 'vitest';
import { sql } from 'drizzle-orm';
import { createScratchDatabase } from './scratch-database.js';
import { openDatabase, queryRows, type Database } from '../../src/db/client.js';

export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type TestDriver = 'pglite' | 'postgres';
/** Both unless TEST_DRIVERS names one (`pglite` or `postgres`); `npm run test:fast` defaults to PGlite alone. */
const chosenDrivers = process.env.TEST_DRIVERS ?? (process.env.BACKCARE_TEST_FAST === '1' ? 'pglite' : '');
export const testDrivers: TestDriver[] = (['pglite', 'postgres'] as const).filter(
  (driver) => !chosenDrivers || chosenDrivers.split(',').includes(driver),
);

/** A fresh, empty PostgreSQL database of its own, so parallel test files and runs never collide. */
export function createScratchPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  return createScratchDatabase('backcare_t', testDatabaseUrl);
}

/** Like createScratchPostgres, but already migrated: a copy of this run's template (see global-setup.ts). */
export function cloneMigratedPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  return createScratchDatabase('backcare_t', testDatabaseUrl, inject('postgresTemplate') ?? undefined);
}

let pgliteTemplate: Promise<Blob> | undefined;

/** Opens a migrated test database on the given driver; `close` also drops a PostgreSQL scratch database. */
export async function openTestDatabase(driver: TestDriver): Promise<Database> {
  if (driver === 'pglite') {
    const file = inject('pgliteTemplateFile');
    // Without the global setup (another config), every database is migrated from scratch.
    if (!file) return openDatabase({ driver: 'pglite' });
    pgliteTemplate ??= openAsBlob(file);
    // Migrations still run on open; they find everything applied.
    return openDatabase({ driver: 'pglite', loadDataDir: await pgliteTemplate });
  }
  const scratch = await cloneMigratedPostgres();
  const database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 5 });
  return {
    ...database,
    async close() {
      await database.close();
      await scratch.drop();
    },
  };
}

/** Empties every application table (not the migrations journal) between tests. */
export async function truncateAll(database: Database): Promise<void> {
  const rows = await queryRows<{ tablename: string }>(
    database.db,
    sql`select tablename from pg_tables where schemaname = 'public'`,
  );
  const tables = rows.map((r) => `"${r.tablename}"`);
  if (tables.length > 0) await database.db.execute(sql.raw(`truncate ${tables.join(', ')} restart identity cascade`));
}

/**
 * Runs the same suite against embedded PGlite and the real PostgreSQL server, each with a fresh
 * migrated database; tables are emptied before every test.
 */
export function describeEachDatabase(name: string, suite: (db: () => Database, driver: TestDriver) => void): void {
  for (const driver of testDrivers) {
    describe(`${name} [${driver}]`, () => {
      let database: Database | undefined;
      beforeAll(async () => {
        database = await openTestDatabase(driver);
      });
      afterAll(async () => {
        await database?.close();
      });
      beforeEach(async () => {
        if (database) await truncateAll(database);
      });
      suite(() => {
        if (!database) throw new Error('test database is not open yet');
        return database;
      }, driver);
    });
  }
}
