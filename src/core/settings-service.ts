import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Queryable } from '../db/client.js';
import { loadPreferences, savePreferences } from '../db/preferences.js';
import {
  defaultPreferences,
  deliveryPlaces,
  nudgeKinds,
  preferencesSchema,
  weekdays,
  type Preferences,
} from './preferences.js';

/**
 * How the next nudge time follows from preferences. The scheduler provides the real slot maths;
 * the settings service only needs "when is the next one after now".
 */
export type NextSlotFn = (prefs: Preferences, after: Date) => Date | null;

export async function currentPreferences(db: Queryable, userId: number, platformTimezone?: string): Promise<Preferences> {
  return (await loadPreferences(db, userId)) ?? defaultPreferences(platformTimezone);
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
  await savePreferences(db, userId, prefs, nextDueAt, now);
}

const pauseChoices = ['keep', 'none', '1h', 'today', 'week'] as const;
export type PauseChoice = (typeof pauseChoices)[number];

const single = z.union([z.string(), z.array(z.string()).length(1).transform((a) => a[0]!)]);
const multiple = z.union([z.array(z.string()), z.string().transform((s) => (s.trim() === '' ? [] : s.split(',').map((p) => p.trim())))]);

/** What the settings form sends back: strings from every platform, turned into typed values here. */
export const settingsFormSchema = z.object({
  optedIn: single.pipe(z.enum(['yes', 'no'], { error: 'answer yes or no' })).transform((v) => v === 'yes'),
  timezone: single,
  days: multiple.pipe(z.array(z.enum(weekdays, { error: 'days are mon, tue, wed, thu, fri, sat, sun' }))),
  start: single,
  end: single,
  everyMinutes: single.pipe(
    z
      .string()
      .trim()
      .regex(/^\d+$/, 'interval must be a whole number of minutes')
      .transform(Number),
  ),
  kinds: multiple.pipe(z.array(z.enum(nudgeKinds, { error: `kinds are ${nudgeKinds.join(', ')}` }))),
  delivery: single.pipe(z.enum(deliveryPlaces, { error: 'delivery is dm or channel' })).default('dm'),
  channelId: single.optional().transform((v) => (v && v.trim() !== '' ? v.trim().replace(/^#/, '') : null)),
  pause: single.pipe(z.enum(pauseChoices)).default('keep'),
});

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

/** Validates a settings submission against the person's current preferences; errors are per form field. */
export function applySettingsForm(current: Preferences, values: Record<string, string | string[]>, now: Date): SettingsFormResult {
  const form = settingsFormSchema.safeParse(values);
  if (!form.success) return { ok: false, errors: fieldErrors(form.error) };
  const { pause, ...rest } = form.data;
  const candidate = {
    ...current,
    ...rest,
    snoozedUntil: pauseUntil(pause, now, current.timezone, current.snoozedUntil),
    // Saving settings by hand is how someone resumes after a pause they were told about.
    pausedReason: rest.optedIn ? null : current.pausedReason,
  };
  const parsed = preferencesSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) };
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
