import { describe, expect, it } from 'vitest';
import { currentStreak, personalFields } from '../../../../src/core/features/stats/personal.js';
import { activityEvents, preferences } from '../../../../src/db/schema.js';
import { ask, buildTestCore, testActor } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';
import { addPerson, NOW, ny, seedWorkspace } from './stats-seed.js';

const weekdaysOnly = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;

describe('personal streak', () => {
  const days = (...d: string[]) => new Set(d);
  it('counts working days back from today, skipping days off, and keeps today open', () => {
    // Wed 11 March 2026; Mon 9 and Tue 10 done, and the whole week before.
    const done = days('2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-09', '2026-03-10');
    expect(currentStreak(done, weekdaysOnly, '2026-03-11')).toBe(7);
    expect(currentStreak(new Set([...done, '2026-03-11']), weekdaysOnly, '2026-03-11')).toBe(8);
    // A missed Monday breaks it.
    expect(currentStreak(days('2026-03-06', '2026-03-10'), weekdaysOnly, '2026-03-11')).toBe(1);
    // Yesterday missed and today not done yet: no streak.
    expect(currentStreak(days('2026-03-09'), weekdaysOnly, '2026-03-11')).toBe(0);
    // On a Sunday, Friday's streak is still current; weekend work neither helps nor hurts a Mon–Fri person.
    expect(currentStreak(days('2026-03-05', '2026-03-06', '2026-03-07'), weekdaysOnly, '2026-03-08')).toBe(2);
    // Someone who works weekends only.
    expect(
      currentStreak(days('2026-02-28', '2026-03-01', '2026-03-07', '2026-03-08'), ['sat', 'sun'], '2026-03-11'),
    ).toBe(4);
    expect(currentStreak(days('2026-02-28', '2026-03-01', '2026-03-07'), ['sat', 'sun'], '2026-03-11')).toBe(0);
  });
});

describe('personal fields', () => {
  it('names routines by title where the library knows them', () => {
    const fields = personalFields(
      {
        streak: 1,
        thisWeek: { nudgesDone: 2, sessions: 0 },
        favourites: [
          { routineId: 'a', times: 3 },
          { routineId: 'b', times: 1 },
        ],
      },
      (id) => (id === 'a' ? 'Chin tucks' : undefined),
    );
    expect(fields).toEqual([
      { label: 'Streak', value: '1 working day' },
      { label: 'This week', value: '2 nudges done, 0 sessions' },
      { label: 'Favourite routines', value: 'Chin tucks (3×), b (1×)' },
    ]);
  });
});

describeEachDatabase('your own figures in /backcare me', (database) => {
  it('shows the streak, this week and favourite routines from your own activity only', async () => {
    const db = database().db;
    const workspaceId = await seedWorkspace(db);
    const me = await addPerson(db, workspaceId, 'U_me');
    const other = await addPerson(db, workspaceId, 'U_other');
    await db
      .insert(preferences)
      .values({ userId: me, optedIn: true, timezone: 'America/New_York', days: [...weekdaysOnly], kinds: ['stretch'] });
    const event = (
      userId: number,
      local: string,
      kind: 'nudge' | 'session',
      routineId: string,
      outcome = kind === 'nudge' ? 'done' : 'completed',
    ) => ({
      userId,
      workspaceId,
      kind,
      outcome,
      source: kind === 'nudge' ? 'nudge' : 'stretch',
      routineId,
      occurredAt: ny(local),
    });
    await db.insert(activityEvents).values([
      ...['02', '03', '04', '05', '06'].map((d) => event(me, `2026-03-${d}T10:00`, 'session', 'routine-a')),
      event(me, '2026-03-09T10:00', 'nudge', 'routine-b'),
      // 23:30 on Tuesday in New York is Wednesday in UTC: still Tuesday for this person.
      event(me, '2026-03-10T23:30', 'session', 'routine-b'),
      event(me, '2026-03-10T12:00', 'session', 'shoulder-opener', 'stopped'),
      event(me, '2026-03-10T13:00', 'nudge', 'shoulder-opener', 'skipped'),
      ...['09', '10', '11'].map((d) => event(other, `2026-03-${d}T10:00`, 'session', 'cat-cow')),
    ]);
    const core = buildTestCore(db, { now: () => NOW });
    const result = await ask(core, '/backcare me', testActor({ userExternalId: 'U_me', isAdmin: false }));
    const fields = result.blocks.flatMap((b) => (b.type === 'fields' ? b.fields : []));
    expect(fields).toEqual(
      expect.arrayContaining([
        { label: 'Streak', value: '7 working days' },
        { label: 'This week', value: '1 nudge done, 1 session' },
        { label: 'Favourite routines', value: 'routine-a (5×), routine-b (2×)' },
      ]),
    );
  });
});
