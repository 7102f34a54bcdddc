import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { describeEachDatabase } from '../support/db.js';
import { silentLogger } from '../support/log.js';
import { ask, buildTestCore, button, testActor, testClock } from '../support/core.js';
import { createScheduler } from '../../src/jobs/scheduler.js';
import { soloInstance } from '../../src/jobs/instance.js';
import { NUDGE_ACTIONS } from '../../src/core/nudge-message.js';
import { loadPreferences } from '../../src/db/preferences.js';
import { queryRows, type Db } from '../../src/db/client.js';
import { deliveries, fakeSender, prefsRow, seedUser } from './support/fixtures.js';

const HOUR = 60 * 60 * 1000;
/** Tuesday 3 March 2026, UTC; the seeded person works 09:00–17:00 every day, hourly. */
const at = (hhmm: string) => new Date(`2026-03-03T${hhmm}:00Z`);
const hours = { start: '09:00', end: '17:00' };

async function addDelivery(db: Db, userId: number, slotAt: Date, status: string): Promise<void> {
  await db.execute(
    sql`insert into nudge_deliveries (user_id, slot_at, status, claimed_at, attempts) values (${userId}, ${slotAt}, ${status}, ${slotAt}, 1)`,
  );
}

async function setStatus(db: Db, slotAt: Date, status: string): Promise<void> {
  await db.execute(sql`update nudge_deliveries set status = ${status} where slot_at = ${slotAt}`);
}

async function questions(db: Db) {
  const rows = await queryRows<unknown>(
    db,
    sql`select delivery_id, asked_at, answer from nudge_questions order by asked_at`,
  );
  return rows.map((r) =>
    z.object({ delivery_id: z.coerce.number(), asked_at: z.coerce.date(), answer: z.string().nullable() }).parse(r),
  );
}

describeEachDatabase('daily cap and the skip-streak question', (database) => {
  function setup() {
    const clock = testClock(at('10:00'));
    const sender = fakeSender();
    const scheduler = createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: { console: sender.sender },
      instance: soloInstance(1),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
    });
    /** Moves to 30 seconds past the slot and ticks. */
    const tickAt = async (hhmm: string) => {
      clock.set(new Date(at(hhmm).getTime() + 30_000));
      return scheduler.tick();
    };
    return { clock, sender, scheduler, tickAt };
  }

  it('sends at most the daily maximum, skips the rest of that day without sending, and carries on the next day', async () => {
    const { sender, tickAt } = setup();
    const db = database().db;
    const { userId } = await seedUser(db, { id: 'U1', dueAt: at('10:00'), prefs: { ...hours, maxPerDay: 2 } });
    // Slots that never reached the person do not count towards the cap.
    await addDelivery(db, userId, at('09:30'), 'missed');

    expect(await tickAt('10:00')).toMatchObject({ sent: 1, capped: 0 });
    expect(await tickAt('11:00')).toMatchObject({ sent: 1, capped: 0 });
    expect(await tickAt('12:00')).toMatchObject({ sent: 0, capped: 1 });
    expect(sender.sent.map((d) => d.slotAt.toISOString())).toEqual([
      at('10:00').toISOString(),
      at('11:00').toISOString(),
    ]);
    // No row for the capped slot, and the next nudge is the first slot of the next day.
    // (The 10:00 nudge, unanswered when 11:00 came, is recorded as ignored; it still reached the person.)
    expect((await deliveries(db)).map((d) => d.status)).toEqual(['missed', 'ignored', 'sent']);
    expect((await prefsRow(db, userId)).next_due_at?.toISOString()).toBe('2026-03-04T10:00:00.000Z');
    expect(await tickAt('13:00')).toMatchObject({ claimed: 0, capped: 0 });
  });

  it('uses the default maximum of 8 when none is set', async () => {
    const { sender, clock, scheduler } = setup();
    const db = database().db;
    const { userId } = await seedUser(db, {
      id: 'U1',
      dueAt: new Date('2026-03-03T00:10:00Z'),
      prefs: { start: '00:00', end: '23:59', everyMinutes: 10 },
    });
    for (let i = 0; i < 12; i++) {
      clock.set(new Date(new Date('2026-03-03T00:10:30Z').getTime() + i * 10 * 60_000));
      await scheduler.tick();
    }
    expect(sender.sent).toHaveLength(8);
    expect((await prefsRow(db, userId)).next_due_at?.toISOString()).toBe('2026-03-04T00:10:00.000Z');
  });

  it('asks once after three skips in a row, not again in the same run, and again after a non-skip breaks it', async () => {
    const { sender, tickAt } = setup();
    const db = database().db;
    const { userId } = await seedUser(db, { id: 'U1', dueAt: at('10:00'), prefs: { ...hours, maxPerDay: 20 } });
    for (const hhmm of ['07:00', '08:00', '09:00']) await addDelivery(db, userId, at(hhmm), 'skipped');
    const asks = (i: number) => sender.sent[i]!.message.actions.some((a) => a.actionId === NUDGE_ACTIONS.fewer);

    await tickAt('10:00');
    expect(asks(0)).toBe(true);
    expect(sender.sent[0]!.message.actions.map((a) => a.actionId)).toContain(NUDGE_ACTIONS.pauseWeek);
    expect((await questions(db)).map((q) => q.asked_at.toISOString())).toEqual([at('10:00').toISOString()]);

    // Still skipping: no second question.
    await setStatus(db, at('10:00'), 'skipped');
    await tickAt('11:00');
    await setStatus(db, at('11:00'), 'skipped');
    await tickAt('12:00');
    expect([asks(1), asks(2)]).toEqual([false, false]);

    // A Done breaks the run, then three skips build it again.
    await setStatus(db, at('12:00'), 'done');
    for (const slot of ['13:00', '14:00', '15:00']) {
      await tickAt(slot);
      await setStatus(db, at(slot), 'skipped');
    }
    expect([asks(3), asks(4), asks(5)]).toEqual([false, false, false]);
    await tickAt('16:00');
    expect(asks(6)).toBe(true);
    expect(await questions(db)).toHaveLength(2);
  });

  it('"Send fewer" doubles the interval (up to 480) once; "Pause for a week" snoozes seven days', async () => {
    const { sender, tickAt, clock } = setup();
    const db = database().db;
    const { userId } = await seedUser(db, { id: 'U1', dueAt: at('10:00'), prefs: { ...hours, everyMinutes: 60 } });
    for (const hhmm of ['07:00', '08:00', '09:00']) await addDelivery(db, userId, at(hhmm), 'skipped');
    await tickAt('10:00');
    const core = buildTestCore(db, { now: clock.now });
    const actor = testActor({ workspaceExternalId: 'W1', userExternalId: 'U1' });
    const message = sender.sent[0]!.message;

    const fewer = await ask(core, { kind: 'action', ...button(message, NUDGE_ACTIONS.fewer) }, actor);
    expect(fewer.summary).toBe('Fewer nudges: every 2 hours.');
    expect((await loadPreferences(db, userId))?.everyMinutes).toBe(120);
    // next_due_at is recomputed on the new grid (09:00 + k × 120 min): 11:00, then 13:00, 15:00.
    expect((await prefsRow(db, userId)).next_due_at?.toISOString()).toBe(at('11:00').toISOString());

    // Only once: a second press, or the other answer, changes nothing.
    expect((await ask(core, { kind: 'action', ...button(message, NUDGE_ACTIONS.fewer) }, actor)).summary).toBe(
      'Already answered.',
    );
    expect((await ask(core, { kind: 'action', ...button(message, NUDGE_ACTIONS.pauseWeek) }, actor)).summary).toBe(
      'Already answered.',
    );
    expect((await loadPreferences(db, userId))?.everyMinutes).toBe(120);
    // Someone else pressing a forwarded button changes nothing either.
    await seedUser(db, { id: 'U2', dueAt: null });
    expect(
      (
        await ask(
          core,
          { kind: 'action', ...button(message, NUDGE_ACTIONS.fewer) },
          testActor({ workspaceExternalId: 'W1', userExternalId: 'U2' }),
        )
      ).summary,
    ).toBe('Already answered.');
    expect((await questions(db)).map((q) => q.answer)).toEqual(['fewer']);

    // A later question (after a Done and three more skips) offers the pause.
    await setStatus(db, at('10:00'), 'done');
    for (const hhmm of ['10:30', '10:40', '10:50']) await addDelivery(db, userId, at(hhmm), 'skipped');
    await db.execute(sql`update preferences set next_due_at = ${at('11:00')} where user_id = ${userId}`);
    await tickAt('11:00');
    const second = sender.sent[1]!.message;
    const paused = await ask(core, { kind: 'action', ...button(second, NUDGE_ACTIONS.pauseWeek) }, actor);
    expect(paused.summary).toBe('Nudges paused for a week.');
    const prefs = await loadPreferences(db, userId);
    expect(prefs?.snoozedUntil?.toISOString()).toBe(new Date(clock.now().getTime() + 7 * 24 * HOUR).toISOString());
    expect((await prefsRow(db, userId)).next_due_at!.getTime()).toBeGreaterThanOrEqual(prefs!.snoozedUntil!.getTime());
  });

  it('offers only the pause when nudges already come at the longest interval', async () => {
    const { sender, tickAt } = setup();
    const db = database().db;
    const { userId } = await seedUser(db, {
      id: 'U1',
      dueAt: at('10:00'),
      prefs: { start: '02:00', end: '23:00', everyMinutes: 480 },
    });
    for (const hhmm of ['07:00', '08:00', '09:00']) await addDelivery(db, userId, at(hhmm), 'skipped');
    await tickAt('10:00');
    const ids = sender.sent[0]!.message.actions.map((a) => a.actionId);
    expect(ids).toContain(NUDGE_ACTIONS.pauseWeek);
    expect(ids).not.toContain(NUDGE_ACTIONS.fewer);
  });

  it('a question on a nudge that was not sent (person busy) is not counted as asked: the next nudge asks', async () => {
    const clock = testClock(at('10:00'));
    const { sender, sent } = fakeSender();
    let busy = true;
    const scheduler = createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: {
        console: {
          ...sender,
          isAvailable: async () => (busy ? { available: false, reason: 'in a huddle' } : { available: true }),
        },
      },
      instance: soloInstance(1),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
    });
    const db = database().db;
    const { userId } = await seedUser(db, { id: 'U1', dueAt: at('10:00') });
    for (const hhmm of ['07:00', '08:00', '09:00']) await addDelivery(db, userId, at(hhmm), 'skipped');
    clock.set(new Date(at('10:00').getTime() + 30_000));
    expect(await scheduler.tick()).toMatchObject({ unavailable: 1 });
    expect(await questions(db)).toEqual([]);
    busy = false;
    clock.set(new Date(at('11:00').getTime() + 30_000));
    expect(await scheduler.tick()).toMatchObject({ sent: 1 });
    expect(sent[0]!.message.actions.map((a) => a.actionId)).toContain(NUDGE_ACTIONS.fewer);
    expect((await questions(db)).map((q) => q.asked_at.toISOString())).toEqual([at('11:00').toISOString()]);
  });

  it('a nudge that asked still asks when it is resent after a crash', async () => {
    const { sender, tickAt, scheduler } = setup();
    const db = database().db;
    const { userId } = await seedUser(db, { id: 'U1', dueAt: at('10:00') });
    for (const hhmm of ['07:00', '08:00', '09:00']) await addDelivery(db, userId, at(hhmm), 'skipped');
    await tickAt('10:00');
    // As if the process died after claiming and before sending: claimed by a holder that is gone, nothing posted.
    sender.posted.clear();
    await db.execute(
      sql`update nudge_deliveries set status = 'claimed', sent_at = null, claimed_by = 99 where slot_at = ${at('10:00')}`,
    );
    expect(await scheduler.reconcile()).toMatchObject({ reconciled: 1, sent: 1 });
    expect(sender.sent).toHaveLength(2);
    expect(sender.sent[1]!.message.actions.map((a) => a.actionId)).toContain(NUDGE_ACTIONS.fewer);
    expect(await questions(db)).toHaveLength(1);
  });
});
