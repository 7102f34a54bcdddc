import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/db.js';
import { silentLogger } from '../support/log.js';
import { testClock } from '../support/core.js';
import { createScheduler, type SchedulerOptions } from '../../src/jobs/scheduler.js';
import { soloInstance, type SchedulerInstance } from '../../src/jobs/instance.js';
import { fallbackRoutineSource, NUDGE_ACTIONS, type NudgeRoutineSource } from '../../src/core/nudge-message.js';
import { activity, deliveries, fakeSender, prefsRow, seedUser } from './support/fixtures.js';

const T0 = new Date('2026-03-03T10:00:30Z');
const HOUR = 60 * 60 * 1000;

describeEachDatabase('nudge scheduler', (database) => {
  function setup(sender = fakeSender(), extra: Partial<SchedulerOptions> = {}) {
    const clock = testClock(T0);
    const scheduler = createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: { console: sender.sender },
      instance: soloInstance(1),
      now: clock.now,
      // Waiting moves the test clock instead of real time.
      sleep: async (ms) => clock.advance(ms),
      ...extra,
    });
    return { clock, scheduler, sender };
  }

  it('claims a due slot, sends it once, confirms it and advances next_due_at to the next slot', async () => {
    const { scheduler, sender } = setup();
    const { userId } = await seedUser(database().db, { id: 'U1', dueAt: new Date('2026-03-03T10:00:00Z') });
    const report = await scheduler.tick();
    expect(report).toMatchObject({ claimed: 1, sent: 1 });
    expect(sender.sent.map((d) => d.slotAt.toISOString())).toEqual(['2026-03-03T10:00:00.000Z']);
    const [row] = await deliveries(database().db);
    expect(row).toMatchObject({ user_id: userId, status: 'sent', attempts: 1, message_ref: `m${row!.id}` });
    expect(row!.routine_id).not.toBeNull();
    expect((await prefsRow(database().db, userId)).next_due_at?.toISOString()).toBe('2026-03-03T11:00:00.000Z');
    expect((await activity(database().db)).map((a) => a.outcome)).toEqual(['delivered']);

    // The message is the nudge itself, with its four buttons.
    const actions = sender.sent[0]!.message.actions.map((a) => a.actionId);
    expect(actions).toEqual([NUDGE_ACTIONS.done, NUDGE_ACTIONS.snooze, NUDGE_ACTIONS.skip, NUDGE_ACTIONS.stop]);

    expect(await scheduler.tick()).toMatchObject({ claimed: 0, sent: 0 });
    expect(sender.sent).toHaveLength(1);
  });

  it('leaves people not yet due, opted out, paused or on another platform alone', async () => {
    const { scheduler, sender } = setup();
    const db = database().db;
    await seedUser(db, { id: 'later', dueAt: new Date(T0.getTime() + 60_000) });
    await seedUser(db, { id: 'out', dueAt: new Date('2026-03-03T10:00:00Z'), prefs: { optedIn: false } });
    await seedUser(db, {
      id: 'paused',
      dueAt: new Date('2026-03-03T10:00:00Z'),
      prefs: { pausedReason: 'DMs closed' },
    });
    await seedUser(db, { id: 'slack', dueAt: new Date('2026-03-03T10:00:00Z'), platform: 'slack' });
    expect(await scheduler.tick()).toMatchObject({ claimed: 0 });
    expect(sender.sent).toHaveLength(0);
    expect(await deliveries(db)).toEqual([]);
  });

  it('records a slot found more than 10 minutes late as missed, sends nothing, and skips past the stale slots', async () => {
    const { scheduler, sender, clock } = setup();
    const db = database().db;
    const { userId } = await seedUser(db, { id: 'U1', dueAt: new Date('2026-03-03T07:00:00Z') });
    clock.set(new Date('2026-03-03T10:20:00Z'));
    const report = await scheduler.tick();
    expect(report).toMatchObject({ claimed: 0, missed: 1, sent: 0 });
    expect(sender.sent).toHaveLength(0);
    expect((await deliveries(db)).map((d) => [d.slot_at.toISOString(), d.status])).toEqual([
      ['2026-03-03T07:00:00.000Z', 'missed'],
    ]);
    // 08:00, 09:00 and 10:00 are stale too: the next one is 11:00, not a burst of old ones.
    expect((await prefsRow(db, userId)).next_due_at?.toISOString()).toBe('2026-03-03T11:00:00.000Z');
    expect((await activity(db)).map((a) => a.outcome)).toEqual(['missed']);
  });

  it('sends a slot 10 minutes late or less', async () => {
    const { scheduler, sender, clock } = setup();
    await seedUser(database().db, { id: 'U1', dueAt: new Date('2026-03-03T10:00:00Z') });
    clock.set(new Date('2026-03-03T10:09:59Z'));
    expect(await scheduler.tick()).toMatchObject({ sent: 1, missed: 0 });
    expect(sender.sent).toHaveLength(1);
  });

  it('retries transient failures with the platform’s Retry-After inside the slot, then confirms', async () => {
    const script = fakeSender((d, attempt) =>
      attempt < 3
        ? { status: 'retry', retryAfterMs: 2_000, reason: '429 rate limited' }
        : { status: 'sent', messageRef: `m${d.deliveryId}` },
    );
    const { scheduler, clock } = setup(script);
    await seedUser(database().db, { id: 'U1', dueAt: new Date('2026-03-03T10:00:00Z') });
    const before = clock.now().getTime();
    expect(await scheduler.tick()).toMatchObject({ sent: 1 });
    expect(clock.now().getTime() - before).toBeGreaterThanOrEqual(4_000);
    const [row] = await deliveries(database().db);
    expect(row).toMatchObject({ status: 'sent', attempts: 3 });
    expect(script.sent).toHaveLength(1);
  });

  it('gives up when retrying would run past the slot, recording the failure', async () => {
    const script = fakeSender(() => ({ status: 'retry', retryAfterMs: 4 * 60_000, reason: '503 unavailable' }));
    const { scheduler } = setup(script);
    await seedUser(database().db, { id: 'U1', dueAt: new Date('2026-03-03T10:00:00Z') });
    expect(await scheduler.tick()).toMatchObject({ sent: 0, failed: 1 });
    const [row] = await deliveries(database().db);
    expect(row!.status).toBe('failed');
    expect(row!.last_error).toMatch(/503/);
    expect(script.attempts.get(row!.id)).toBe(3);
  });

  it('a stop does not wait out a Retry-After: the waiting nudge is handed back, and the next pass sends it once', async () => {
    const script = fakeSender((d, attempt) =>
      attempt < 2
        ? { status: 'retry', retryAfterMs: 60_000, reason: '429 rate limited', rateLimited: true }
        : { status: 'sent', messageRef: `m${d.deliveryId}` },
    );
    // Real time and the scheduler's own sleep: what a deploy's SIGTERM meets.
    const first = createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: { console: script.sender },
      instance: soloInstance(1),
    });
    await seedUser(database().db, { id: 'U1', dueAt: new Date(Date.now() - 30_000) });
    const pass = first.tick();
    while (script.attempts.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const stopping = Date.now();
    await first.stop();
    expect(Date.now() - stopping).toBeLessThan(10_000);
    await pass;
    const [held] = await deliveries(database().db);
    // Neither sent nor given up: still claimed, by nobody, so the next pass looks on the platform and sends it.
    expect(held).toMatchObject({ status: 'claimed', attempts: 1 });
    const next = createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: { console: script.sender },
      instance: soloInstance(2),
    });
    await next.tick();
    await next.stop();
    const [row] = await deliveries(database().db);
    expect(row).toMatchObject({ status: 'sent' });
    expect(script.reconciled).toEqual([row!.id]);
    expect(script.sent).toHaveLength(1);
  });

  it('pauses a person who cannot be reached, with the reason', async () => {
    const script = fakeSender(() => ({
      status: 'permanent',
      reason: 'Discord: cannot send messages to this user (DMs closed)',
    }));
    const { scheduler } = setup(script);
    const db = database().db;
    const { userId } = await seedUser(db, { id: 'U1', dueAt: new Date('2026-03-03T10:00:00Z') });
    expect(await scheduler.tick()).toMatchObject({ failed: 1 });
    expect(await prefsRow(db, userId)).toMatchObject({
      next_due_at: null,
      paused_reason: expect.stringMatching(/DMs closed/),
    });
    expect((await deliveries(db))[0]!.status).toBe('failed');
  });

  it('records an unavailable person (do-not-disturb) without sending', async () => {
    const script = fakeSender();
    script.sender.isAvailable = async () => ({ available: false, reason: 'do not disturb' });
    const { scheduler } = setup(script);
    await seedUser(database().db, { id: 'U1', dueAt: new Date('2026-03-03T10:00:00Z') });
    expect(await scheduler.tick()).toMatchObject({ unavailable: 1, sent: 0 });
    expect((await deliveries(database().db))[0]!.status).toBe('unavailable');
    expect((await activity(database().db)).map((a) => a.outcome)).toEqual(['unavailable']);
  });

  it('marks an unanswered nudge ignored when the next slot comes round', async () => {
    const { scheduler, clock } = setup();
    const db = database().db;
    await seedUser(db, { id: 'U1', dueAt: new Date('2026-03-03T10:00:00Z') });
    await scheduler.tick();
    clock.set(new Date('2026-03-03T11:00:10Z'));
    await scheduler.tick();
    expect((await deliveries(db)).map((d) => d.status)).toEqual(['ignored', 'sent']);
    expect((await activity(db)).map((a) => a.outcome)).toEqual(['delivered', 'ignored', 'delivered']);
  });

  it('asks the routine library with the person’s kinds and latest routines, newest first', async () => {
    const calls: { allowed: readonly string[]; recentIds: readonly string[] }[] = [];
    const routines: NudgeRoutineSource = {
      pickForNudge(options) {
        calls.push({ allowed: [...options.allowed], recentIds: [...options.recentIds] });
        return fallbackRoutineSource.pickForNudge(options);
      },
      get: (id) => fallbackRoutineSource.get(id),
    };
    const { scheduler, clock } = setup(fakeSender(), { routines });
    await seedUser(database().db, {
      id: 'U1',
      dueAt: new Date('2026-03-03T10:00:00Z'),
      prefs: { kinds: ['posture', 'breathing'] },
    });
    await scheduler.tick();
    clock.set(new Date('2026-03-03T11:00:10Z'));
    await scheduler.tick();
    const ids = (await deliveries(database().db)).map((d) => d.routine_id);
    expect(calls).toEqual([
      { allowed: ['breathing', 'posture'], recentIds: [] },
      { allowed: ['breathing', 'posture'], recentIds: [ids[0]] },
    ]);
  });

  describe('after a crash', () => {
    /** A claim left by a scheduler (holder 99) that died between claiming and confirming. */
    async function orphan(options: { slotAt: Date; routineId: string | null }) {
      const db = database().db;
      const { userId } = await seedUser(db, { id: 'U1', dueAt: new Date(options.slotAt.getTime() + HOUR) });
      await db.execute(
        sql`insert into nudge_deliveries (user_id, slot_at, status, routine_id, claimed_at, claimed_by)
            values (${userId}, ${options.slotAt}, 'claimed', ${options.routineId}, ${options.slotAt}, 99)`,
      );
      return (await deliveries(db))[0]!.id;
    }

    it('confirms a claimed delivery the platform already has, without sending again', async () => {
      const script = fakeSender();
      const { scheduler } = setup(script);
      const id = await orphan({ slotAt: new Date('2026-03-03T10:00:00Z'), routineId: 'nudge-shoulder-rolls' });
      script.posted.set(id, 'already-there');
      await scheduler.start();
      await scheduler.stop();
      expect(script.reconciled).toEqual([id]);
      expect(script.sent).toHaveLength(0);
      expect((await deliveries(database().db))[0]).toMatchObject({ status: 'sent', message_ref: 'already-there' });
    });

    it('sends a claimed delivery the platform does not have, once, with the routine chosen before the crash', async () => {
      const script = fakeSender();
      const { scheduler } = setup(script);
      const id = await orphan({ slotAt: new Date('2026-03-03T10:00:00Z'), routineId: 'nudge-slow-breaths' });
      await scheduler.reconcile();
      await scheduler.tick();
      expect(script.reconciled).toEqual([id]);
      expect(script.sent.map((d) => [d.deliveryId, d.message.summary])).toEqual([
        [id, expect.stringContaining('Three slow breaths')],
      ]);
      expect((await deliveries(database().db))[0]!.status).toBe('sent');
    });

    it('records a claimed delivery found unsent more than 10 minutes late as missed', async () => {
      const script = fakeSender();
      const { scheduler, clock } = setup(script);
      await orphan({ slotAt: new Date('2026-03-03T10:00:00Z'), routineId: 'nudge-slow-breaths' });
      clock.set(new Date('2026-03-03T10:30:00Z'));
      await scheduler.reconcile();
      expect(script.sent).toHaveLength(0);
      expect((await deliveries(database().db))[0]!.status).toBe('missed');
    });

    it('reconciles its own claim left unconfirmed by an earlier pass (nothing of ours is in flight between passes)', async () => {
      const script = fakeSender();
      const { scheduler } = setup(script);
      const id = await orphan({ slotAt: new Date('2026-03-03T10:00:00Z'), routineId: 'nudge-slow-breaths' });
      await database().db.execute(sql`update nudge_deliveries set claimed_by = 1 where id = ${id}`);
      script.posted.set(id, 'posted-before-confirm-failed');
      await scheduler.reconcile();
      expect(script.sent).toHaveLength(0);
      expect((await deliveries(database().db))[0]).toMatchObject({
        status: 'sent',
        message_ref: 'posted-before-confirm-failed',
      });
    });

    it('a claim the platform cannot check (history refused) is retried while it matters, then closed unsent, never looped on', async () => {
      const script = fakeSender();
      script.sender.reconcile = async () => {
        throw new Error('ratelimited: one history call a minute');
      };
      const { scheduler, clock } = setup(script);
      await orphan({ slotAt: new Date('2026-03-03T10:00:00Z'), routineId: 'nudge-slow-breaths' });
      clock.set(new Date('2026-03-03T10:30:00Z'));
      await scheduler.reconcile();
      // Still unknown, and within the hour: released for another look, not sent and not closed.
      expect((await deliveries(database().db))[0]).toMatchObject({ status: 'claimed', claimed_by: null });
      clock.set(new Date('2026-03-03T11:05:00Z'));
      await scheduler.reconcile();
      expect(script.sent).toHaveLength(0);
      expect((await deliveries(database().db))[0]).toMatchObject({
        status: 'missed',
        last_error: expect.stringMatching(/could not be checked/),
      });
    });

    it('leaves a claim alone while its holder is still running', async () => {
      const script = fakeSender();
      const alive: SchedulerInstance = {
        id: 1,
        isAlive: async (holder) => holder === 1 || holder === 99,
        close: async () => undefined,
      };
      const { scheduler } = setup(script, { instance: alive });
      await orphan({ slotAt: new Date('2026-03-03T10:00:00Z'), routineId: 'nudge-slow-breaths' });
      await scheduler.reconcile();
      expect(script.reconciled).toEqual([]);
      expect((await deliveries(database().db))[0]).toMatchObject({ status: 'claimed', claimed_by: 99 });
    });
  });
});
