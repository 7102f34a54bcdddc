import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server tests and benchmarks create their scratch databases on. */
const adminDatabaseUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function runAdmin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, empty PostgreSQL database of its own (tests and benchmarks never collide), and a drop that
 * removes it even while connections are open.
 */
export async function createScratchDatabase(
  prefix: string,
  adminUrl: string = adminDatabaseUrl,
  template?: string,
): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await runAdmin(adminUrl, `create database ${name}${template ? ` template ${template}` : ''}`);
  return {
    name,
    url: withDatabaseName(adminUrl, name),
    drop: () => runAdmin(adminUrl, `drop database if exists ${name} with (force)`),
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Drops test databases left by runs that were killed before their clean-up (their creating process is gone).
 * Several worktrees share one server: a database whose process still runs, or that has a connection, stays.
 */
export async function dropStaleScratchDatabases(adminUrl: string = adminDatabaseUrl): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      `select datname from pg_database where datname ~ '^backcare_(t|tmpl)_[0-9]+_[0-9a-f]{8}$'`,
    );
    for (const { datname } of rows) {
      if (alive(Number(datname.split('_')[2]))) continue;
      // Without FORCE: a database someone is still connected to is not ours to take away.
      await client.query(`drop database if exists ${datname}`).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}
