import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOpsServer, type OpsServer } from '../../src/ops/health-server.js';
import { createMetrics, poolStatsOf } from '../../src/ops/metrics.js';
import { adaptersCheck, databaseCheck, migrationsCheck, type ReadinessCheck } from '../../src/ops/readiness.js';
import { migrationsFolder, type Database } from '../../src/db/client.js';
import { describeEachDatabase, openTestDatabase } from '../support/db.js';
import { silentLogger } from '../support/log.js';

const servers: OpsServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function serve(checks: ReadinessCheck[], options: { draining?: () => boolean; database?: Database } = {}) {
  const metrics = createMetrics({ poolStats: options.database ? poolStatsOf(options.database) : null });
  const server = await startOpsServer({
    checks,
    registry: metrics.registry,
    log: silentLogger(),
    port: 0,
    host: '127.0.0.1',
    ...(options.draining ? { draining: options.draining } : {}),
  });
  servers.push(server);
  const get = async (route: string, init?: RequestInit) => {
    const response = await fetch(`http://127.0.0.1:${server.port}${route}`, init);
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
  };
  return { server, metrics, get };
}

describeEachDatabase('health and readiness over HTTP', (database, driver) => {
  const checksFor = (db: Database, connected = true) => [
    databaseCheck(db),
    migrationsCheck(db),
    adaptersCheck([{ name: 'console' }, { name: 'discord', isConnected: () => connected }]),
  ];

  it('GET /healthz answers 200 and /readyz 200 with every check passing', async () => {
    const { get } = await serve(checksFor(database()));
    const health = await get('/healthz');
    expect(health).toMatchObject({ status: 200 });
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'ready',
      checks: { database: { ok: true }, migrations: { ok: true }, adapters: { ok: true, detail: 'console,discord' } },
    });
  });

  it('/readyz is 503 naming the adapter that lost its connection', async () => {
    const { get } = await serve(checksFor(database(), false));
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'not ready',
      checks: { adapters: { ok: false, detail: 'not connected: discord' }, database: { ok: true } },
    });
  });

  it('/readyz is 503 once shutdown has begun, while /healthz still answers', async () => {
    let draining = false;
    const { get } = await serve(checksFor(database()), { draining: () => draining });
    expect((await get('/readyz')).status).toBe(200);
    draining = true;
    expect(await get('/readyz')).toMatchObject({ status: 503 });
    expect(JSON.parse((await get('/readyz')).body)).toMatchObject({ status: 'shutting down' });
    expect((await get('/healthz')).status).toBe(200);
  });

  it('/readyz is 503 when the build ships a migration the database has not applied', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'backcare-migrations-'));
    try {
      cpSync(migrationsFolder, folder, { recursive: true });
      const journalFile = path.join(folder, 'meta/_journal.json');
      const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as {
        entries: { idx: number; when: number; tag: string }[];
      };
      const last = journal.entries.at(-1)!;
      journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: '9999_from_the_future' });
      writeFileSync(journalFile, JSON.stringify(journal));
      const { get } = await serve([migrationsCheck(database(), folder)]);
      const ready = await get('/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({
        checks: { migrations: { ok: false, detail: 'migration 9999_from_the_future is not applied' } },
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('/metrics is Prometheus text, with the pool gauge on PostgreSQL only', async () => {
    const { get } = await serve(checksFor(database()), { database: database() });
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    expect(metrics.body).toContain('# TYPE backcare_commands_total counter');
    expect(metrics.body).toContain('# TYPE backcare_reply_latency_seconds histogram');
    expect(metrics.body).toContain('# TYPE backcare_nudges_total counter');
    expect(metrics.body).toContain('# TYPE backcare_scheduler_tick_seconds histogram');
    expect(metrics.body).toContain('backcare_process_cpu_user_seconds_total');
    if (driver === 'postgres') expect(metrics.body).toMatch(/backcare_db_pool_connections\{state="max"\} 5/);
    else expect(metrics.body).not.toContain('backcare_db_pool_connections');
  });

  it('unknown paths are 404 and other methods 405', async () => {
    const { get } = await serve(checksFor(database()));
    expect((await get('/')).status).toBe(404);
    expect((await get('/healthz/extra')).status).toBe(404);
    expect((await get('/healthz', { method: 'POST' })).status).toBe(405);
  });
});

describe('readiness when the database is gone', () => {
  it.each(['pglite', 'postgres'] as const)(
    '%s: /readyz is 503 with the database check failing; /healthz stays 200',
    async (driver) => {
      const db = await openTestDatabase(driver, { reallyClose: true });
      const { get } = await serve([databaseCheck(db), migrationsCheck(db)]);
      await db.close();
      const ready = await get('/readyz');
      expect(ready.status).toBe(503);
      const body = JSON.parse(ready.body) as { checks: Record<string, { ok: boolean; detail?: string }> };
      expect(body.checks.database!.ok).toBe(false);
      expect(body.checks.migrations!.ok).toBe(false);
      expect((await get('/healthz')).status).toBe(200);
    },
  );

  it('a database that never answers fails the check after its timeout instead of hanging the probe', async () => {
    const check = databaseCheck({ ping: () => new Promise<void>(() => undefined) }, 50);
    expect(await check.run()).toEqual({ ok: false, detail: 'database did not answer within 50 ms' });
  });
});
