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

async function openFreshPglite(): Promise<Database> {
  const file = inject('pgliteTemplateFile');
  // Without the global setup (another config), every database is migrated from scratch.
  if (!file) return openDatabase({ driver: 'pglite' });
  pgliteTemplate ??= openAsBlob(file);
  // Migrations still run on open; they find everything applied.
  return openDatabase({ driver: 'pglite', loadDataDir: await pgliteTemplate });
}

/**
 * Databases a suite of this worker has closed, kept for the next suite (files share a worker, see
 * vitest.config.ts): a PGlite instance costs about a second of CPU to start and a PostgreSQL database a
 * `create database` and a `drop database`. The next suite gets it emptied (and, for PGlite, its session reset).
 */
const idlePglite: Database[] = [];
const idlePostgres: { url: string; drop: () => Promise<void> }[] = [];

async function leasePglite(): Promise<Database> {
  const reused = idlePglite.pop();
  let database: Database;
  if (reused) {
    // One session serves every suite: settings, advisory locks, LISTENs and prepared statements go.
    await reused.db.execute(sql`discard all`);
    await truncateAll(reused);
    database = reused;
  } else {
    database = await openFreshPglite();
  }
  return {
    ...database,
    async close() {
      if (idlePglite.length === 0) idlePglite.push(database);
      else await database.close();
    },
  };
}

async function leasePostgres(): Promise<Database> {
  const reused = idlePostgres.pop();
  const scratch = reused ?? (await cloneMigratedPostgres());
  // A new pool each time: no connection, session state or lock of the previous suite carries over.
  const database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 5 });
  if (reused) await truncateAll(database);
  return {
    ...database,
    async close() {
      await database.close();
      if (idlePostgres.length === 0) idlePostgres.push(scratch);
      else await scratch.drop();
    },
  };
}

/**
 * Opens a migrated, empty test database on the given driver. `close` hands it back for the next suite of this
 * worker (the run's global teardown drops what the workers left, see global-setup.ts); with `reallyClose`, it
 * closes it for good (a test about a closed database).
 */
export async function openTestDatabase(driver: TestDriver, options: { reallyClose?: boolean } = {}): Promise<Database> {
  if (!options.reallyClose) return driver === 'pglite' ? leasePglite() : leasePostgres();
  if (driver === 'pglite') return openFreshPglite();
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
