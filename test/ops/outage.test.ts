import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { replyText } from '../../src/core/reply.js';
import { createScheduler, type Scheduler } from '../../src/jobs/scheduler.js';
import { postgresInstance } from '../../src/jobs/instance.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { ask, buildTestCore, testClock } from '../support/core.js';
import { createScratchPostgres, testDatabaseUrl, truncateAll } from '../support/db.js';
import { captureLogger } from '../support/log.js';
import { deliveries, fakeSender, seedUser } from '../jobs/support/fixtures.js';

/**
 * A real PostgreSQL outage without stopping the shared server: the scratch database refuses new
 * connections (ALLOW_CONNECTIONS false) and every existing session is killed with pg_terminate_backend,
 * which is what the pool sees when Postgres restarts or fails over.
 */
class Outage {
  constructor(private readonly name: string) {}
  private async admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
  async begin(): Promise<number> {
    return this.admin(async (client) => {
      await client.query(`alter database ${this.name} allow_connections false`);
      const killed = await client.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
        [this.name],
      );
      return killed.rowCount ?? 0;
    });
  }
  async end(): Promise<void> {
    await this.admin((client) => client.query(`alter database ${this.name} allow_connections true`));
  }
}

const TROUBLE = 'Backcare is having trouble, try again in a minute.';
const T0 = new Date('2026-03-03T10:00:30Z');

describe('database outage on real PostgreSQL', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let database: Database;
  let outage: Outage;
  let schedulers: Scheduler[] = [];

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 3 });
    outage = new Outage(new URL(scratch.url).pathname.slice(1));
  });
  afterAll(async () => {
    await outage.end();
    await database.close();
    await scratch.drop();
  });
  beforeEach(async () => {
    await outage.end();
    await truncateAll(database);
  });
  afterEach(async () => {
    await outage.end();
    for (const s of schedulers) await s.stop();
    schedulers = [];
  });

  it('commands answer the trouble message (no stack trace) while it is down, and work again when it is back', async () => {
    const { log, lines } = captureLogger('info');
    const metrics = createMetrics({ defaultMetrics: false });
    const core = buildTestCore(database.db, { log, deps: { onHandled: metrics.observeHandled } });
    expect(replyText(await ask(core, 'settings on'))).toContain('Nudges are on');

    expect(await outage.begin()).toBeGreaterThan(0);
    for (const command of ['settings', 'me', 'settings off', 'me export']) {
      const answer = await ask(core, command);
      expect(replyText(answer)).toBe(TROUBLE);
      expect(replyText(answer)).not.toMatch(/at |Error|ECONN|terminat/);
    }
    // Help needs no database and keeps working.
    expect((await ask(core, 'help')).summary).toBe('Backcare commands');
    expect(lines().filter((l) => l.event === 'request.db_unavailable')).toHaveLength(4);
    expect(await metrics.registry.metrics()).toMatch(
      /backcare_commands_total\{subcommand="settings",adapter="console",outcome="db_unavailable"\} 2/,
    );

    await outage.end();
    // The pool replaces its dead connections by itself: no restart needed.
    expect(replyText(await ask(core, 'settings'))).toContain('Your Backcare settings');
    expect(replyText(await ask(core, 'settings off'))).toContain('Nudges are off');
  });

  it('the scheduler pauses while the database is down and resumes by itself; nothing is sent without its row', async () => {
    const clock = testClock(T0);
    const sender = fakeSender();
    const { log } = captureLogger('info');
    const metrics = createMetrics({ defaultMetrics: false });
    const scheduler = createScheduler({
      db: database.db,
      log,
      senders: { console: sender.sender },
      instance: await postgresInstance(scratch.url),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
      onTick: metrics.observeTick,
    });
    schedulers.push(scheduler);
    for (const id of ['a', 'b', 'c']) await seedUser(database.db, { id, dueAt: new Date('2026-03-03T10:00:00Z') });

    await outage.begin();
    // Ticks during the outage fail quietly: nothing claimed, nothing sent, no crash.
    expect(await scheduler.tick()).toMatchObject({ claimed: 0, sent: 0 });
    expect(await scheduler.tick()).toMatchObject({ claimed: 0, sent: 0 });
    expect(sender.sent).toHaveLength(0);

    await outage.end();
    clock.advance(60_000);
    expect(await scheduler.tick()).toMatchObject({ claimed: 3, sent: 3 });
    const rows = await deliveries(database.db);
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    expect(sender.sent.map((d) => d.deliveryId).sort()).toEqual(rows.map((r) => r.id).sort());

    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^backcare_scheduler_errors_total\{reason="tick_failed"\} 2$/m);
    expect(text).toMatch(/^backcare_scheduler_tick_seconds_count 3$/m);
    expect(text).toMatch(/^backcare_scheduler_batch_size_sum 3$/m);
    expect(text).toMatch(/^backcare_nudges_total\{result="sent",reason="none"\} 3$/m);
  });

  it('an outage in the middle of a fan-out: every message sent has its row, and none is sent twice after recovery', async () => {
    const clock = testClock(T0);
    let sends = 0;
    const sender = fakeSender(async (d) => {
      sends += 1;
      // The database goes away right after the second message is posted.
      if (sends === 2) await outage.begin();
      return { status: 'sent', messageRef: `m${d.deliveryId}` };
    });
    const { log } = captureLogger('info');
    const options = {
      db: database.db,
      log,
      senders: { console: sender.sender },
      now: clock.now,
      sleep: async (ms: number) => clock.advance(ms),
      concurrency: 1,
    };
    const scheduler = createScheduler({ ...options, instance: await postgresInstance(scratch.url) });
    schedulers.push(scheduler);
    for (const id of ['a', 'b', 'c', 'd', 'e'])
      await seedUser(database.db, { id, dueAt: new Date('2026-03-03T10:00:00Z') });

    await scheduler.tick();
    const sentDuring = sender.sent.map((d) => d.deliveryId);
    expect(sentDuring.length).toBeGreaterThanOrEqual(1);

    await outage.end();
    clock.advance(60_000);
    await scheduler.tick();
    // A restart (or another replica) reconciles whatever the outage left claimed: it looks on the platform first.
    await scheduler.stop();
    schedulers = [];
    const restarted = createScheduler({ ...options, instance: await postgresInstance(scratch.url) });
    schedulers.push(restarted);
    await restarted.tick();

    const rows = await deliveries(database.db);
    const sentIds = sender.sent.map((d) => d.deliveryId);
    // Every message that went out has its row, and no row was sent twice.
    for (const id of sentIds) expect(rows.some((r) => r.id === id)).toBe(true);
    expect(new Set(sentIds).size).toBe(sentIds.length);
    // Everyone due got exactly one nudge, and every row ended up recorded as sent.
    expect(sentIds).toHaveLength(5);
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
  });
});
