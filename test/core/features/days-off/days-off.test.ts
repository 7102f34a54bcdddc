import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadPreferences, StoredDataError } from '../../../../src/db/preferences.js';
import { preferences } from '../../../../src/db/schema.js';
import { findUser, findWorkspace } from '../../../../src/db/users.js';
import { parseHoursText } from '../../../../src/core/settings-service.js';
import { replyText, type Reply } from '../../../../src/core/reply.js';
import { ask, buildTestCore, testClock } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';
import type { Db } from '../../../../src/db/client.js';

const form = {
  optedIn: 'yes',
  timezone: 'Europe/London',
  days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
  start: '09:00',
  end: '17:00',
  everyMinutes: '60',
  kinds: ['stretch'],
  delivery: 'dm',
  channelId: '',
  pause: 'keep',
};

async function myPrefs(db: Db) {
  const workspace = await findWorkspace(db, { platform: 'console', externalId: 'local' });
  const user = await findUser(db, workspace!.id, 'you');
  return { userId: user!.id, prefs: await loadPreferences(db, user!.id) };
}

const field = (reply: Reply, label: string) =>
  reply.blocks.flatMap((b) => (b.type === 'fields' ? b.fields : [])).find((f) => f.label === label)?.value;

describe('parseHoursText', () => {
  it('reads days with hours, days off, full names and dashes', () => {
    expect(parseHoursText('fri 09:00-13:00, sat off')).toEqual({
      ok: true,
      hours: { fri: { start: '09:00', end: '13:00' } },
      off: ['sat'],
    });
    expect(parseHoursText('Monday 8:30 – 12:00; thu 22:00 to 06:00')).toEqual({
      ok: true,
      hours: { mon: { start: '08:30', end: '12:00' }, thu: { start: '22:00', end: '06:00' } },
      off: [],
    });
    expect(parseHoursText('  ')).toEqual({ ok: true, hours: {}, off: [] });
  });

  it('names the entry it cannot read', () => {
    expect(parseHoursText('fri 9-1')).toEqual({
      ok: false,
      error: '`fri 9-1` is not like "fri 09:00-13:00" or "sat off"',
    });
    expect(parseHoursText('fry 09:00-13:00')).toMatchObject({ ok: false });
    expect(parseHoursText('frisbee 09:00-13:00')).toMatchObject({ ok: false });
    expect(parseHoursText('thurs 09:00-13:00')).toMatchObject({
      ok: true,
      hours: { thu: { start: '09:00', end: '13:00' } },
    });
    expect(parseHoursText('fri 09:00-25:00')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^fri: use 24-hour/),
    });
    expect(parseHoursText('fri 09:00-09:00')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^fri: end must differ/),
    });
    expect(parseHoursText('fri off, fri 09:00-13:00')).toEqual({ ok: false, error: 'fri appears twice' });
  });
});

describeEachDatabase('days off, hours per weekday and the daily maximum in settings', (database) => {
  it('adds, lists and removes days off; they are stored, read back through zod, and the next nudge skips them', async () => {
    // Monday 21 December 2026, 10:00 in London.
    const clock = testClock(new Date('2026-12-21T10:00:00Z'));
    const core = buildTestCore(database().db, { now: clock.now });
    await ask(core, {
      kind: 'submit',
      formId: 'settings',
      values: { ...form, days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
    });

    const added = await ask(core, '/backcare days-off add 2026-12-21 2026-12-25');
    expect(added.summary).toBe('Added Mon 21 Dec 2026 to Fri 25 Dec 2026: no nudges then.');
    await ask(core, '/backcare days-off add 2027-01-01');
    const { userId, prefs } = await myPrefs(database().db);
    expect(prefs?.daysOff).toEqual([
      { from: '2026-12-21', to: '2026-12-25' },
      { from: '2027-01-01', to: '2027-01-01' },
    ]);
    // No more slots this week: the next is Monday 28 December, 10:00 GMT.
    const [row] = await database()
      .db.select()
      .from(preferences)
      .where(sql`${preferences.userId} = ${userId}`);
    expect(row?.nextDueAt?.toISOString()).toBe('2026-12-28T10:00:00.000Z');

    const list = await ask(core, '/backcare days-off');
    expect(replyText(list)).toContain('1. Mon 21 Dec 2026 to Fri 25 Dec 2026\n2. Fri 1 Jan 2027');
    expect(field(await ask(core, '/backcare settings'), 'Days off')).toBe('2026-12-21 to 2026-12-25, 2027-01-01');

    const removed = await ask(core, '/backcare days-off remove 1');
    expect(removed.summary).toBe('Removed Mon 21 Dec 2026 to Fri 25 Dec 2026.');
    expect((await myPrefs(database().db)).prefs?.daysOff).toEqual([{ from: '2027-01-01', to: '2027-01-01' }]);
    const [after] = await database()
      .db.select()
      .from(preferences)
      .where(sql`${preferences.userId} = ${userId}`);
    expect(after?.nextDueAt?.toISOString()).toBe('2026-12-21T11:00:00.000Z');
    expect((await ask(core, '/backcare days-off remove 5')).summary).toBe('There is no day off number 5.');
  });

  it('refuses dates that do not exist, run backwards or have gone by, and bad words', async () => {
    const core = buildTestCore(database().db, { now: () => new Date('2026-12-21T10:00:00Z') });
    expect(replyText(await ask(core, '/backcare days-off add 2026-12-26 2026-12-24'))).toMatch(
      /the last day off must not be before the first/,
    );
    expect((await ask(core, '/backcare days-off add 2026-02-30')).summary).toMatch(/that date does not exist/);
    expect((await ask(core, '/backcare days-off add 2026-12-01 2026-12-05')).summary).toBe('That is in the past.');
    expect((await ask(core, '/backcare days-off add tomorrow')).summary).toMatch(/YYYY-MM-DD/);
    expect((await ask(core, '/backcare days-off remove one')).summary).toMatch(/remove takes the number/);
    expect((await myPrefs(database().db)).prefs?.daysOff ?? []).toEqual([]);
  });

  it('refuses stored days off that no longer validate when read back', async () => {
    const core = buildTestCore(database().db, { now: () => new Date('2026-12-21T10:00:00Z') });
    await ask(core, '/backcare days-off add 2026-12-24');
    await database().db.execute(
      sql`update preferences set days_off = ${JSON.stringify([{ from: 'soon', to: 'later' }])}::jsonb`,
    );
    const { userId } = await (async () => {
      const workspace = await findWorkspace(database().db, { platform: 'console', externalId: 'local' });
      return { userId: (await findUser(database().db, workspace!.id, 'you'))!.id };
    })();
    await expect(loadPreferences(database().db, userId)).rejects.toBeInstanceOf(StoredDataError);
  });

  it('sets "different hours on some days" and the daily maximum with /backcare hours and its form, and shows them in settings', async () => {
    const core = buildTestCore(database().db, { now: () => new Date('2026-12-21T10:00:00Z') });
    await ask(core, { kind: 'submit', formId: 'settings', values: form });
    const edit = await ask(core, '/backcare hours edit');
    expect(edit.form?.fields.map((f) => [f.id, f.initial])).toEqual([
      ['hours', ''],
      ['maxPerDay', '8'],
    ]);
    const saved = await ask(core, {
      kind: 'submit',
      formId: 'hours',
      values: { hours: 'fri 09:00-13:00, sat off, sun 10:00-12:00', maxPerDay: '5' },
    });
    expect(saved.formErrors).toBeUndefined();
    const { prefs } = await myPrefs(database().db);
    // "sat off" takes Saturday out; hours for Sunday make it a working day.
    expect(prefs?.days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri', 'sun']);
    expect(prefs?.hours).toEqual({
      fri: { start: '09:00', end: '13:00' },
      sun: { start: '10:00', end: '12:00', madeWorkingDay: true },
    });
    expect(replyText(saved)).toContain('Saturday is no longer one of your working days.');
    expect(replyText(saved)).toContain('Sunday is not one of your working days: now it is (10:00–12:00).');
    expect(prefs?.maxPerDay).toBe(5);
    const settings = await ask(core, '/backcare settings');
    expect(field(settings, 'Different hours')).toBe('fri 09:00-13:00, sun 10:00-12:00');
    expect(field(settings, 'Most a day')).toBe('5 nudges');
    expect((await ask(core, '/backcare hours edit')).form?.fields.map((f) => f.initial)).toEqual([
      'fri 09:00-13:00, sun 10:00-12:00',
      '5',
    ]);

    // The quick forms, as typed (also what Discord's free-text option sends).
    // A typed day is added to the others rather than replacing them.
    await ask(core, '/backcare hours mon 08:00-12:00');
    expect((await myPrefs(database().db)).prefs?.hours).toEqual({
      mon: { start: '08:00', end: '12:00' },
      fri: { start: '09:00', end: '13:00' },
      sun: { start: '10:00', end: '12:00', madeWorkingDay: true },
    });
    await ask(core, '/backcare hours max 3');
    expect((await myPrefs(database().db)).prefs?.maxPerDay).toBe(3);
    const cleared = await ask(core, '/backcare hours clear');
    expect((await myPrefs(database().db)).prefs?.hours ?? null).toBeNull();
    // Sunday was a working day only for its own hours; Saturday was taken off with "sat off" and stays off.
    expect((await myPrefs(database().db)).prefs?.days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri']);
    expect(replyText(cleared)).toContain('Sunday is not a working day any more');
    const [row] = await database().db.select().from(preferences);
    expect(row?.weeklyHours).toBeNull();

    // Saving the main settings form (which has no such fields) keeps them.
    await ask(core, '/backcare hours fri 09:00-13:00');
    await ask(core, {
      kind: 'submit',
      formId: 'settings',
      values: { ...form, days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sun'] },
    });
    expect((await myPrefs(database().db)).prefs).toMatchObject({
      hours: { fri: { start: '09:00', end: '13:00' } },
      maxPerDay: 3,
    });
  });

  it('one weekday at a time: hours add to the others, a new working day is said out loud, and clear restores the days exactly', async () => {
    const core = buildTestCore(database().db, { now: () => new Date('2026-12-21T10:00:00Z') });
    await ask(core, { kind: 'submit', formId: 'settings', values: { ...form, days: ['mon', 'tue', 'wed', 'thu'] } });

    const friday = await ask(core, '/backcare hours fri 09:00-13:00');
    expect(replyText(friday)).toContain('Friday is not one of your working days: now it is (09:00–13:00).');
    expect(friday.summary).toContain('Friday is not one of your working days');
    expect((await myPrefs(database().db)).prefs?.days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri']);

    const monday = await ask(core, '/backcare hours mon 22:00-02:00');
    // Monday already was a working day: only its hours change, and nothing is said about working days.
    expect(replyText(monday)).not.toMatch(/working days:/);
    const { prefs } = await myPrefs(database().db);
    expect(prefs?.hours).toEqual({
      fri: { start: '09:00', end: '13:00', madeWorkingDay: true },
      mon: { start: '22:00', end: '02:00' },
    });
    expect(prefs?.days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri']);

    const cleared = await ask(core, '/backcare hours clear');
    expect(replyText(cleared)).toContain('Friday is not a working day any more: it was one only for its own hours.');
    const after = (await myPrefs(database().db)).prefs;
    expect(after?.days).toEqual(['mon', 'tue', 'wed', 'thu']);
    expect(after?.hours ?? null).toBeNull();
  });

  it('points at the field when the per-day hours or the daily maximum are wrong, and stores nothing', async () => {
    const core = buildTestCore(database().db);
    const bad = await ask(core, {
      kind: 'submit',
      formId: 'hours',
      values: { hours: 'friday afternoons', maxPerDay: '8' },
    });
    expect(bad.formErrors).toEqual({ hours: '`friday afternoons` is not like "fri 09:00-13:00" or "sat off"' });
    const cap = await ask(core, { kind: 'submit', formId: 'hours', values: { hours: '', maxPerDay: '0' } });
    expect(cap.formErrors?.maxPerDay).toMatch(/at least 1/);
    expect((await ask(core, '/backcare hours max lots')).summary).toMatch(/whole number/);
    // Taking out every working day is refused on the hours field.
    expect((await ask(core, '/backcare hours mon off, tue off, wed off, thu off, fri off')).summary).toMatch(
      /at least one working day/,
    );
    expect(await database().db.select().from(preferences)).toHaveLength(0);
  });
});
