import { describe, expect, it } from 'vitest';
import { localInstant } from '../../src/core/local-time.js';
import { nextSlot, nextSlots, type SlotRules } from '../../src/jobs/slots.js';
import { defaultPreferences } from '../../src/core/preferences.js';

const weekdaysOnly = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const rules = (over: Partial<SlotRules>): SlotRules => ({
  timezone: 'UTC',
  days: weekdaysOnly,
  start: '09:00',
  end: '17:00',
  everyMinutes: 60,
  ...over,
});

describe('slot rules', () => {
  it('puts the first slot one interval after the window opens and none at or after the close', () => {
    // Tuesday 2026-03-03 in UTC: 09:00–12:00 every 60 min → 10:00 and 11:00 only (12:00 is the close).
    const slots = nextSlots(rules({ end: '12:00' }), new Date('2026-03-03T00:00:00Z'), 3);
    expect(iso(slots)).toEqual(['2026-03-03T10:00:00.000Z', '2026-03-03T11:00:00.000Z', '2026-03-04T10:00:00.000Z']);
  });

  it('returns slots strictly after --from', () => {
    const slots = nextSlots(rules({}), new Date('2026-03-03T10:00:00Z'), 1);
    expect(iso(slots)).toEqual(['2026-03-03T11:00:00.000Z']);
  });

  it('skips days that are not working days (Friday → Monday)', () => {
    const slots = nextSlots(rules({ end: '11:00' }), new Date('2026-03-06T10:30:00Z'), 1);
    expect(iso(slots)).toEqual(['2026-03-09T10:00:00.000Z']);
  });

  describe('Europe/London', () => {
    const london = rules({ timezone: 'Europe/London', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] });

    it('follows the spring-forward change (GMT → BST on 29 March 2026)', () => {
      // 28 March 10:00 GMT = 10:00Z; 30 March 10:00 BST = 09:00Z.
      const slots = nextSlots({ ...london, end: '11:00' }, new Date('2026-03-28T00:00:00Z'), 3);
      expect(iso(slots)).toEqual(['2026-03-28T10:00:00.000Z', '2026-03-29T09:00:00.000Z', '2026-03-30T09:00:00.000Z']);
    });

    it('moves a start inside the spring-forward gap forward by the gap', () => {
      // 01:30 does not exist on 29 March (01:00 GMT → 02:00 BST): the window opens at 02:30 BST = 01:30Z.
      expect(new Date(localInstant('Europe/London', { year: 2026, month: 3, day: 29 }, '01:30')).toISOString()).toBe(
        '2026-03-29T01:30:00.000Z',
      );
      const slots = nextSlots(
        { ...london, start: '01:30', end: '04:00', everyMinutes: 30 },
        new Date('2026-03-29T00:00:00Z'),
        2,
      );
      expect(iso(slots)).toEqual(['2026-03-29T02:00:00.000Z', '2026-03-29T02:30:00.000Z']);
    });

    it('takes the earlier instant for a start inside the fall-back overlap and counts elapsed time', () => {
      // 01:30 happens twice on 25 October 2026: first in BST (00:30Z), then in GMT (01:30Z).
      expect(new Date(localInstant('Europe/London', { year: 2026, month: 10, day: 25 }, '01:30')).toISOString()).toBe(
        '2026-10-25T00:30:00.000Z',
      );
      // 01:00 BST (00:00Z) to 03:00 GMT (03:00Z) is three hours of elapsed time: slots at 01:00Z and 02:00Z.
      const slots = nextSlots({ ...london, start: '01:00', end: '03:00' }, new Date('2026-10-24T23:00:00Z'), 3);
      expect(iso(slots)).toEqual(['2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z', '2026-10-26T02:00:00.000Z']);
    });
  });

  describe('America/New_York', () => {
    const ny = rules({ timezone: 'America/New_York', days: ['sun', 'mon'], start: '09:00', end: '10:30' });

    it('follows the spring-forward change (EST → EDT on 8 March 2026)', () => {
      // Sunday 1 March 10:00 EST = 15:00Z; Sunday 8 March 10:00 EDT = 14:00Z.
      const slots = nextSlots(ny, new Date('2026-03-01T00:00:00Z'), 3);
      expect(iso(slots)).toEqual(['2026-03-01T15:00:00.000Z', '2026-03-02T15:00:00.000Z', '2026-03-08T14:00:00.000Z']);
    });

    it('follows the fall-back change (EDT → EST on 1 November 2026)', () => {
      const slots = nextSlots(ny, new Date('2026-10-27T00:00:00Z'), 3);
      // Monday 26 October 10:00 EDT would be 14:00Z; after the change 10:00 EST is 15:00Z.
      expect(iso(slots)).toEqual(['2026-11-01T15:00:00.000Z', '2026-11-02T15:00:00.000Z', '2026-11-08T15:00:00.000Z']);
    });

    it('moves a start inside the gap (02:30 on 8 March) forward to 03:30 EDT', () => {
      expect(new Date(localInstant('America/New_York', { year: 2026, month: 3, day: 8 }, '02:30')).toISOString()).toBe(
        '2026-03-08T07:30:00.000Z',
      );
    });

    it('takes the earlier 01:30 on 1 November (EDT, 05:30Z)', () => {
      expect(new Date(localInstant('America/New_York', { year: 2026, month: 11, day: 1 }, '01:30')).toISOString()).toBe(
        '2026-11-01T05:30:00.000Z',
      );
    });
  });

  it('handles half-hour offsets (Asia/Kolkata, UTC+05:30)', () => {
    const slots = nextSlots(rules({ timezone: 'Asia/Kolkata', everyMinutes: 90 }), new Date('2026-03-02T00:00:00Z'), 3);
    // 10:30, 12:00, 13:30 IST = 05:00Z, 06:30Z, 08:00Z.
    expect(iso(slots)).toEqual(['2026-03-02T05:00:00.000Z', '2026-03-02T06:30:00.000Z', '2026-03-02T08:00:00.000Z']);
  });

  it('handles 45-minute offsets (Asia/Kathmandu, UTC+05:45)', () => {
    const slots = nextSlots(
      rules({ timezone: 'Asia/Kathmandu', start: '08:15', end: '09:45', everyMinutes: 30 }),
      new Date('2026-03-02T00:00:00Z'),
      3,
    );
    // 08:45 and 09:15 NPT = 03:00Z and 03:30Z; then Tuesday 08:45 = 03:00Z.
    expect(iso(slots)).toEqual(['2026-03-02T03:00:00.000Z', '2026-03-02T03:30:00.000Z', '2026-03-03T03:00:00.000Z']);
  });

  it('runs a window over midnight and keeps it on the date it opened', () => {
    // Friday only, 22:00–02:00 UTC: slots run into Saturday morning, and nothing opens on Saturday night.
    const slots = nextSlots(
      rules({ days: ['fri'], start: '22:00', end: '02:00' }),
      new Date('2026-03-06T12:00:00Z'),
      4,
    );
    expect(iso(slots)).toEqual([
      '2026-03-06T23:00:00.000Z',
      '2026-03-07T00:00:00.000Z',
      '2026-03-07T01:00:00.000Z',
      '2026-03-13T23:00:00.000Z',
    ]);
  });

  it('finds the rest of last night’s window when asked after midnight', () => {
    const slots = nextSlots(
      rules({ days: ['fri'], start: '22:00', end: '02:00' }),
      new Date('2026-03-07T00:10:00Z'),
      1,
    );
    expect(iso(slots)).toEqual(['2026-03-07T01:00:00.000Z']);
  });

  it('skips slots before snoozeUntil and keeps the grid', () => {
    const slots = nextSlots(
      rules({ snoozeUntil: new Date('2026-03-03T12:30:00Z') }),
      new Date('2026-03-03T09:00:00Z'),
      2,
    );
    expect(iso(slots)).toEqual(['2026-03-03T13:00:00.000Z', '2026-03-03T14:00:00.000Z']);
  });

  it('returns nothing when a window is too short for the interval', () => {
    expect(
      nextSlots(rules({ start: '09:00', end: '09:30', everyMinutes: 60 }), new Date('2026-03-03T00:00:00Z'), 2),
    ).toEqual([]);
  });

  it('gives the settings service the next slot for stored preferences', () => {
    const prefs = { ...defaultPreferences('Europe/London'), optedIn: true };
    expect(nextSlot(prefs, new Date('2026-03-02T10:00:00Z'))?.toISOString()).toBe('2026-03-02T11:00:00.000Z');
  });
});
