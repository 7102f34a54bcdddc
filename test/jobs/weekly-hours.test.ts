import { describe, expect, it } from 'vitest';
import { runSchedule } from '../../src/cli/schedule.js';
import { localDayBounds } from '../../src/core/local-time.js';
import { nextSlots, type SlotRules } from '../../src/jobs/slots.js';
import { weekdays } from '../../src/core/preferences.js';
import { cliInProcess } from '../support/cli.js';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const rules = (over: Partial<SlotRules>): SlotRules => ({
  timezone: 'UTC',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '17:00',
  everyMinutes: 60,
  ...over,
});

describe('hours per weekday', () => {
  it('uses a weekday’s own hours on that day and the common hours on the others', () => {
    // Thursday 2026-03-05 and Friday 2026-03-06, UTC. Friday 09:00–13:00: slots 10, 11, 12 only.
    const slots = nextSlots(
      rules({ hours: { fri: { start: '09:00', end: '13:00' } } }),
      new Date('2026-03-05T15:30:00Z'),
      5,
    );
    expect(iso(slots)).toEqual([
      '2026-03-05T16:00:00.000Z',
      '2026-03-06T10:00:00.000Z',
      '2026-03-06T11:00:00.000Z',
      '2026-03-06T12:00:00.000Z',
      '2026-03-09T10:00:00.000Z',
    ]);
  });

  it('gives the same slots as the simple form when every day’s hours equal the common ones', () => {
    const zones = ['Europe/London', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];
    for (const timezone of zones) {
      for (const [start, end] of [
        ['09:00', '17:00'],
        ['22:00', '06:00'],
        ['01:30', '03:15'],
      ] as const) {
        const simple = rules({ timezone, start, end, everyMinutes: 45, days: [...weekdays] });
        const explicit = { ...simple, hours: Object.fromEntries(weekdays.map((d) => [d, { start, end }])) };
        const from = new Date('2026-03-25T00:00:00Z'); // spans the European spring-forward change
        expect(iso(nextSlots(explicit, from, 120))).toEqual(iso(nextSlots(simple, from, 120)));
      }
    }
  });

  it('applies the slot rules per day across a spring-forward change (Europe/London, 29 March 2026)', () => {
    // Sunday's own hours 01:30–04:00 start inside the gap (01:00 GMT → 02:00 BST): the window opens at 02:30 BST
    // = 01:30Z and slots fall every 30 minutes of elapsed time strictly before 04:00 BST = 03:00Z.
    // Saturday (GMT) and Monday (BST) keep 09:00–10:30.
    const london = rules({
      timezone: 'Europe/London',
      days: ['sat', 'sun', 'mon'],
      start: '09:00',
      end: '10:30',
      everyMinutes: 30,
      hours: { sun: { start: '01:30', end: '04:00' } },
    });
    expect(iso(nextSlots(london, new Date('2026-03-28T00:00:00Z'), 8))).toEqual([
      '2026-03-28T09:30:00.000Z',
      '2026-03-28T10:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
      '2026-03-29T02:30:00.000Z',
      '2026-03-30T08:30:00.000Z',
      '2026-03-30T09:00:00.000Z',
      '2026-04-04T08:30:00.000Z', // the next Saturday is in BST too
      '2026-04-04T09:00:00.000Z',
    ]);
  });

  it('applies the slot rules per day across a fall-back change (America/New_York, 1 November 2026)', () => {
    // Sunday 01:00–03:00 local: 01:00 EDT (05:00Z) to 03:00 EST (08:00Z) is three hours elapsed → 06:00Z and 07:00Z.
    // Monday keeps 09:00–11:00 EST: 15:00Z only.
    const ny = rules({
      timezone: 'America/New_York',
      days: ['sun', 'mon'],
      start: '09:00',
      end: '11:00',
      hours: { sun: { start: '01:00', end: '03:00' } },
    });
    expect(iso(nextSlots(ny, new Date('2026-10-31T12:00:00Z'), 3))).toEqual([
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
      '2026-11-02T15:00:00.000Z',
    ]);
  });

  it('ends a night shift where the next day’s own window opens, so slots never overlap or go backwards', () => {
    // Monday 22:00–06:00 runs into Tuesday 04:00–08:00: Monday's window closes at 04:00.
    const shifts = rules({
      days: ['mon', 'tue'],
      start: '22:00',
      end: '06:00',
      everyMinutes: 120,
      hours: { tue: { start: '04:00', end: '08:00' } },
    });
    const slots = iso(nextSlots(shifts, new Date('2026-03-02T00:00:00Z'), 4));
    expect(slots).toEqual([
      '2026-03-03T00:00:00.000Z',
      '2026-03-03T02:00:00.000Z',
      '2026-03-03T06:00:00.000Z',
      '2026-03-10T00:00:00.000Z',
    ]);
    expect([...slots].sort()).toEqual(slots);
  });
});

describe('days off', () => {
  const weekdaysRules = rules({ end: '11:00' });

  it('sends nothing on the local dates of a days-off range, both ends included', () => {
    const slots = nextSlots(
      { ...weekdaysRules, daysOff: [{ from: '2026-03-03', to: '2026-03-05' }] },
      new Date('2026-03-02T12:00:00Z'),
      2,
    );
    expect(iso(slots)).toEqual(['2026-03-06T10:00:00.000Z', '2026-03-09T10:00:00.000Z']);
  });

  it('judges a day off by the date a window opens on, in the person’s timezone', () => {
    // Night shift 22:00–06:00 in Auckland (UTC+13 in March): Tuesday 3 March is off, so Monday's shift still
    // runs past midnight into the 3rd, and Tuesday evening's shift does not start.
    const auckland = rules({
      timezone: 'Pacific/Auckland',
      days: ['mon', 'tue', 'wed'],
      start: '22:00',
      end: '06:00',
      everyMinutes: 240,
      daysOff: [{ from: '2026-03-03', to: '2026-03-03' }],
    });
    expect(iso(nextSlots(auckland, new Date('2026-03-01T12:00:00Z'), 3))).toEqual([
      '2026-03-02T13:00:00.000Z', // Tue 3 March 02:00 local, from Monday's window
      '2026-03-04T13:00:00.000Z', // Thu 5 March 02:00 local, from Wednesday's window
      '2026-03-09T13:00:00.000Z', // the next Monday's window
    ]);
  });

  it('resumes after days off longer than the empty-days search limit', () => {
    const long = { ...weekdaysRules, daysOff: [{ from: '2026-03-03', to: '2027-06-30' }] };
    expect(iso(nextSlots(long, new Date('2026-03-03T00:00:00Z'), 1))).toEqual(['2027-07-01T10:00:00.000Z']);
  });

  it('uses the local calendar day for the daily cap, DST days included', () => {
    const day = localDayBounds('Europe/London', new Date('2026-03-29T12:00:00Z'));
    expect(new Date(day.start).toISOString()).toBe('2026-03-29T00:00:00.000Z');
    expect(new Date(day.end).toISOString()).toBe('2026-03-29T23:00:00.000Z'); // a 23-hour day
  });
});

describe('schedule CLI with the per-weekday form', () => {
  const ok = (prefs: object, from = '2026-12-23T00:00:00Z', count = '4') => {
    const result = runSchedule(['--prefs', JSON.stringify(prefs), '--from', from, '--count', count]);
    if (!result.ok) throw new Error(result.error);
    return JSON.parse(result.value) as string[];
  };
  const error = (prefs: object) => {
    const result = runSchedule(['--prefs', JSON.stringify(prefs), '--from', '2026-12-23T00:00:00Z', '--count', '3']);
    if (result.ok) throw new Error(`expected an error, got ${result.value}`);
    return result.error;
  };
  const base = {
    timezone: 'Europe/London',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    start: '09:00',
    end: '17:00',
    everyMinutes: 180,
  };

  it('accepts hours per weekday and days off together', () => {
    // Wed 23 Dec: 12:00, 15:00; 24–28 Dec off (Thu–Mon); Tue 29 Dec: 12:00, 15:00.
    expect(
      ok({
        ...base,
        hours: { wed: { start: '09:00', end: '16:00' } },
        daysOff: [{ from: '2026-12-24', to: '2026-12-28' }],
      }),
    ).toEqual([
      '2026-12-23T12:00:00.000Z',
      '2026-12-23T15:00:00.000Z',
      '2026-12-29T12:00:00.000Z',
      '2026-12-29T15:00:00.000Z',
    ]);
    // Wednesday 09:00–13:00 leaves only its 12:00 slot; Thursday keeps the common hours.
    expect(ok({ ...base, hours: { wed: { start: '09:00', end: '13:00' } } }, '2026-12-23T00:00:00Z', '2')).toEqual([
      '2026-12-23T12:00:00.000Z',
      '2026-12-24T12:00:00.000Z',
    ]);
  });

  it('says which per-weekday field is wrong', () => {
    expect(error({ ...base, hours: { fri: { start: '09:00', end: '9pm' } } })).toMatch(
      /^--prefs\.hours\.fri\.end: use 24-hour HH:MM/,
    );
    expect(error({ ...base, hours: { fri: { start: '09:00', end: '09:00' } } })).toMatch(
      /^--prefs\.hours\.fri\.end: end must differ/,
    );
    expect(error({ ...base, hours: { friday: { start: '09:00', end: '13:00' } } })).toMatch(
      /^--prefs\.hours: .*friday/,
    );
    expect(error({ ...base, hours: { sat: { start: '09:00', end: '13:00' } } })).toMatch(
      /^--prefs\.hours\.sat: sat is not in days/,
    );
    expect(error({ ...base, daysOff: [{ from: '2026-12-26', to: '2026-12-24' }] })).toMatch(
      /^--prefs\.daysOff\.0\.to: the last day off/,
    );
    expect(error({ ...base, daysOff: [{ from: '2026-02-30', to: '2026-03-01' }] })).toMatch(
      /^--prefs\.daysOff\.0\.from: that date does not exist/,
    );
  });

  it('the schedule command line takes the per-weekday form', async () => {
    const prefs = JSON.stringify({
      ...base,
      everyMinutes: 60,
      hours: { fri: { start: '09:00', end: '13:00' } },
      daysOff: [{ from: '2026-12-24', to: '2026-12-24' }],
    });
    // The CLI's dispatch in-process; the command as a process (npm form, exit status) is tested in test/cli/.
    const { code, stdout, stderr } = await cliInProcess([
      'schedule',
      '--prefs',
      prefs,
      '--from',
      '2026-12-24T00:00:00Z',
      '--count',
      '4',
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // Thursday 24 off; Friday 25 09:00–13:00 → 10, 11, 12; then Monday 28 at 10:00.
    expect(stdout).toBe(
      '["2026-12-25T10:00:00.000Z","2026-12-25T11:00:00.000Z","2026-12-25T12:00:00.000Z","2026-12-28T10:00:00.000Z"]\n',
    );
  });
});
