import { z } from 'zod';
import { IANAZone } from 'luxon';
import { echo } from './echo.js';

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];
export const weekdayNames: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

// New kinds go at the end: stored rows list kinds by name, so old rows stay valid.
export const nudgeKinds = [
  'stretch',
  'breathing',
  'foam_roll',
  'relaxation',
  'posture',
  'hydration',
  'strength',
] as const;
export type NudgeKind = (typeof nudgeKinds)[number];
export const nudgeKindNames: Record<NudgeKind, string> = {
  stretch: 'Stretches',
  breathing: 'Breathing',
  foam_roll: 'Foam rolling',
  relaxation: 'Relaxation',
  posture: 'Posture and ergonomics',
  hydration: 'Hydration',
  strength: 'Strengthening',
};

export const deliveryPlaces = ['dm', 'channel'] as const;

/**
 * Answers by what was typed: each lookup builds an Intl.DateTimeFormat or two (about 0.25 ms), which made it
 * the largest cost in acknowledging a burst of settings forms. Bounded, as what is typed is anyone's.
 */
const canonicalZones = new Map<string, string | null>();
const CANONICAL_ZONES_MAX = 2000;

/** Canonical IANA name (e.g. "europe/london" → "Europe/London"), or null if the zone does not exist. */
export function canonicalTimezone(value: string): string | null {
  const known = canonicalZones.get(value);
  if (known !== undefined) return known;
  let canonical: string | null = null;
  if (IANAZone.isValidZone(value)) {
    try {
      canonical = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
    } catch {
      canonical = null;
    }
  }
  if (canonicalZones.size >= CANONICAL_ZONES_MAX) canonicalZones.clear();
  canonicalZones.set(value, canonical);
  return canonical;
}

export const timezoneSchema = z
  .string()
  .trim()
  .min(1, 'timezone is required')
  .transform((value, ctx) => {
    const canonical = canonicalTimezone(value);
    if (!canonical) {
      ctx.addIssue({
        code: 'custom',
        message: `${echo(value)} is not a timezone I know; use a name like Europe/London or America/New_York`,
      });
      return z.NEVER;
    }
    return canonical;
  });

export const clockTimeSchema = z
  .string()
  .trim()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use 24-hour HH:MM, like 09:00 or 17:30');

const weekdaySchema = z.enum(weekdays);
export const daysSchema = z
  .array(weekdaySchema)
  .min(1, 'choose at least one working day')
  .transform((days) => weekdays.filter((d) => days.includes(d)));

export const everyMinutesSchema = z
  .number({ error: 'interval must be a number of minutes' })
  .int('interval must be a whole number of minutes')
  .min(10, 'interval must be at least 10 minutes')
  .max(480, 'interval must be at most 480 minutes');

export const kindsSchema = z
  .array(z.enum(nudgeKinds))
  .min(1, 'choose at least one kind of nudge')
  .transform((kinds) => nudgeKinds.filter((k) => kinds.includes(k)));

/** Working hours of one weekday; an end earlier than the start runs past midnight, as for the common hours. */
export const dayHoursSchema = z
  .object({
    start: clockTimeSchema,
    end: clockTimeSchema,
    /** The day was not a working day until these hours were set: removing them (or `hours clear`) takes it out again. */
    madeWorkingDay: z.literal(true).optional(),
  })
  .refine((h) => h.start !== h.end, {
    path: ['end'],
    message: 'end must differ from start (an end before start means past midnight)',
  });

/** Hours that differ on some weekdays, e.g. `{"fri": {"start": "09:00", "end": "13:00"}}`; other days keep start/end. */
export const weeklyHoursSchema = z.strictObject(
  Object.fromEntries(weekdays.map((d) => [d, dayHoursSchema.optional()])) as Record<
    Weekday,
    z.ZodOptional<typeof dayHoursSchema>
  >,
);
export type WeeklyHours = Partial<Record<Weekday, { start: string; end: string; madeWorkingDay?: true }>>;

/** A local calendar date, `YYYY-MM-DD`, that exists. */
export const localDateSchema = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD, like 2026-12-24')
  .refine((s) => {
    const [y, m, d] = s.split('-').map(Number) as [number, number, number];
    const date = new Date(Date.UTC(y, m - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  }, 'that date does not exist');

/** Most ranges of days off one person keeps (ended ones are dropped when a new one is added). */
export const MAX_DAYS_OFF = 30;
/** Local dates, both inclusive: no nudge window opens on them. */
export const dayOffSchema = z
  .object({ from: localDateSchema, to: localDateSchema })
  .refine((r) => r.from <= r.to, { path: ['to'], message: 'the last day off must not be before the first' });
export type DayOff = z.infer<typeof dayOffSchema>;
export const daysOffSchema = z.array(dayOffSchema).max(MAX_DAYS_OFF, `at most ${MAX_DAYS_OFF} ranges of days off`);

/** Default for the daily cap on nudges: the default day (09:00–17:00, hourly) fits within it. */
export const DEFAULT_MAX_PER_DAY = 8;
export const maxPerDaySchema = z
  .number({ error: 'the daily maximum must be a number' })
  .int('the daily maximum must be a whole number')
  .min(1, 'the daily maximum must be at least 1')
  .max(48, 'the daily maximum must be at most 48');

/** Everything a person can set. Stored in `preferences`; validated again whenever a row is read back. */
export const preferencesSchema = z
  .object({
    optedIn: z.boolean(),
    timezone: timezoneSchema,
    days: daysSchema,
    start: clockTimeSchema,
    end: clockTimeSchema,
    everyMinutes: everyMinutesSchema,
    kinds: kindsSchema,
    snoozedUntil: z.date().nullable(),
    delivery: z.enum(deliveryPlaces),
    channelId: z.string().max(100).nullable(),
    pausedReason: z.string().max(200).nullable(),
    /** Optional so that older callers building preferences by hand stay valid (absent = none / default). */
    hours: weeklyHoursSchema.nullable().optional(),
    daysOff: daysOffSchema.nullable().optional(),
    maxPerDay: maxPerDaySchema.nullable().optional(),
  })
  .superRefine((prefs, ctx) => {
    for (const conflict of preferenceConflicts(prefs))
      ctx.addIssue({ code: 'custom', path: [conflict.field], message: conflict.message });
  });

/**
 * Rules between fields. Kept apart so a form can check them even when another field is wrong (zod skips a
 * refinement once the object has issues, which hid a missing channel behind a bad timezone).
 */
export function preferenceConflicts(prefs: {
  start: string;
  end: string;
  delivery: string;
  channelId: string | null;
}): { field: 'end' | 'channelId'; message: string }[] {
  const conflicts: { field: 'end' | 'channelId'; message: string }[] = [];
  if (prefs.start === prefs.end)
    conflicts.push({ field: 'end', message: 'end must differ from start (an end before start means past midnight)' });
  if (prefs.delivery === 'channel' && !prefs.channelId)
    conflicts.push({ field: 'channelId', message: 'name the team channel to post nudges in' });
  return conflicts;
}

export type Preferences = z.infer<typeof preferencesSchema>;

/** Nobody is nudged without saying yes: a new person's preferences start opted out. */
export function defaultPreferences(timezone?: string): Preferences {
  return {
    optedIn: false,
    timezone: (timezone && canonicalTimezone(timezone)) || 'UTC',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    start: '09:00',
    end: '17:00',
    everyMinutes: 60,
    kinds: ['stretch', 'breathing'],
    snoozedUntil: null,
    delivery: 'dm',
    channelId: null,
    pausedReason: null,
  };
}

export function describeDays(days: readonly Weekday[]): string {
  const key = days.join(',');
  if (key === 'mon,tue,wed,thu,fri') return 'weekdays';
  if (days.length === 7) return 'every day';
  return days.map((d) => weekdayNames[d].slice(0, 3)).join(', ');
}

export function describeInterval(minutes: number): string {
  if (minutes % 60 === 0) return minutes === 60 ? 'every hour' : `every ${minutes / 60} hours`;
  return `every ${minutes} minutes`;
}
