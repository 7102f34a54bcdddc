import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Queryable } from '../db/client.js';
import type { ChannelRef } from './channel-messenger.js';
import { echo } from './echo.js';
import { preferencesOf, preferencesWriter } from '../db/preferences.js';
import { lookup } from './lookup.js';
import {
  clockTimeSchema,
  daysSchema,
  everyMinutesSchema,
  kindsSchema,
  timezoneSchema,
  dayHoursSchema,
  defaultPreferences,
  deliveryPlaces,
  nudgeKinds,
  preferenceConflicts,
  preferencesSchema,
  weekdayNames,
  weekdays,
  type Preferences,
  type Weekday,
  type WeeklyHours,
} from './preferences.js';

/**
 * How the next nudge time follows from preferences. The scheduler provides the real slot maths;
 * the settings service only needs "when is the next one after now".
 */
export type NextSlotFn = (prefs: Preferences, after: Date) => Date | null;

export async function currentPreferences(
  db: Queryable,
  userId: number,
  platformTimezone?: string,
): Promise<Preferences> {
  // Read together with other requests of the same moment (one select for a burst).
  return (await preferencesOf(db)(userId)) ?? defaultPreferences(platformTimezone);
}

/** Saves a complete, valid preference set and recomputes when the next nudge is due (none while opted out or paused). */
export async function storePreferences(
  db: Queryable,
  userId: number,
  prefs: Preferences,
  now: Date,
  nextSlot: NextSlotFn | undefined,
): Promise<void> {
  const nextDueAt = prefs.optedIn && !prefs.pausedReason && nextSlot ? nextSlot(prefs, now) : null;
  await preferencesWriter(db)({ userId, prefs, nextDueAt, now });
}

const pauseChoices = ['keep', 'none', '1h', 'today', 'week'] as const;
type PauseChoice = (typeof pauseChoices)[number];

const single = z.union([
  z.string(),
  z
    .array(z.string())
    .length(1)
    .transform((a) => a[0]!),
]);
const multiple = z.union([
  z.array(z.string()),
  z.string().transform((s) => (s.trim() === '' ? [] : s.split(',').map((p) => p.trim()))),
]);

/** What the settings form sends back: strings from every platform, turned into typed values here. */
const settingsFormSchema = z.object({
  optedIn: single.pipe(z.enum(['yes', 'no'], { error: 'answer yes or no' })).transform((v) => v === 'yes'),
  timezone: single,
  days: multiple.pipe(z.array(z.enum(weekdays, { error: 'days are mon, tue, wed, thu, fri, sat, sun' }))),
  start: single,
  end: single,
  everyMinutes: single.pipe(
    z.string().trim().regex(/^\d+$/, 'interval must be a whole number of minutes').transform(Number),
  ),
  kinds: multiple.pipe(z.array(z.enum(nudgeKinds, { error: `kinds are ${nudgeKinds.join(', ')}` }))),
  delivery: single.pipe(z.enum(deliveryPlaces, { error: 'delivery is dm or channel' })).default('dm'),
  /** As sent: a picker's id or typed text; applySettingsForm reads it with the platform's channel parser. */
  channelId: single.optional().transform((v) => (v && v.trim() !== '' ? v.trim() : null)),
  pause: single.pipe(z.enum(pauseChoices)).default('keep'),
  /** Optional so older forms (and platforms that drop empty fields) keep the stored values. */
  hours: single.optional(),
  maxPerDay: single
    .pipe(
      z
        .string()
        .trim()
        .regex(/^\d*$/, 'the daily maximum must be a whole number')
        .transform((v) => (v === '' ? null : Number(v))),
    )
    .optional(),
});

/**
 * "Different hours on some days", as typed: `fri 09:00-13:00, sat off`. Entries are separated by commas,
 * semicolons or new lines; a day is its name or first three letters; `off` takes the day out of the working
 * days, hours make it a working day with those hours.
 */
export type HoursText = { ok: true; hours: WeeklyHours; off: Weekday[] } | { ok: false; error: string };

/** `fri`, `Friday`, and the usual `tues`/`thurs`; anything else is not a day. */
function dayNamed(word: string): Weekday | undefined {
  const lower = word.toLowerCase();
  const extra: Record<string, Weekday> = { tues: 'tue', thur: 'thu', thurs: 'thu' };
  return lookup(extra, lower) ?? weekdays.find((d) => lower === d || lower === weekdayNames[d].toLowerCase());
}

export function parseHoursText(input: string): HoursText {
  const hours: WeeklyHours = {};
  const off: Weekday[] = [];
  for (const entry of input
    .split(/[,;\n]/)
    .map((e) => e.trim())
    .filter(Boolean)) {
    const match = /^([a-z]+)\s+(?:(off)|(\d{1,2}:\d{2})\s*(?:-|–|—|to)\s*(\d{1,2}:\d{2}))$/i.exec(entry);
    const day = match ? dayNamed(match[1]!) : undefined;
    if (!match || !day) return { ok: false, error: `${echo(entry)} is not like "fri 09:00-13:00" or "sat off"` };
    if (day in hours || off.includes(day)) return { ok: false, error: `${day} appears twice` };
    if (match[2]) {
      off.push(day);
      continue;
    }
    const pad = (t: string) => t.padStart(5, '0');
    const parsed = dayHoursSchema.safeParse({ start: pad(match[3]!), end: pad(match[4]!) });
    if (!parsed.success) return { ok: false, error: `${day}: ${parsed.error.issues[0]?.message ?? 'invalid hours'}` };
    hours[day] = parsed.data;
  }
  return { ok: true, hours, off };
}

export type HoursApplied =
  { ok: true; weekly: Pick<Preferences, 'days' | 'hours'>; notes: string[] } | { ok: false; error: string };

/**
 * The working days and per-day hours after "different hours on some days". `merge` (the typed command) changes
 * only the days it names; `replace` (the form, `clear`) makes the text the whole set of per-day hours. A day gets
 * hours without being a working day only by becoming one, which is said out loud and remembered, so that removing
 * its hours takes it out again; `off` takes a day out of the working days. Every change of working days is in `notes`.
 */
export function applyHoursText(
  current: Pick<Preferences, 'days' | 'hours'>,
  text: string,
  mode: 'merge' | 'replace' = 'replace',
): HoursApplied {
  const parsed = parseHoursText(text);
  if (!parsed.ok) return parsed;
  const before: WeeklyHours = current.hours ?? {};
  const hours: WeeklyHours = mode === 'merge' ? { ...before } : {};
  const days = new Set<Weekday>(current.days);
  const notes: string[] = [];
  const dropped = mode === 'replace' ? (Object.keys(before) as Weekday[]).filter((d) => !(d in parsed.hours)) : [];
  for (const day of dropped) {
    if (before[day]?.madeWorkingDay && days.delete(day))
      notes.push(`${weekdayNames[day]} is not a working day any more: it was one only for its own hours.`);
  }
  for (const [day, own] of Object.entries(parsed.hours) as [Weekday, { start: string; end: string }][]) {
    const becomes = !days.has(day);
    const remembered = before[day]?.madeWorkingDay === true && days.has(day);
    hours[day] = {
      start: own.start,
      end: own.end,
      ...(becomes || remembered ? { madeWorkingDay: true as const } : {}),
    };
    if (becomes) {
      days.add(day);
      notes.push(`${weekdayNames[day]} is not one of your working days: now it is (${own.start}–${own.end}).`);
    }
  }
  for (const day of parsed.off) {
    delete hours[day];
    if (days.delete(day)) notes.push(`${weekdayNames[day]} is no longer one of your working days.`);
  }
  return {
    ok: true,
    weekly: { days: weekdays.filter((d) => days.has(d)), hours: Object.keys(hours).length > 0 ? hours : null },
    notes,
  };
}

/** The per-day hours as the settings form shows them (working days only, in week order). */
export function formatHoursText(prefs: Pick<Preferences, 'days' | 'hours'>): string {
  return weekdays
    .filter((d) => prefs.days.includes(d) && prefs.hours?.[d])
    .map((d) => `${d} ${prefs.hours![d]!.start}-${prefs.hours![d]!.end}`)
    .join(', ');
}

export type SettingsFormResult = { ok: true; prefs: Preferences } | { ok: false; errors: Record<string, string> };

/** End of "pause" choices in the person's own timezone. */
function pauseUntil(choice: PauseChoice, now: Date, timezone: string, current: Date | null): Date | null {
  switch (choice) {
    case 'keep':
      return current;
    case 'none':
      return null;
    case '1h':
      return new Date(now.getTime() + 60 * 60 * 1000);
    case 'today':
      return DateTime.fromJSDate(now).setZone(timezone).plus({ days: 1 }).startOf('day').toJSDate();
    case 'week':
      return new Date(now.getTime() + 7 * 24 * 60 * 60 * 1000);
  }
}

/**
 * Validates a settings submission against the person's current preferences; errors are per form field, and every
 * field is checked even when another one is wrong, so the person sees all the problems in one go.
 */
/**
 * The stored record's rules for fields a form value lands in unchanged, so their errors are the ones
 * `applySettingsForm` reports too. Not `days` when the hours text is given: it can add or remove working days.
 */
const recordRules: Partial<Record<keyof typeof settingsFormSchema.shape, z.ZodType>> = {
  timezone: timezoneSchema,
  days: daysSchema,
  start: clockTimeSchema,
  end: clockTimeSchema,
  everyMinutes: everyMinutesSchema,
  kinds: kindsSchema,
};

/**
 * Each field's format on its own (a subset of what `applySettingsForm` reports, with the same messages): pure,
 * so a platform can refuse bad input before any database work.
 */
export function settingsFieldErrors(values: Record<string, string | string[]>): Record<string, string> {
  const errors: Record<string, string> = {};
  const shape = settingsFormSchema.shape;
  const hoursGiven = single.safeParse(values.hours ?? '').data?.trim();
  for (const key of Object.keys(shape) as (keyof typeof shape)[]) {
    const parsed = shape[key].safeParse(Object.hasOwn(values, key) ? values[key] : undefined);
    if (!parsed.success) {
      errors[key] = parsed.error.issues[0]?.message ?? 'this answer is not valid';
      continue;
    }
    const rule = key === 'days' && hoursGiven ? undefined : recordRules[key];
    const checked = rule?.safeParse(parsed.data);
    if (checked && !checked.success) errors[key] = checked.error.issues[0]?.message ?? 'this answer is not valid';
  }
  return errors;
}

export function applySettingsForm(
  current: Preferences,
  values: Record<string, string | string[]>,
  now: Date,
  /** The actor's platform channel parser (resolveChannel), so a form stores the same id a command would. */
  channelRef: (typed: string) => ChannelRef,
): SettingsFormResult {
  const errors: Record<string, string> = {};
  const data: Partial<z.output<typeof settingsFormSchema>> = {};
  const shape = settingsFormSchema.shape;
  for (const key of Object.keys(shape) as (keyof typeof shape)[]) {
    const parsed = shape[key].safeParse(Object.hasOwn(values, key) ? values[key] : undefined);
    if (parsed.success) (data as Record<string, unknown>)[key] = parsed.data;
    else errors[key] = parsed.error.issues[0]?.message ?? 'this answer is not valid';
  }
  if (data.channelId) {
    const channel = channelRef(data.channelId);
    if (channel.ok) data.channelId = channel.channelId;
    else {
      errors.channelId = channel.message;
      delete data.channelId;
    }
  }
  const { pause = 'keep', hours: hoursText, maxPerDay, ...rest } = data;
  const days = (rest.days ?? current.days) as Weekday[];
  let weekly: Pick<Preferences, 'days' | 'hours'> = { days, hours: current.hours ?? null };
  if (hoursText !== undefined) {
    const applied = applyHoursText({ days, hours: current.hours ?? null }, hoursText);
    if (applied.ok) weekly = applied.weekly;
    else errors.hours = applied.error;
  }
  const optedIn = rest.optedIn ?? current.optedIn;
  const candidate = {
    ...current,
    ...rest,
    ...weekly,
    ...(maxPerDay !== undefined ? { maxPerDay } : {}),
    snoozedUntil: pauseUntil(pause, now, current.timezone, current.snoozedUntil),
    // Saving settings by hand is how someone resumes after a pause they were told about.
    pausedReason: optedIn ? null : current.pausedReason,
  };
  const parsed = preferencesSchema.safeParse(candidate);
  // The whole-record checks (ranges, the timezone, a channel for channel delivery) add what the form checks did not.
  if (!parsed.success)
    for (const [field, message] of Object.entries(fieldErrors(parsed.error))) errors[field] ??= message;
  for (const conflict of preferenceConflicts(candidate)) errors[conflict.field] ??= conflict.message;
  if (Object.keys(errors).length > 0 || !parsed.success)
    return { ok: false, errors: Object.keys(errors).length > 0 ? errors : { form: 'those settings are not valid' } };
  return { ok: true, prefs: parsed.data };
}

function fieldErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form');
    errors[field] ??= issue.message;
  }
  return errors;
}
