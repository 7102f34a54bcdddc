import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../support/db.js';
import { silentLogger } from '../../../support/log.js';
import { ask, buildTestCore, testActor, testClock, testLibrary } from '../../../support/core.js';
import { createScheduler } from '../../../../src/jobs/scheduler.js';
import { soloInstance } from '../../../../src/jobs/instance.js';
import { NUDGE_ACTIONS } from '../../../../src/core/nudge-message.js';
import { replyText } from '../../../../src/core/reply.js';
import { deliveries, fakeSender, prefsRow, seedUser } from '../../../jobs/support/fixtures.js';

const at = (hhmm: string, seconds = '00') => new Date(`2026-03-03T${hhmm}:${seconds}Z`);
const hours = { start: '09:00', end: '17:00' };
const actorFor = (id: string) => testActor({ workspaceExternalId: 'W1', userExternalId: id, timezone: 'UTC' });

describeEachDatabase('/backcare break', (database) => {
  function setup(start: Date) {
    const clock = testClock(start);
    const sender = fakeSender();
    const db = database().db;
    const scheduler = createScheduler({
      db,
      log: silentLogger(),
      senders: { console: sender.sender },
      instance: soloInstance(1),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
      routines: testLibrary(),
    });
    const core = buildTestCore(db, { now: clock.now });
    return { clock, sender, scheduler, core, db };
  }

  it('gives a routine at once and, with a nudge due within 15 minutes, is that nudge: the slot is not sent again', async () => {
    const { clock, sender, scheduler, core, db } = setup(at('09:46'));
    const { userId } = await seedUser(db, { id: 'U1', dueAt: at('10:00'), prefs: hours });

    const taken = await ask(core, '/backcare break', actorFor('U1'));
    expect(taken.actions.map((a) => a.actionId)).toEqual([
      NUDGE_ACTIONS.done,
      NUDGE_ACTIONS.snooze,
      NUDGE_ACTIONS.skip,
      NUDGE_ACTIONS.stop,
    ]);
    expect(replyText(taken)).toContain('This counts as your 10:00 nudge');
    const [row] = await deliveries(db);
    expect(row).toMatchObject({ user_id: userId, status: 'sent' });
    expect(row!.slot_at.toISOString()).toBe(at('10:00').toISOString());
    // The routine comes from the content library's nudge rotation.
    expect(testLibrary().get(row!.routine_id!)).toBeDefined();
    expect((await prefsRow(db, userId)).next_due_at?.toISOString()).toBe(at('11:00').toISOString());

    clock.set(at('10:00', '30'));
    expect(await scheduler.tick()).toMatchObject({ claimed: 0, sent: 0 });
    expect(sender.sent).toHaveLength(0);
    clock.set(at('11:00', '30'));
    expect(await scheduler.tick()).toMatchObject({ sent: 1 });
  });

  it('is an extra break when the next nudge is more than 15 minutes away, and the nudge still comes', async () => {
    const { clock, sender, scheduler, core, db } = setup(at('09:44'));
    const { userId } = await seedUser(db, { id: 'U1', dueAt: at('10:00'), prefs: hours });
    const taken = await ask(core, '/backcare break', actorFor('U1'));
    expect(replyText(taken)).not.toContain('counts as your');
    expect((await deliveries(db)).map((d) => d.slot_at.toISOString())).toEqual([at('09:44').toISOString()]);
    expect((await prefsRow(db, userId)).next_due_at?.toISOString()).toBe(at('10:00').toISOString());
    clock.set(at('10:00', '30'));
    expect(await scheduler.tick()).toMatchObject({ sent: 1 });
    // The nudge does not repeat the routine the break just gave.
    expect(sender.sent[0]!.message.summary).not.toBe(taken.summary);
  });

  it('works for someone with nudges off (a plain break, nothing scheduled)', async () => {
    const { core, db } = setup(at('09:50'));
    const { userId } = await seedUser(db, { id: 'U1', dueAt: null, prefs: { ...hours, optedIn: false } });
    const taken = await ask(core, '/backcare break', actorFor('U1'));
    expect(taken.actions[0]?.actionId).toBe(NUDGE_ACTIONS.done);
    expect((await deliveries(db)).map((d) => [d.user_id, d.slot_at.toISOString()])).toEqual([
      [userId, at('09:50').toISOString()],
    ]);
    expect((await prefsRow(db, userId)).next_due_at).toBeNull();
  });

  it('racing the scheduler for a due slot, the slot is delivered exactly once per person', async () => {
    const { scheduler, core, db, sender } = setup(at('10:00', '10'));
    const people = ['A', 'B', 'C', 'D', 'E', 'F'];
    const ids = new Map<string, number>();
    for (const id of people) ids.set(id, (await seedUser(db, { id, dueAt: at('10:00'), prefs: hours })).userId);

    const [replies] = await Promise.all([
      Promise.all(people.map((id) => ask(core, '/backcare break', actorFor(id)))),
      scheduler.tick(),
    ]);

    const rows = await deliveries(db);
    for (const [index, id] of people.entries()) {
      const userId = ids.get(id)!;
      const atSlot = rows.filter((r) => r.user_id === userId && r.slot_at.getTime() === at('10:00').getTime());
      expect(atSlot).toHaveLength(1);
      const byScheduler = sender.sent.filter((d) => d.user.id === userId).length;
      const byBreak = replyText(replies[index]!).includes('counts as your 10:00 nudge') ? 1 : 0;
      expect(byScheduler + byBreak).toBe(1);
    }
  });
});
