import { DateTime, IANAZone } from 'luxon';
import { weekdays, type Weekday } from './preferences.js';

/**
 * Wall-clock maths in a named zone: the instant a local time names, a local calendar day's bounds, a daily time's
 * next occurrence. Pure functions, shared by the scheduler's slot maths and by the core (a team post's next time).
 */

const DAY_MS = 24 * 60 * 60 * 1000;

export type LocalDate = { year: number; month: number; day: number };

/** Calendar arithmetic on plain dates (no zone involved), via UTC. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** mon…sun for a calendar date. */
export function weekdayOf(date: LocalDate): Weekday {
  return weekdays[(new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7]!;
}

/**
 * Local-time conversions repeat endlessly across a tick (thousands of people share a handful of zones and
 * working hours), so they are remembered; the map is simply emptied when it grows large.
 */
const instantCache = new Map<string, number>();
const INSTANT_CACHE_MAX = 50_000;

/**
 * The instant a local wall-clock time names in `zone`. A time that exists twice (fall-back overlap)
 * takes the earlier instant; one that does not exist (spring-forward gap) moves forward by the gap.
 */
export function localInstant(zoneName: string, date: LocalDate, clock: string): number {
  const key = `${zoneName}|${date.year}-${date.month}-${date.day}|${clock}`;
  const cached = instantCache.get(key);
  if (cached !== undefined) return cached;
  const [hour, minute] = clock.split(':').map(Number) as [number, number];
  const zone = IANAZone.create(zoneName);
  const wallMs = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  // The offsets in force a day either side cover any change near this time; the instants whose own
  // offset agrees are the real ones.
  const offsets = new Set([zone.offset(wallMs - DAY_MS), zone.offset(wallMs + DAY_MS)]);
  let earliest: number | null = null;
  for (const offset of offsets) {
    const instant = wallMs - offset * 60_000;
    if (zone.offset(instant) === offset && (earliest === null || instant < earliest)) earliest = instant;
  }
  // In the gap: luxon keeps the wall time and applies the offset from before the change, i.e. moves forward by the gap.
  const result =
    earliest ??
    DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour, minute }, { zone }).toMillis();
  if (instantCache.size >= INSTANT_CACHE_MAX) instantCache.clear();
  instantCache.set(key, result);
  return result;
}

/** The next instant after `after` at local `time` on one of `days` (a team's daily post); null only without days. */
export function nextDailyAt(timezone: string, days: readonly Weekday[], time: string, after: Date): Date | null {
  if (days.length === 0) return null;
  const afterMs = after.getTime();
  const local = new Date(afterMs + IANAZone.create(timezone).offset(afterMs) * 60_000);
  let day = addDays({ year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() }, -1);
  for (let i = 0; i < 10; i++, day = addDays(day, 1)) {
    if (!days.includes(weekdayOf(day))) continue;
    const at = localInstant(timezone, day, time);
    if (at > afterMs) return new Date(at);
  }
  return null;
}

/** The local calendar day (in `timezone`) that contains `instant`, as [start, end) instants: the daily cap's "day". */
export function localDayBounds(timezone: string, instant: Date): { start: number; end: number } {
  const ms = instant.getTime();
  const local = new Date(ms + IANAZone.create(timezone).offset(ms) * 60_000);
  const day = { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
  return { start: localInstant(timezone, day, '00:00'), end: localInstant(timezone, addDays(day, 1), '00:00') };
}
