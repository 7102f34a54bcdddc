import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server tests and benchmarks create their scratch databases on. */
export const adminDatabaseUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function withDatabaseName(url: string, name: string): string {
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
): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await runAdmin(adminUrl, `create database ${name}`);
  return {
    name,
    url: withDatabaseName(adminUrl, name),
    drop: () => runAdmin(adminUrl, `drop database if exists ${name} with (force)`),
  };
}
