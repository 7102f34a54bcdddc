import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { migrationsFolder, openDatabase } from '../../src/db/client.js';
import { createScratchDatabase, dropStaleScratchDatabases } from './scratch-database.js';
import { testDatabaseUrl, testDrivers } from './db.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A dump of a migrated PGlite data directory, loaded by each test database instead of initdb + migrations. */
    pgliteTemplateFile: string;
    /** A migrated PostgreSQL database each test database is created from (`create database … template …`). */
    postgresTemplate: string | null;
  }
}

/** PGlite's initdb and the migrations cost seconds per instance; once per run, then every suite loads the dump. */
async function pgliteTemplate(dir: string): Promise<string> {
  const client = await PGlite.create();
  try {
    await migrate(drizzle(client), { migrationsFolder });
    const file = path.join(dir, 'pglite-template.tar');
    writeFileSync(file, Buffer.from(await (await client.dumpDataDir('none')).arrayBuffer()));
    return file;
  } finally {
    await client.close();
  }
}

async function postgresTemplate(): Promise<{ name: string; drop: () => Promise<void> }> {
  await dropStaleScratchDatabases(testDatabaseUrl);
  const scratch = await createScratchDatabase('backcare_tmpl', testDatabaseUrl);
  try {
    // Generous timeouts: this runs while the machine is busiest (every worker starting up).
    const database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 1, timeoutMs: 60_000 });
    // No connection may stay on a template while databases are created from it.
    await database.close();
  } catch (error) {
    await scratch.drop();
    throw error;
  }
  return scratch;
}

/** Vitest global setup: the migrated templates every test database of this run is cloned from. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'backcare-vitest-'));
  const [pglite, postgres] = await Promise.all([
    pgliteTemplate(dir),
    testDrivers.includes('postgres') ? postgresTemplate() : Promise.resolve(null),
  ]);
  project.provide('pgliteTemplateFile', pglite);
  project.provide('postgresTemplate', postgres?.name ?? null);
  return async () => {
    rmSync(dir, { recursive: true, force: true });
    await postgres?.drop();
  };
}
