import { IANAZone } from 'luxon';
import { z } from 'zod';
import {
  clockTimeSchema,
  daysOffSchema,
  daysSchema,
  everyMinutesSchema,
  timezoneSchema,
  weeklyHoursSchema,
  type DayOff,
  type Preferences,
  type Weekday,
  type WeeklyHours,
} from '../core/preferences.js';
import { addDays, localInstant, weekdayOf, type LocalDate } from '../core/local-time.js';

/**
 * When desk-break nudges fall. The CLI (`npm run cli -- schedule`), the settings service and the
 * scheduler all call `nextSlots`, so what a person is shown is what the bot does.
 */
export interface SlotRules {
  timezone: string;
  days: readonly Weekday[];
  start: string;
  end: string;
  everyMinutes: number;
  snoozeUntil?: Date | null;
  /** Different hours on some weekdays: replaces start/end on that weekday only. */
  hours?: WeeklyHours | null;
  /** Local dates (inclusive ranges) with no nudges: holidays, sick leave. A window belongs to the date it opens on. */
  daysOff?: readonly DayOff[] | null;
}

/** The CLI's `--prefs` JSON: the slot-relevant subset of preferences, validated like preferences. */
export const slotRulesSchema = z
  .object({
    timezone: timezoneSchema,
    days: z.array(z.string()).pipe(daysSchema),
    start: clockTimeSchema,
    end: clockTimeSchema,
    everyMinutes: everyMinutesSchema,
    snoozeUntil: z.iso
      .datetime({ offset: true, error: 'snoozeUntil must be an ISO instant like 2026-03-27T12:00:00Z' })
      .transform((s) => new Date(s))
      .nullable()
      .optional(),
    hours: weeklyHoursSchema.nullable().optional(),
    daysOff: daysOffSchema.nullable().optional(),
  })
  .refine((r) => r.start !== r.end, {
    path: ['end'],
    message: 'end must differ from start (an end before start means past midnight)',
  })
  .superRefine((r, ctx) => {
    for (const day of Object.keys(r.hours ?? {}) as Weekday[]) {
      if (!r.days.includes(day))
        ctx.addIssue({
          code: 'custom',
          path: ['hours', day],
          message: `${day} is not in days; add it to days to give it hours`,
        });
    }
  });

function rulesFromPreferences(prefs: Preferences): SlotRules {
  return {
    timezone: prefs.timezone,
    days: prefs.days,
    start: prefs.start,
    end: prefs.end,
    everyMinutes: prefs.everyMinutes,
    snoozeUntil: prefs.snoozedUntil,
    hours: prefs.hours ?? null,
    daysOff: prefs.daysOff ?? null,
  };
}

/**
 * A schedule whose windows are too short for its interval has no slots at all; after this many days
 * without one the search stops (a year and a bit covers every DST quirk that could open a slot).
 */
const MAX_EMPTY_DAYS = 400;

/** A local date as `YYYY-MM-DD`, the form days off are written in (compares correctly as a string). */
function isoDate(date: LocalDate): string {
  return `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

/** The last day of the days-off range covering `day`, or null when `day` is a normal day. */
function dayOffUntil(rules: SlotRules, day: LocalDate): LocalDate | null {
  if (!rules.daysOff || rules.daysOff.length === 0) return null;
  const key = isoDate(day);
  let until: string | null = null;
  for (const off of rules.daysOff)
    if (off.from <= key && key <= off.to && (until === null || off.to > until)) until = off.to;
  if (until === null) return null;
  const [year, month, date] = until.split('-').map(Number) as [number, number, number];
  return { year, month, day: date };
}

/** The opening hours of a weekday: its own hours if set, else the common start/end. */
function hoursOn(rules: SlotRules, weekday: Weekday): { start: string; end: string } {
  return rules.hours?.[weekday] ?? { start: rules.start, end: rules.end };
}

/** The working window that opens on a local date, or null if that weekday is not a working day. */
function windowOn(rules: SlotRules, day: LocalDate): { open: number; close: number } | null {
  const weekday = weekdayOf(day);
  if (!rules.days.includes(weekday)) return null;
  const { start, end } = hoursOn(rules, weekday);
  const open = localInstant(rules.timezone, day, start);
  // An end earlier than the start closes on the next date (night shifts); the window belongs to the date it opened on.
  const nextDay = addDays(day, 1);
  const closeDay = end < start ? nextDay : day;
  let close = localInstant(rules.timezone, closeDay, end);
  // With hours per weekday a night shift can run into the next day's window: it ends where that one opens, so
  // slots never overlap or go backwards. (With one start/end for all days this never bites.)
  if (rules.hours && end < start) {
    const next = weekdayOf(nextDay);
    if (rules.days.includes(next) && dayOffUntil(rules, nextDay) === null)
      close = Math.min(close, localInstant(rules.timezone, nextDay, hoursOn(rules, next).start));
  }
  return { open, close };
}

/**
 * The first `count` slots strictly after `after` (and not before `snoozeUntil`), in order.
 * Slots fall at window open + k × everyMinutes of elapsed time, k ≥ 1, strictly before the close.
 * Fewer than `count` come back only when the rules have no further slots at all.
 */
export function nextSlots(rules: SlotRules, after: Date, count: number): Date[] {
  const found: Date[] = [];
  if (count <= 0) return found;
  const stepMs = rules.everyMinutes * 60_000;
  const snoozeMs = rules.snoozeUntil?.getTime() ?? -Infinity;
  const afterMs = after.getTime();
  const from = Math.max(afterMs, snoozeMs);
  // Start a day early: a window that opened yesterday may still be running past midnight.
  const local = new Date(from + IANAZone.create(rules.timezone).offset(from) * 60_000);
  let day = addDays({ year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() }, -1);
  let emptyDays = 0;
  while (found.length < count && emptyDays < MAX_EMPTY_DAYS) {
    // Days off are finite, so they are jumped over whole and never count towards giving up.
    const offUntil = dayOffUntil(rules, day);
    if (offUntil) {
      day = addDays(offUntil, 1);
      continue;
    }
    const window = windowOn(rules, day);
    let foundToday = false;
    if (window) {
      // Jump straight to the first k that can qualify instead of walking from the open.
      const firstK = Math.max(1, Math.floor((from - window.open) / stepMs));
      for (let slot = window.open + firstK * stepMs; slot < window.close && found.length < count; slot += stepMs) {
        foundToday = true;
        if (slot > afterMs && slot >= snoozeMs) found.push(new Date(slot));
      }
    }
    emptyDays = foundToday ? 0 : emptyDays + 1;
    day = addDays(day, 1);
  }
  return found;
}

/** The next slot after `after`, or null when the rules never produce one. */
export function nextSlot(prefs: Preferences, after: Date): Date | null {
  return nextSlots(rulesFromPreferences(prefs), after, 1)[0] ?? null;
}
