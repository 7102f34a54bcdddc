import { DateTime } from 'luxon';

/** Streaks count back at most this many calendar days, so a view reads a bounded slice of history. */
export const STREAK_WINDOW_DAYS = 42;

export interface WeekWindow {
  timezone: string;
  /** Monday (local date, yyyy-MM-dd) of the week before the first one shown: the baseline for "change". */
  baselineMonday: string;
  /** Weeks queried: the baseline plus the ones shown. */
  count: number;
  /** First instant of the baseline week (local midnight, Monday). */
  rangeStart: Date;
  /** First instant after the current week (next Monday, local midnight). */
  rangeEnd: Date;
  /** Where the streak look-back starts: STREAK_WINDOW_DAYS before the baseline week. */
  historyStart: Date;
  /** Today's local date: the current week is counted up to now, and a streak stays alive until today ends. */
  today: string;
}

/**
 * The last `weeks` ISO weeks in the team's timezone, ending with the current (partial) one, plus one
 * week before them. Local midnights are turned into instants by luxon so DST changes land where they should.
 */
export function weekWindow(now: Date, timezone: string, weeks: number): WeekWindow {
  const local = DateTime.fromJSDate(now, { zone: timezone });
  const currentMonday = local.startOf('week');
  const baseline = currentMonday.minus({ weeks });
  return {
    timezone,
    baselineMonday: baseline.toISODate()!,
    count: weeks + 1,
    rangeStart: baseline.toJSDate(),
    rangeEnd: currentMonday.plus({ weeks: 1 }).toJSDate(),
    historyStart: baseline.minus({ days: STREAK_WINDOW_DAYS }).toJSDate(),
    today: local.toISODate()!,
  };
}

/** "Week 10, 2–8 Mar 2026" for a Monday given as yyyy-MM-dd. */
export function describeWeek(monday: string): { isoWeek: string; label: string; sunday: string } {
  const start = DateTime.fromISO(monday, { zone: 'UTC' });
  const end = start.plus({ days: 6 });
  const range =
    start.month === end.month
      ? `${start.day}–${end.toFormat('d LLL yyyy')}`
      : start.year === end.year
        ? `${start.toFormat('d LLL')} – ${end.toFormat('d LLL yyyy')}`
        : `${start.toFormat('d LLL yyyy')} – ${end.toFormat('d LLL yyyy')}`;
  return {
    isoWeek: `${start.weekYear}-W${String(start.weekNumber).padStart(2, '0')}`,
    label: `Week ${start.weekNumber}, ${range}`,
    sunday: end.toISODate()!,
  };
}
