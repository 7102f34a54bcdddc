import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/db.js';
import { silentLogger } from '../support/log.js';
import { testClock } from '../support/core.js';
import { queryRows, type Db } from '../../src/db/client.js';
import { recentRoutineIds, takeOver, type DeliveryKind } from '../../src/db/deliveries.js';
import { saveTeamPost } from '../../src/db/team-posts.js';
import { createScheduler } from '../../src/jobs/scheduler.js';
import { createDeliveryPipeline, emptyReport, RECONCILE_GIVE_UP_MS } from '../../src/jobs/delivery-pipeline.js';
import { createRoutinePicker } from '../../src/jobs/routine-picker.js';
import { soloInstance } from '../../src/jobs/instance.js';
import { postgresBudgets } from '../../src/db/rate-budgets.js';
import { RateLimitedError, type Sender } from '../../src/core/sender.js';
import type { RateBudgets } from '../../src/core/rate-budget.js';
import { fakeSender, prefsRow, seedUser } from './support/fixtures.js';

const T0 = new Date('2026-03-03T10:00:30Z');
const SLOT = new Date('2026-03-03T10:00:00Z');
const ROUTINE = 'nudge-shoulder-rolls';

/** One delivery row of either kind, as stored. */
const rowSchema = z.object({
  id: z.coerce.number(),
  status: z.string(),
  attempts: z.coerce.number(),
  message_ref: z.string().nullable(),
  last_error: z.string().nullable(),
  claimed_by: z.coerce.number().nullable(),
});
const tableOf: Record<DeliveryKind, string> = { person: 'nudge_deliveries', channel: 'team_post_deliveries' };
async function rowsOf(db: Db, kind: DeliveryKind) {
  const rows = await queryRows<unknown>(
    db,
    sql`select id, status, attempts, message_ref, last_error, claimed_by from ${sql.raw(tableOf[kind])} order by id`,
  );
  return rows.map((r) => rowSchema.parse(r));
}

describeEachDatabase('one delivery pipeline for a person and a channel', (database) => {
  /** A person due at SLOT and a team post due at SLOT, in the same Slack workspace. */
  async function seedBoth() {
    const db = database().db;
    const { userId, workspaceId } = await seedUser(db, { id: 'U1', dueAt: SLOT, platform: 'slack' });
    const settings = { channelId: 'C0TEAM', timezone: 'UTC', localTime: '10:00', days: ['tue' as const] };
    await saveTeamPost(db, workspaceId, userId, settings, new Date(SLOT.getTime() - 60_000));
    return { userId, workspaceId };
  }

  /** A claim of either kind left behind by holder 99, which is gone. */
  async function orphan(kind: DeliveryKind, key: number, slotAt = SLOT): Promise<number> {
    const [row] = await queryRows<{ id: unknown }>(
      database().db,
      sql`insert into ${sql.raw(tableOf[kind])} (${sql.raw(kind === 'person' ? 'user_id' : 'workspace_id')}, slot_at, status, routine_id, claimed_at, claimed_by)
          values (${key}, ${slotAt}, 'claimed', ${ROUTINE}, ${slotAt}, 99) returning id`,
    );
    return Number(row!.id);
  }

  function schedulerWith(sender: Sender, clock = testClock(T0)) {
    return createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: { slack: sender },
      instance: soloInstance(1),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
    });
  }

  it('sends a due nudge and a due team post on one pass, retrying both the same way and recording the attempts', async () => {
    await seedBoth();
    // Every delivery is refused once (a 429), then taken.
    const sender = fakeSender(
      (d, attempt) =>
        attempt === 1
          ? { status: 'retry', retryAfterMs: 1000, reason: 'rate limited' }
          : { status: 'sent', messageRef: `m${d.deliveryId}` },
      'slack',
    );
    const report = await schedulerWith(sender.sender).tick();
    expect(report).toMatchObject({ sent: 2, failed: 0 });
    expect(sender.sent.map((d) => d.destination)).toEqual([{ kind: 'dm' }, { kind: 'channel', channelId: 'C0TEAM' }]);
    for (const kind of ['person', 'channel'] as const) {
      const [row] = await rowsOf(database().db, kind);
      expect(row).toMatchObject({ status: 'sent', attempts: 2, message_ref: `m${row!.id}`, last_error: null });
    }
  });

  it('reconciles orphans of both kinds the same way: found on the platform is confirmed, not found is resent once', async () => {
    const { userId, workspaceId } = await seedBoth();
    // Nothing is due any more: only the orphans are left to resolve.
    await database().db.execute(sql`update preferences set next_due_at = null`);
    await database().db.execute(sql`update team_posts set next_due_at = null`);
    const nudge = await orphan('person', userId);
    const post = await orphan('channel', workspaceId);
    const sender = fakeSender(undefined, 'slack');
    sender.posted.set(post, 'posted-before-crash');
    const report = await schedulerWith(sender.sender).reconcile();
    expect(report).toMatchObject({ reconciled: 2, sent: 2 });
    expect(sender.reconciled.sort()).toEqual([nudge, post].sort());
    expect(sender.sent.map((d) => d.deliveryId)).toEqual([nudge]);
    expect(await rowsOf(database().db, 'person')).toMatchObject([{ status: 'sent', message_ref: `m${nudge}` }]);
    expect(await rowsOf(database().db, 'channel')).toMatchObject([
      { status: 'sent', message_ref: 'posted-before-crash' },
    ]);
  });

  it('pauses the target a platform refuses for good: the person’s nudges or the team’s post', async () => {
    const { userId } = await seedBoth();
    const sender = fakeSender(() => ({ status: 'permanent', reason: 'unreachable' }), 'slack');
    expect(await schedulerWith(sender.sender).tick()).toMatchObject({ failed: 2 });
    expect(await prefsRow(database().db, userId)).toMatchObject({ next_due_at: null, paused_reason: 'unreachable' });
    const [team] = await queryRows<{ paused_reason: string | null; next_due_at: unknown }>(
      database().db,
      sql`select paused_reason, next_due_at from team_posts`,
    );
    expect(team).toEqual({ paused_reason: 'unreachable', next_due_at: null });
    for (const kind of ['person', 'channel'] as const)
      expect(await rowsOf(database().db, kind)).toMatchObject([{ status: 'failed', last_error: 'unreachable' }]);
  });

  it('a platform check that keeps failing releases both kinds for the next pass, and closes them unsent after the give-up time', async () => {
    const { userId, workspaceId } = await seedBoth();
    await database().db.execute(sql`update preferences set next_due_at = null`);
    await database().db.execute(sql`update team_posts set next_due_at = null`);
    await orphan('person', userId);
    await orphan('channel', workspaceId);
    const failing = fakeSender(undefined, 'slack');
    failing.sender.reconcile = async () => {
      throw new Error('history unavailable');
    };
    const clock = testClock(T0);
    await schedulerWith(failing.sender, clock).reconcile();
    for (const kind of ['person', 'channel'] as const)
      expect(await rowsOf(database().db, kind)).toMatchObject([{ status: 'claimed', claimed_by: null }]);

    clock.set(new Date(SLOT.getTime() + RECONCILE_GIVE_UP_MS + 60_000));
    expect(await schedulerWith(failing.sender, clock).reconcile()).toMatchObject({ missed: 2 });
    expect(failing.sent).toHaveLength(0);
    for (const kind of ['person', 'channel'] as const)
      expect(await rowsOf(database().db, kind)).toMatchObject([
        { status: 'missed', last_error: expect.stringMatching(/could not be checked/) },
      ]);
  });

  it('the pipeline itself takes a person’s and a channel’s claim through deliver alike, reading routines per target', async () => {
    const { userId, workspaceId } = await seedBoth();
    const db = database().db;
    const nudge = await orphan('person', userId);
    const post = await orphan('channel', workspaceId);
    const sender = fakeSender(undefined, 'slack');
    const clock = testClock(T0);
    const pipeline = createDeliveryPipeline({
      db,
      log: silentLogger(),
      senders: { slack: sender.sender },
      picker: createRoutinePicker(),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
      maxAttempts: 3,
    });
    const report = emptyReport();
    for (const [kind, id] of [
      ['person', nudge],
      ['channel', post],
    ] as const) {
      const claimed = await takeOver(db, kind, id, 99, 1, ['slack']);
      expect(claimed?.kind).toBe(kind);
      await pipeline.deliver(claimed!, report);
    }
    await pipeline.flush();
    expect(report).toMatchObject({ sent: 2 });
    expect(sender.sent.map((d) => d.deliveryId)).toEqual([nudge, post]);
    expect(await recentRoutineIds(db, { kind: 'person', userId })).toEqual([ROUTINE]);
    expect(await recentRoutineIds(db, { kind: 'channel', workspaceId })).toEqual([ROUTINE]);
    // A claim on a platform this scheduler does not serve is left for one that does.
    const other = await orphan('channel', workspaceId, new Date(SLOT.getTime() + 86_400_000));
    expect(await takeOver(db, 'channel', other, 99, 1, ['discord'])).toBeNull();
  });
});

/**
 * Virtual time for several schedulers at once: a sleep waits for the clock, and the clock moves to the earliest
 * sleeper only while no budget take is in flight, so a grant and the post it allows happen at the same moment
 * (as they do in real time), whatever the database's speed.
 */
function virtualTime(start: Date) {
  let now = start.getTime();
  let inFlight = 0;
  const sleepers: { at: number; wake: () => void }[] = [];
  return {
    now: () => new Date(now),
    advance: (ms: number) => void (now += ms),
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ at: now + ms, wake })),
    tracked(budgets: RateBudgets): RateBudgets {
      return (spec) => {
        const budget = budgets(spec);
        return {
          async take(key, request) {
            inFlight += 1;
            try {
              return await budget.take(key, request);
            } finally {
              inFlight -= 1;
            }
          },
          pause: (key, ms) => budget.pause(key, ms),
        };
      };
    },
    async drive(work: Promise<unknown>): Promise<void> {
      let done = false;
      void work.finally(() => (done = true));
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (inFlight > 0 || sleepers.length === 0) continue;
        sleepers.sort((a, b) => a.at - b.at);
        const next = sleepers.shift()!;
        now = Math.max(now, next.at);
        next.wake();
      }
      await work;
    },
  };
}

describeEachDatabase('a channel’s post rate holds across replicas', (database) => {
  const postRate = { name: 'slack:chat.postMessage', limit: 5, windowMs: 5000, burst: 1 };

  it('two schedulers sharing the database budget post to one channel at most 5 in any 5 s, and send every nudge once', async () => {
    const db = database().db;
    for (let i = 0; i < 12; i += 1)
      await seedUser(db, {
        id: `U${i}`,
        dueAt: SLOT,
        platform: 'slack',
        prefs: { delivery: 'channel', channelId: 'C0TEAM' },
      });
    // A DM is not paced: it costs no budget.
    await seedUser(db, { id: 'UDM', dueAt: SLOT, platform: 'slack' });
    const time = virtualTime(T0);
    const postedAt: number[] = [];
    const sent: number[] = [];
    const sender: Sender = {
      ...fakeSender((d) => {
        if (d.destination.kind === 'channel') postedAt.push(time.now().getTime());
        sent.push(d.deliveryId);
        return { status: 'sent', messageRef: `m${d.deliveryId}` };
      }, 'slack').sender,
      channelPostRate: postRate,
    };
    const replica = (id: number) =>
      createScheduler({
        db,
        log: silentLogger(),
        senders: { slack: sender },
        // Both processes run: each sees the other's liveness (a solo instance would take the other for dead and
        // reconcile its claims while they are being sent).
        instance: { id, isAlive: async (holder: number) => holder === 1 || holder === 2, close: async () => undefined },
        now: time.now,
        sleep: time.sleep,
        batchSize: 4,
        // Each replica has its own budget object, as two processes would; they share the database.
        budgets: time.tracked(postgresBudgets(db, { now: () => time.now().getTime() })),
      });
    await time.drive(Promise.all([replica(1).tick(), replica(2).tick()]));
    expect(sent.sort((a, b) => a - b)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(postedAt).toHaveLength(12);
    const sorted = postedAt.sort((a, b) => a - b);
    let peak = 0;
    for (let i = 0, j = 0; i < sorted.length; i += 1) {
      while (sorted[i]! - sorted[j]! >= 5000) j += 1;
      peak = Math.max(peak, i - j + 1);
    }
    expect(peak).toBeLessThanOrEqual(5);
    // One a second and a quarter after the first (the bucket refills 4 per 5 s): 12 posts take about 14 s.
    expect(sorted.at(-1)! - sorted[0]!).toBeGreaterThanOrEqual(11 * 1250);
    const rows = await queryRows<{ key: string }>(db, sql`select key from rate_budgets`);
    expect(rows).toEqual([{ key: 'slack:chat.postMessage:W1:C0TEAM' }]);
  });

  it('a 429 on a channel post holds that channel off on the other replica too', async () => {
    const db = database().db;
    const clock = testClock(T0);
    const budget = postgresBudgets(db, { now: () => clock.now().getTime() })(postRate);
    await seedUser(db, {
      id: 'U1',
      dueAt: SLOT,
      platform: 'slack',
      prefs: { delivery: 'channel', channelId: 'C0TEAM' },
    });
    const sender: Sender = {
      ...fakeSender(
        (_d, attempt) =>
          attempt === 1
            ? { status: 'retry', retryAfterMs: 30_000, reason: 'rate limited' }
            : { status: 'sent', messageRef: 'm1' },
        'slack',
      ).sender,
      channelPostRate: postRate,
    };
    const scheduler = createScheduler({
      db,
      log: silentLogger(),
      senders: { slack: sender },
      instance: soloInstance(1),
      now: clock.now,
      // The other replica asks while this one waits out the Retry-After.
      sleep: async (ms) => {
        if (ms >= 30_000) expect((await budget.take('W1:C0TEAM')).granted).toBe(0);
        clock.advance(ms);
      },
      budgets: postgresBudgets(db, { now: () => clock.now().getTime() }),
    });
    expect(await scheduler.tick()).toMatchObject({ sent: 1 });
  });
});

describeEachDatabase('reconciling within the platform’s rate limit', (database) => {
  /**
   * The platform's "was it posted?" read allows `perMinute` calls a minute (a fixed window, as Slack counts), and
   * answers 429 past that with the rest of the minute as Retry-After.
   */
  function limitedReads(platform: ReturnType<typeof fakeSender>, now: () => Date, perMinute: number) {
    let window = { start: Number.NEGATIVE_INFINITY, count: 0 };
    const calls = { answered: 0, limited: 0 };
    const answer = platform.sender.reconcile.bind(platform.sender);
    platform.sender.reconcile = async (delivery) => {
      const t = now().getTime();
      if (t - window.start >= 60_000) window = { start: t, count: 0 };
      if (window.count >= perMinute) {
        calls.limited += 1;
        throw new RateLimitedError(window.start + 60_000 - t);
      }
      window.count += 1;
      calls.answered += 1;
      return answer(delivery);
    };
    return calls;
  }

  it('a check that meets the limit waits out its Retry-After and slows to the pace learned; none is resent twice or taken for unsent', async () => {
    const db = database().db;
    const time = virtualTime(T0);
    const ids: number[] = [];
    for (let i = 0; i < 25; i++) {
      const { userId } = await seedUser(db, { id: `U${i}`, dueAt: null, platform: 'slack' });
      const [row] = await queryRows<{ id: unknown }>(
        db,
        sql`insert into nudge_deliveries (user_id, slot_at, status, routine_id, claimed_at, claimed_by)
            values (${userId}, ${SLOT}, 'claimed', ${ROUTINE}, ${SLOT}, 99) returning id`,
      );
      ids.push(Number(row!.id));
    }
    const platform = fakeSender(undefined, 'slack');
    // Ten were posted before the crash; fifteen were not.
    for (const id of ids.slice(0, 10)) platform.posted.set(id, `before-crash-${id}`);
    const calls = limitedReads(platform, time.now, 10);
    const scheduler = createScheduler({
      db,
      log: silentLogger(),
      senders: { slack: platform.sender },
      instance: soloInstance(1),
      now: time.now,
      sleep: time.sleep,
    });

    const pass = async () => {
      const running = scheduler.reconcile();
      await time.drive(running);
      return running;
    };

    // Ten at once; then, once the minute's Retry-After has passed, again about 90 % of what got through, in the
    // same pass. The rest are never taken for "not sent": released, unchecked and unclosed, for the next pass.
    const first = await pass();
    expect(first.reconciled).toBeGreaterThan(10);
    expect(first.reconciled).toBeLessThan(20);
    const waiting = (await rowsOf(db, 'person')).filter((r) => r.status === 'claimed');
    expect(waiting).toHaveLength(25 - first.reconciled);
    expect(waiting.every((r) => r.claimed_by === null)).toBe(true);
    // The next passes, a minute apart, at the same pace.
    for (let i = 0; i < 3; i++) {
      if ((await rowsOf(db, 'person')).every((r) => r.status !== 'claimed')) break;
      time.advance(60_000);
      await pass();
    }

    const rows = await rowsOf(db, 'person');
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    for (const id of ids.slice(0, 10))
      expect(rows.find((r) => r.id === id)).toMatchObject({ message_ref: `before-crash-${id}` });
    expect(platform.sent.map((d) => d.deliveryId).sort((a, b) => a - b)).toEqual(ids.slice(10));
    // One answered check per delivery; the only 429s were those in flight when the limit was first met.
    expect(calls.answered).toBe(25);
    expect(calls.limited).toBeGreaterThan(0);
    expect(calls.limited).toBeLessThanOrEqual(8);
  });
});
