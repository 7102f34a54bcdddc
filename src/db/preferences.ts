import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Queryable } from './client.js';
import { preferences, type PreferencesRow } from './schema.js';
import { preferencesSchema, type Preferences } from '../core/preferences.js';

export class StoredDataError extends Error {
  override name = 'StoredDataError';
}

/** Rows coming back from the database are validated like any other input (JSON columns above all). */
export function preferencesFromRow(row: PreferencesRow): Preferences {
  const parsed = preferencesSchema.safeParse({
    optedIn: row.optedIn,
    timezone: row.timezone,
    days: row.days,
    start: row.startTime,
    end: row.endTime,
    everyMinutes: row.everyMinutes,
    kinds: row.kinds,
    snoozedUntil: row.snoozedUntil,
    delivery: row.delivery,
    channelId: row.channelId,
    pausedReason: row.pausedReason,
    hours: row.weeklyHours ?? null,
    daysOff: row.daysOff ?? null,
    maxPerDay: row.maxPerDay ?? null,
  });
  if (!parsed.success) {
    throw new StoredDataError(
      `stored preferences for user ${row.userId} are invalid: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

export async function loadPreferences(db: Queryable, userId: number): Promise<Preferences | null> {
  const [row] = await db.select().from(preferences).where(eq(preferences.userId, userId));
  return row ? preferencesFromRow(row) : null;
}

export async function loadPreferencesRow(db: Queryable, userId: number): Promise<PreferencesRow | null> {
  const [row] = await db.select().from(preferences).where(eq(preferences.userId, userId));
  return row ?? null;
}

/**
 * Writes the whole preference set (already validated) in one statement. `nextDueAt` is whatever the
 * scheduler's slot maths says for these preferences (null when opted out).
 */
export async function savePreferences(
  db: Queryable,
  userId: number,
  prefs: Preferences,
  nextDueAt: Date | null,
  now: Date,
): Promise<void> {
  const values = {
    optedIn: prefs.optedIn,
    timezone: prefs.timezone,
    days: [...prefs.days],
    startTime: prefs.start,
    endTime: prefs.end,
    everyMinutes: prefs.everyMinutes,
    kinds: [...prefs.kinds],
    snoozedUntil: prefs.snoozedUntil,
    delivery: prefs.delivery,
    channelId: prefs.channelId,
    pausedReason: prefs.pausedReason,
    // Empty means "none": stored as null so a plain row reads back the same.
    weeklyHours: prefs.hours && Object.keys(prefs.hours).length > 0 ? { ...prefs.hours } : null,
    daysOff: prefs.daysOff && prefs.daysOff.length > 0 ? prefs.daysOff.map((d) => ({ from: d.from, to: d.to })) : null,
    maxPerDay: prefs.maxPerDay ?? null,
    nextDueAt,
    updatedAt: now,
  };
  await db
    .insert(preferences)
    .values({ userId, ...values })
    .onConflictDoUpdate({ target: preferences.userId, set: values });
}
