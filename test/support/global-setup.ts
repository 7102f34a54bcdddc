import { execFile } from 'node:child_process';
import { mkdirSync, openAsBlob, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
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
    /** A migrated on-disk PGlite data directory (its `pgdata`) that child bots start from instead of migrating. */
    pgliteDataDirTemplate: string;
    /** A migrated PostgreSQL database each test database is created from (`create database … template …`). */
    postgresTemplate: string | null;
    /** The bot compiled as `npm run build` compiles it, for the tests that start it as a child process. */
    builtBotDir: string;
  }
}

const repoRoot = path.resolve(import.meta.dirname, '../..');

/**
 * Child bots run compiled JavaScript, as the image does (tsx costs each about 1.6 s of CPU more to start). Same
 * compiler and tsconfig as `npm run build`, into a directory of this checkout (so the project root and
 * node_modules resolve as from dist/), incremental: about 7 s of CPU the first time, 1 s when nothing changed.
 */
async function buildBot(): Promise<string> {
  const outDir = path.join(repoRoot, '.cache/test-build');
  const tsc = path.join(repoRoot, 'node_modules/typescript7/bin/tsc');
  const options = [
    '--outDir',
    outDir,
    '--sourceMap',
    'false',
    '--incremental',
    '--tsBuildInfoFile',
    `${outDir}.tsbuildinfo`,
  ];
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', ...options], { cwd: repoRoot });
  return outDir;
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

/**
 * The same dump unpacked on disk, for child bots, which open `<BACKCARE_DATA_DIR>/pgdata`: a copy of it spares
 * each of them initdb and the migrations (the bot still checks them on open and finds them applied).
 */
async function pgliteDataDirTemplate(dir: string, dump: string): Promise<string> {
  const dataDir = path.join(dir, 'pglite-data-dir', 'pgdata');
  mkdirSync(dataDir, { recursive: true });
  const unpacked = await PGlite.create(dataDir, { loadDataDir: await openAsBlob(dump) });
  await unpacked.close();
  return dataDir;
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
  const [[pglite, pgliteDataDir], postgres, builtBotDir] = await Promise.all([
    pgliteTemplate(dir).then(async (dump) => [dump, await pgliteDataDirTemplate(dir, dump)] as const),
    testDrivers.includes('postgres') ? postgresTemplate() : Promise.resolve(null),
    buildBot(),
  ]);
  project.provide('pgliteTemplateFile', pglite);
  project.provide('pgliteDataDirTemplate', pgliteDataDir);
  project.provide('postgresTemplate', postgres?.name ?? null);
  project.provide('builtBotDir', builtBotDir);
  return async () => {
    rmSync(dir, { recursive: true, force: true });
    await postgres?.drop();
    // Each worker kept one database for its next suite (test/support/db.ts); the workers are gone now.
    if (postgres) await dropStaleScratchDatabases(testDatabaseUrl);
  };
}
