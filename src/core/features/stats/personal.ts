import { DateTime } from 'luxon';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Queryable } from '../../../db/client.js';
import { weekdays, type Weekday } from '../../preferences.js';

/** How far back a person's own figures look: a streak longer than a year is still "365". */
const HISTORY_DAYS = 366;
const FAVOURITES_DAYS = 90;

const dayRowSchema = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  kind: z.enum(['nudge', 'session']),
  routineId: z.string().nullable(),
  n: z.coerce.number().int().nonnegative(),
});

export interface PersonalFigures {
  /** Consecutive working days with something done, up to today (today still counts as "not yet"). */
  streak: number;
  thisWeek: { nudgesDone: number; sessions: number };
  /** The person's most-used routines in the last 90 days, most used first. */
  favourites: { routineId: string; times: number }[];
}

/**
 * The same streak rule as the team view, for one person: working days (their own) with a nudge done or a
 * session completed, counted back from today; days off neither break nor extend it.
 */
export function currentStreak(doneDays: ReadonlySet<string>, workingDays: readonly Weekday[], today: string): number {
  const isWorking = (d: DateTime) => workingDays.includes(weekdays[d.weekday - 1]!);
  let day = DateTime.fromISO(today, { zone: 'UTC' });
  if (isWorking(day) && !doneDays.has(today)) day = day.minus({ days: 1 });
  let streak = 0;
  for (let i = 0; i < HISTORY_DAYS; i += 1, day = day.minus({ days: 1 })) {
    if (!isWorking(day)) continue;
    if (!doneDays.has(day.toISODate()!)) break;
    streak += 1;
  }
  return streak;
}

/** A person's own figures from their own activity only: what `/backcare me` shows them, and nobody else. */
export async function personalFigures(
  db: Queryable,
  input: { userId: number; timezone: string; workingDays: readonly Weekday[]; now: Date },
): Promise<PersonalFigures> {
  const local = DateTime.fromJSDate(input.now, { zone: input.timezone });
  const today = local.toISODate()!;
  const monday = local.startOf('week').toISODate()!;
  const since = local.startOf('day').minus({ days: HISTORY_DAYS }).toJSDate();
  const rows = z.array(dayRowSchema).parse(
    await queryRows(
      db,
      sql`select to_char((occurred_at at time zone ${input.timezone})::date, 'YYYY-MM-DD') as day, kind, routine_id as "routineId", count(*)::int as n
          from activity_events
          where user_id = ${input.userId} and occurred_at >= ${since.toISOString()}::timestamptz
            and ((kind = 'nudge' and outcome = 'done') or (kind = 'session' and outcome = 'completed'))
          group by 1, 2, 3`,
    ),
  );
  const doneDays = new Set(rows.map((r) => r.day));
  const favouritesFrom = local.minus({ days: FAVOURITES_DAYS }).toISODate()!;
  const counts = new Map<string, number>();
  const thisWeek = { nudgesDone: 0, sessions: 0 };
  for (const row of rows) {
    if (row.day >= monday) {
      if (row.kind === 'nudge') thisWeek.nudgesDone += row.n;
      else thisWeek.sessions += row.n;
    }
    if (row.routineId && row.day >= favouritesFrom) counts.set(row.routineId, (counts.get(row.routineId) ?? 0) + row.n);
  }
  const favourites = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([routineId, times]) => ({ routineId, times }));
  return { streak: currentStreak(doneDays, input.workingDays, today), thisWeek, favourites };
}

/** The person's figures as labelled fields; `titleOf` turns a routine id into its title where the library knows it. */
export function personalFields(
  figures: PersonalFigures,
  titleOf: (routineId: string) => string | undefined,
): { label: string; value: string }[] {
  const { streak, thisWeek, favourites } = figures;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return [
    {
      label: 'Streak',
      value:
        streak === 0
          ? 'none yet: one break on a working day starts one'
          : plural(streak, 'working day', 'working days'),
    },
    {
      label: 'This week',
      value: `${plural(thisWeek.nudgesDone, 'nudge', 'nudges')} done, ${plural(thisWeek.sessions, 'session', 'sessions')}`,
    },
    {
      label: 'Favourite routines',
      value:
        favourites.length === 0
          ? 'none yet'
          : favourites.map((f) => `${titleOf(f.routineId) ?? f.routineId} (${f.times}×)`).join(', '),
    },
  ];
}
