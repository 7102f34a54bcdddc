import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../src/jobs/scheduler.js';
import { soloInstance } from '../../src/jobs/instance.js';
import { createWorkQueue } from '../../src/core/work-queue.js';
import { createMetrics, instrumentSender, instrumentSenders, reasonCode, routeLabels } from '../../src/ops/metrics.js';
import { ask, buildTestCore, testActor, testClock } from '../support/core.js';
import { describeEachDatabase } from '../support/db.js';
import { silentLogger } from '../support/log.js';
import { deliveries, fakeSender, seedUser } from '../jobs/support/fixtures.js';

async function sample(text: string, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    const parts = inside.split(',');
    if (wanted.every((w) => parts.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metric labels', () => {
  it.each([
    ['settings', 'ok', 'settings', 'ok'],
    ['settings:invalid', 'ok', 'settings', 'invalid_arguments'],
    ['unknown', 'ok', 'unknown', 'unknown'],
    ['action:invalid', 'ok', 'action:invalid', 'unknown'],
    ['action:forget.confirm', 'db_unavailable', 'action:forget.confirm', 'db_unavailable'],
    ['form:settings', 'error', 'form:settings', 'error'],
  ] as const)('route %s (%s) → %s / %s', (route, result, subcommand, outcome) => {
    expect(routeLabels(route, result)).toEqual({ subcommand, outcome });
  });

  it.each([
    [undefined, 'none'],
    ['DMs closed (50007)', 'dms_closed_50007'],
    ['rate_limited', 'rate_limited'],
    ['x'.repeat(80), 'other'],
    ['!!!', 'other'],
  ])('reason %s → %s', (reason, code) => {
    expect(reasonCode(reason)).toBe(code);
  });
});

describe('work queue metrics', () => {
  it('exposes waiting tasks by kind, the running count, and wait times', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const queue = createWorkQueue({ concurrency: 1, onStart: metrics.observeWorkWait });
    metrics.watchWorkQueue(queue);
    let release!: () => void;
    const held = queue.run('stats', () => new Promise<void>((r) => (release = r)));
    const more = [queue.run('stats', async () => undefined), queue.run('help', async () => undefined)];
    const text = await metrics.registry.metrics();
    expect(await sample(text, 'backcare_work_queue_depth', { kind: 'running' })).toBe(1);
    expect(await sample(text, 'backcare_work_queue_depth', { kind: 'stats' })).toBe(1);
    expect(await sample(text, 'backcare_work_queue_depth', { kind: 'help' })).toBe(1);
    // Tasks start from the event loop's check phase (acks first): wait for the held one to be running.
    while (!release) await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all([held, ...more]);
    const after = await metrics.registry.metrics();
    expect(await sample(after, 'backcare_work_queue_depth', { kind: 'running' })).toBe(0);
    expect(await sample(after, 'backcare_work_queue_depth', { kind: 'stats' })).toBeUndefined();
    expect(await sample(after, 'backcare_work_queue_wait_seconds_count', { kind: 'stats' })).toBe(2);
    expect(await sample(after, 'backcare_work_queue_wait_seconds_count', { kind: 'help' })).toBe(1);
  });
});

describeEachDatabase('metrics from the router hook', (database) => {
  it('counts commands by subcommand, adapter and outcome, observes latency, and never labels by user', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const core = buildTestCore(database().db, { deps: { onHandled: metrics.observeHandled } });
    const slackUser = testActor({
      platform: 'slack',
      workspaceExternalId: 'T0SECRETWS',
      userExternalId: 'U0SECRETUSER',
    });
    await ask(core, 'help', slackUser);
    await ask(core, 'help', slackUser);
    await ask(core, 'settings on', testActor());
    await ask(core, 'settings sideways', testActor());
    await ask(core, 'bogus', slackUser);
    const text = await metrics.registry.metrics();
    expect(await sample(text, 'backcare_commands_total', { subcommand: 'help', adapter: 'slack', outcome: 'ok' })).toBe(
      2,
    );
    expect(
      await sample(text, 'backcare_commands_total', { subcommand: 'settings', adapter: 'console', outcome: 'ok' }),
    ).toBe(1);
    expect(
      await sample(text, 'backcare_commands_total', {
        subcommand: 'settings',
        adapter: 'console',
        outcome: 'invalid_arguments',
      }),
    ).toBe(1);
    expect(
      await sample(text, 'backcare_commands_total', { subcommand: 'unknown', adapter: 'slack', outcome: 'unknown' }),
    ).toBe(1);
    expect(await sample(text, 'backcare_reply_latency_seconds_count', { adapter: 'slack' })).toBe(3);
    expect(await sample(text, 'backcare_reply_latency_seconds_count', { adapter: 'console' })).toBe(2);
    for (const id of ['U0SECRETUSER', 'T0SECRETWS', 'you', 'bogus', 'sideways']) expect(text).not.toContain(id);
  });

  it('a request that hits a closed database is counted as db_unavailable', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const core = buildTestCore(database().db, { deps: { onHandled: metrics.observeHandled } });
    const broken = buildTestCore(database().db, {
      deps: {
        onHandled: metrics.observeHandled,
        db: new Proxy(database().db, {
          get: () => () => {
            throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
          },
        }),
      },
    });
    await ask(core, 'help');
    await ask(broken, 'settings');
    const text = await metrics.registry.metrics();
    expect(await sample(text, 'backcare_commands_total', { subcommand: 'settings', outcome: 'db_unavailable' })).toBe(
      1,
    );
  });

  it('a throwing hook never breaks a reply', async () => {
    const core = buildTestCore(database().db, {
      deps: {
        onHandled: () => {
          throw new Error('metrics broke');
        },
      },
    });
    expect((await ask(core, 'help')).summary).toBe('Backcare commands');
  });
});

describe('nudge and scheduler metrics', () => {
  it('record results with normalised reasons and the scheduler histograms', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordNudge('claimed');
    metrics.recordNudge('claimed');
    metrics.recordNudge('failed', 'DMs closed (50007)');
    metrics.rateLimited.inc({ platform: 'slack' });
    metrics.schedulerTick.observe(0.2);
    metrics.schedulerBatch.observe(42);
    const text = await metrics.registry.metrics();
    expect(await sample(text, 'backcare_nudges_total', { result: 'claimed', reason: 'none' })).toBe(2);
    expect(await sample(text, 'backcare_nudges_total', { result: 'failed', reason: 'dms_closed_50007' })).toBe(1);
    expect(await sample(text, 'backcare_platform_rate_limited_total', { platform: 'slack' })).toBe(1);
    expect(text).toMatch(/^backcare_scheduler_tick_seconds_count 1$/m);
    expect(text).toMatch(/^backcare_scheduler_batch_size_sum 42$/m);
  });

  it('two registries never share counters', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.recordNudge('sent');
    expect(await b.registry.metrics()).not.toMatch(/backcare_nudges_total\{/);
  });
});

describeEachDatabase('instrumented senders under the scheduler', (database) => {
  it('count rate limits as platform 429s, retries and unreachable people by reason; the scheduler sees the same results', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const clock = testClock(new Date('2026-03-03T10:00:30Z'));
    const fake = fakeSender((delivery, attempt) => {
      if (delivery.user.platformUserId === 'UCLOSED') return { status: 'permanent', reason: 'DMs closed (50007)' };
      if (attempt === 1) return { status: 'retry', retryAfterMs: 1000, reason: 'rate_limited' };
      return { status: 'sent', messageRef: `m${delivery.deliveryId}` };
    }, 'slack');
    const scheduler = createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: instrumentSenders({ slack: fake.sender }, metrics),
      instance: soloInstance(1),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
      onTick: metrics.observeTick,
    });
    for (const id of ['UOPEN1', 'UOPEN2', 'UCLOSED'])
      await seedUser(database().db, { id, dueAt: new Date('2026-03-03T10:00:00Z'), platform: 'slack' });
    expect(await scheduler.tick()).toMatchObject({ claimed: 3, sent: 2, failed: 1 });
    expect((await deliveries(database().db)).map((d) => d.status).sort()).toEqual(['failed', 'sent', 'sent']);
    const text = await metrics.registry.metrics();
    expect(await sample(text, 'backcare_platform_rate_limited_total', { platform: 'slack' })).toBe(2);
    expect(await sample(text, 'backcare_nudges_total', { result: 'retry', reason: 'rate_limited' })).toBe(2);
    expect(await sample(text, 'backcare_nudges_total', { result: 'unreachable', reason: 'dms_closed_50007' })).toBe(1);
    expect(await sample(text, 'backcare_nudges_total', { result: 'sent', reason: 'none' })).toBe(2);
    expect(await sample(text, 'backcare_nudges_total', { result: 'failed', reason: 'none' })).toBe(1);
    for (const id of ['UOPEN1', 'UOPEN2', 'UCLOSED']) expect(text).not.toContain(id);
    await scheduler.stop();
  });

  it('keeps an optional availability check optional', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const base = {
      platform: 'console' as const,
      send: async () => ({ status: 'sent' as const, messageRef: 'm' }),
      reconcile: async () => ({ found: false as const }),
    };
    expect(instrumentSender(base, metrics).isAvailable).toBeUndefined();
    const withCheck = instrumentSender(
      { ...base, isAvailable: async () => ({ available: false, reason: 'dnd' }) },
      metrics,
    );
    expect(await withCheck.isAvailable!({} as never)).toEqual({ available: false, reason: 'dnd' });
  });
});
