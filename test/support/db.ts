import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import { sql } from 'drizzle-orm';
import { createScratchDatabase } from './scratch-database.js';
import { openDatabase, queryRows, type Database } from '../../src/db/client.js';

export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type TestDriver = 'pglite' | 'postgres';
export const testDrivers: TestDriver[] = ['pglite', 'postgres'];

/** A fresh, empty PostgreSQL database of its own, so parallel test files and runs never collide. */
export function createScratchPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  return createScratchDatabase('backcare_t', testDatabaseUrl);
}

/** Opens a migrated test database on the given driver; `close` also drops a PostgreSQL scratch database. */
export async function openTestDatabase(driver: TestDriver): Promise<Database> {
  if (driver === 'pglite') return openDatabase({ driver: 'pglite' });
  const scratch = await createScratchPostgres();
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
