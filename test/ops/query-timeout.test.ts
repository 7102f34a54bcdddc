import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { replyText } from '../../src/core/reply.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { startOps, type Ops } from '../../src/ops/runtime.js';
import { ask, buildTestCore, testActor } from '../support/core.js';
import { createScratchPostgres } from '../support/db.js';
import { silentLogger } from '../support/log.js';

const TROUBLE = 'Backcare is having trouble, try again in a minute.';

/**
 * A table locked by another session (a migration, a long manual transaction): commands must answer within
 * seconds and /readyz must say the pool is saturated, instead of commands waiting for ever behind the lock.
 */
describe('a locked table on real PostgreSQL', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let database: Database;
  let ops: Ops;
  let locker: pg.Client;

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 2, timeoutMs: 1500 });
    ops = await startOps({
      env: parseEnv({}),
      log: silentLogger(),
      database,
      adapters: [],
      adapterNames: ['console'],
      metrics: createMetrics({ defaultMetrics: false }),
      port: 0,
      retentionFirstDelayMs: 3_600_000,
    });
    locker = new pg.Client({ connectionString: scratch.url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker?.end().catch(() => undefined);
    await ops?.stop();
    await database?.close();
    await scratch?.drop();
  });

  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${ops.server!.port}/readyz`);
    return {
      status: res.status,
      body: (await res.json()) as { checks: Record<string, { ok: boolean; detail?: string }> },
    };
  };

  it(
    'commands answer the trouble message within seconds, /readyz is 503 while the pool is saturated, and both recover',
    { timeout: 60_000 },
    async () => {
      const core = buildTestCore(database.db);
      expect((await readyz()).status).toBe(200);
      await locker.query('begin');
      await locker.query('lock table workspaces, users in access exclusive mode');
      try {
        // Three people at once on a pool of two: two wait on the lock, one waits for a connection.
        const started = Date.now();
        const answers = Array.from({ length: 3 }, (_, i) =>
          ask(core, 'me', testActor({ userExternalId: `U-locked-${i}` })).then((reply) => ({
            text: replyText(reply),
            ms: Date.now() - started,
          })),
        );
        await new Promise((resolve) => setTimeout(resolve, 400));
        const saturated = await readyz();
        expect(saturated.status).toBe(503);
        expect(saturated.body.checks.pool?.ok).toBe(false);
        expect(saturated.body.checks.pool?.detail).toMatch(/saturated: all 2 connections busy, \d+ waiting/);

        for (const answer of await Promise.all(answers)) {
          expect(answer.text).toContain(TROUBLE);
          // Lock timeout (1.5 s) plus, for the third, the wait for a connection: well under ten seconds.
          expect(answer.ms).toBeLessThan(8000);
        }
      } finally {
        await locker.query('rollback');
      }
      expect((await readyz()).status).toBe(200);
      expect(replyText(await ask(core, 'me', testActor({ userExternalId: 'U-after' })))).not.toContain(TROUBLE);
    },
  );
});
