import { eq, inArray, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { batcherPer, createBatcher } from './batcher.js';
import type { Queryable } from './client.js';
import { preferences, type PreferencesRow } from './schema.js';
import { preferencesSchema, type Preferences } from '../core/preferences.js';

export class StoredDataError extends Error {
  override name = 'StoredDataError';
}

/**
 * The stored preference fields, in one list: the mapper below, the raw SQL select list and its row parser all
 * come from it, so a new preference column is added here once.
 */
const preferenceFields = [
  'optedIn',
  'timezone',
  'days',
  'startTime',
  'endTime',
  'everyMinutes',
  'kinds',
  'snoozedUntil',
  'delivery',
  'channelId',
  'pausedReason',
  'weeklyHours',
  'daysOff',
  'maxPerDay',
] as const satisfies readonly (keyof PreferencesRow)[];

/** What the mapper reads: the preference fields of a row (drizzle's camelCase names). */
export type PreferenceFields = Pick<PreferencesRow, (typeof preferenceFields)[number]> & { userId: number };

/** Rows coming back from the database are validated like any other input (JSON columns above all). */
export function preferencesFromRow(row: PreferenceFields): Preferences {
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

/** The inverse of `preferencesFromRow`: the column values of a (validated) preference set. */
function preferencesToRow(prefs: Preferences): Omit<PreferenceFields, 'userId'> {
  return {
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
  };
}

/** `p.opted_in, p.timezone, …`: the preference columns for a raw select over `preferences` aliased as `alias`. */
export function preferenceColumnsSql(alias: string): SQL {
  return sql.raw(preferenceFields.map((field) => `${alias}.${preferences[field].name}`).join(', '));
}

/** Drivers differ in how they return numbers and timestamps in raw rows (PGlite and pg): these few are coerced. */
const coerced: Partial<Record<(typeof preferenceFields)[number], z.ZodType>> = {
  everyMinutes: z.coerce.number().int(),
  maxPerDay: z.coerce.number().int().nullable(),
  snoozedUntil: z.coerce.date().nullable(),
};

/**
 * Validated preference sets by content. Validation is a pure function of the stored values, and a scheduler tick
 * sees the same few combinations (zone, hours, kinds) over and over; the map is emptied when it grows large.
 */
const validated = new Map<string, Preferences>();
const VALIDATED_MAX = 20_000;

/** The mapper for a raw SQL row selected with `preferenceColumnsSql` (snake_case column names). */
export function preferencesFromSqlRow(raw: Record<string, unknown>, userId: number): Preferences {
  const values = preferenceFields.map((field) => {
    const value = raw[preferences[field].name] ?? null;
    const coerce = coerced[field];
    return coerce && value !== null ? coerce.parse(value) : value;
  });
  const key = JSON.stringify(values);
  const known = validated.get(key);
  if (known) return known;
  const fields = Object.fromEntries(preferenceFields.map((field, i) => [field, values[i]]));
  const prefs = preferencesFromRow({ ...(fields as Omit<PreferenceFields, 'userId'>), userId });
  if (validated.size >= VALIDATED_MAX) validated.clear();
  validated.set(key, prefs);
  return prefs;
}

export async function loadPreferences(db: Queryable, userId: number): Promise<Preferences | null> {
  const [row] = await db.select().from(preferences).where(eq(preferences.userId, userId));
  return row ? preferencesFromRow(row) : null;
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
  const values = { ...preferencesToRow(prefs), nextDueAt, updatedAt: now };
  await db
    .insert(preferences)
    .values({ userId, ...values })
    .onConflictDoUpdate({ target: preferences.userId, set: values });
}

/**
 * loadPreferences for whoever asks at the same moment, in one select: a burst of settings submissions costs a
 * few round trips, not one each (see batcher.ts).
 */
export const preferencesOf = batcherPer((db: Queryable) =>
  createBatcher<number, Preferences | null>({
    run: async (userIds) => {
      const rows = await db
        .select()
        .from(preferences)
        .where(inArray(preferences.userId, [...new Set(userIds)]));
      const byUser = new Map(rows.map((row) => [row.userId, row]));
      return userIds.map((id) => {
        const row = byUser.get(id);
        return row ? preferencesFromRow(row) : null;
      });
    },
  }),
);

interface PreferencesWrite {
  userId: number;
  prefs: Preferences;
  nextDueAt: Date | null;
  now: Date;
}

/** Every written column takes the new row's value on conflict (`excluded.…`), so one statement serves many rows. */
const fromExcluded = Object.fromEntries(
  [...preferenceFields, 'nextDueAt', 'updatedAt'].map((field) => [
    field,
    sql.raw(`excluded.${preferences[field as keyof PreferencesRow].name}`),
  ]),
);

/**
 * savePreferences for whoever saves at the same moment, in one multi-row statement. A person saving twice in one
 * group keeps the later write, as if the two had run one after the other.
 */
export const preferencesWriter = batcherPer((db: Queryable) =>
  createBatcher<PreferencesWrite, void>({
    run: async (writes) => {
      const last = new Map(writes.map((w) => [w.userId, w]));
      await db
        .insert(preferences)
        .values(
          [...last.values()].map((w) => ({
            userId: w.userId,
            ...preferencesToRow(w.prefs),
            nextDueAt: w.nextDueAt,
            updatedAt: w.now,
          })),
        )
        .onConflictDoUpdate({ target: preferences.userId, set: fromExcluded });
      return writes.map(() => undefined);
    },
  }),
);

/** The person cannot be reached: stop their nudges and say why (shown in `/backcare me` and settings). */
export async function pausePreferences(db: Queryable, userId: number, reason: string, at: Date): Promise<void> {
  await db.execute(
    sql`update preferences set paused_reason = ${reason.slice(0, 200)}, next_due_at = null, updated_at = ${at} where user_id = ${userId}`,
  );
}
