import path from 'node:path';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema.js';
import { pgliteOpenError, prepareDataDir } from './data-dir.js';
import { projectRoot } from '../project-root.js';

/** The one database type the rest of the code sees, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction has the same query surface as the database. */
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything queries can run on: the database or an open transaction. */
export type Queryable = Db | Tx;

/**
 * Runs raw SQL and returns its rows. Both drivers answer with `{ rows }`; callers validate the row shape
 * (note that `pg` returns bigint and numeric as strings where PGlite returns numbers: cast in SQL or coerce).
 */
export async function queryRows<T>(db: Queryable, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

export interface Database {
  db: Db;
  driver: 'pglite' | 'postgres';
  /** True until the connection is closed. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const migrationsFolder = path.join(projectRoot, 'drizzle');

export type DatabaseOptions =
  /** `timeoutMs`: statement and lock timeout of every pooled connection, and the wait for a free one (default 5 s). */
  | { driver: 'postgres'; url: string; poolSize?: number; timeoutMs?: number }
  /** `dataDir` undefined means in memory; `loadDataDir` starts it from a dump (tests clone one migrated template). */
  | { driver: 'pglite'; dataDir?: string; loadDataDir?: Blob };

const DEFAULT_TIMEOUT_MS = 5000;

/** Arbitrary but fixed: every Backcare replica agrees on it, nothing else on the server uses it. */
const MIGRATION_LOCK_KEY = 0x6261_636b; // "back"

/**
 * drizzle's migrator takes no lock, so two replicas starting together with a pending migration would race;
 * a session advisory lock on one connection makes the second wait and then find nothing left to apply.
 */
async function migrateUnderLock(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    // Waiting for another replica's migration, or a long migration itself, is not a stuck command: no timeouts here.
    await client.query('set statement_timeout = 0; set lock_timeout = 0');
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migratePg(drizzlePg(client, { schema }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      await client.query('reset statement_timeout; reset lock_timeout');
    }
  } finally {
    client.release();
  }
}

/** Opens the database and applies every pending migration before anything else may use it. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.driver === 'postgres') {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // A locked table or a stuck query must fail within seconds (the person gets "having trouble"), not hold a
    // pooled connection for ever; waiting for a free connection is bounded the same way.
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      statement_timeout: timeoutMs,
      lock_timeout: timeoutMs,
      connectionTimeoutMillis: timeoutMs,
    });
    // An idle client losing its server must not take the process down; queries report the error instead.
    pool.on('error', () => undefined);
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    try {
      await migrateUnderLock(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return {
      db,
      driver: 'postgres',
      ping: async () => {
        await pool.query('select 1');
      },
      close: () => pool.end(),
    };
  }
  // A directory that cannot hold the database fails here with its name and the cause, not deep inside PGlite.
  if (options.dataDir) prepareDataDir(options.dataDir);
  // Loaded only when used: a bot on PostgreSQL starts without importing the embedded database.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  const client = options.dataDir ? new PGlite(options.dataDir) : new PGlite({ loadDataDir: options.loadDataDir });
  try {
    await client.waitReady;
  } catch (error) {
    await client.close().catch(() => undefined);
    throw options.dataDir ? pgliteOpenError(options.dataDir, error) : error;
  }
  const database = drizzlePglite(client, { schema });
  try {
    await migratePglite(database, { migrationsFolder });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return {
    db: database as unknown as Db,
    driver: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}

/** DATABASE_URL means a real server through `pg`; without it, embedded PGlite under the data directory. */
export function databaseOptionsFromEnv(env: {
  DATABASE_URL?: string | undefined;
  BACKCARE_DATA_DIR: string;
  DATABASE_TIMEOUT_MS?: number;
}): DatabaseOptions {
  if (env.DATABASE_URL)
    return {
      driver: 'postgres',
      url: env.DATABASE_URL,
      ...(env.DATABASE_TIMEOUT_MS !== undefined ? { timeoutMs: env.DATABASE_TIMEOUT_MS } : {}),
    };
  return { driver: 'pglite', dataDir: path.resolve(env.BACKCARE_DATA_DIR, 'pgdata') };
}
