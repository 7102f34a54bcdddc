import { sql, type SQL } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { queryRows, type Queryable } from '../../../db/client.js';
import {
  memberAndNudgeColumns,
  queryTeamWeeksFromEvents,
  weekRowSchema,
  type TeamWeeksInput,
  type WeekRow,
} from './query.js';
import { HISTORY_WEEKS, medianStreaks } from './streaks.js';

/*
 * The team stats view read from the weekly rollups (activity_week_rollups, nudge_week_rollups) rather than
 * from the events: a few rows per person instead of every event of the last eleven weeks. The rollups are
 * kept by database triggers (drizzle/0009_stats_rollups.sql, docs/stats-rollups.md); the figures are the
 * event-scanning query's (query.ts), which a test holds them to.
 */

/** The person's working days as bits (Monday = 1), straight from the jsonb array: no per-person subquery. */
const workingDayBits = sql.raw(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d, i) => `((p.days ? '${d}')::int << ${i})`).join(' | '),
);
const didMask = sql.raw([1, 2, 3, 4, 5, 6, 7].map((n) => `((r.did_days[${n}] > 0)::int << ${n - 1})`).join(' | '));

const count = z.coerce.number().int().nonnegative();
const rollupRowSchema = weekRowSchema.omit({ medianStreak: true }).extend({
  /** False when the rollups are kept in another timezone than the view asks for: the events are read instead. */
  sameZone: z.boolean().nullable(),
  /** Per active person, anonymous: [working-day bits, week offsets, did-something bits per week]; first row only. */
  people: z.array(z.tuple([count, z.array(count), z.array(count)])).nullable(),
});

/** Exported as SQL so the benchmark can EXPLAIN exactly what the bot runs. */
export function teamWeeksRollupQuery(input: TeamWeeksInput): SQL {
  const { workspaceId, scope, window } = input;
  const tz = window.timezone;
  const everyone = scope.kind === 'workspace';
  const ids = JSON.stringify(scope.kind === 'members' ? scope.platformUserIds : []);
  const first = sql`${window.baselineMonday}::date`;
  const history = sql`(${first} - ${HISTORY_WEEKS * 7}::int)`;
  const end = sql`(${first} + 7 * ${window.count}::int)`;
  return sql`
with team as materialized (
  select u.id, u.created_at, coalesce(p.opted_in, false) as opted_in,
    case when p.days is null then 31 else ${workingDayBits} end as wd
  from users u left join preferences p on p.user_id = u.id
  where u.workspace_id = ${workspaceId}
    and (${everyone} or u.platform_user_id in (select jsonb_array_elements_text(${ids}::jsonb)))
),
weeks as (
  select (${first} + 7 * i) as week_start from generate_series(0, ${window.count}::int - 1) as i
),
acts as materialized (
  select r.user_id, r.week_start, r.completed_sessions, r.unfinished_sessions, ${didMask} as mask
  from activity_week_rollups r
  where r.workspace_id = ${workspaceId} and r.week_start >= ${history} and r.week_start < ${end}
    and (${everyone} or r.user_id in (select id from team))
),
act_weeks as (
  select week_start, sum(completed_sessions) as sessions, count(*) filter (where completed_sessions > 0) as session_people,
    count(*) filter (where mask <> 0) as active,
    sum(unfinished_sessions) as unfinished, count(*) filter (where unfinished_sessions > 0) as unfinished_people
  from acts where week_start >= ${first} group by 1
),
nudge_people as (
  select r.week_start, r.sent + r.done + r.snoozed + r.skipped + r.stopped + r.ignored as delivered,
    r.done, r.snoozed, r.skipped, r.ignored
  from nudge_week_rollups r
  where r.workspace_id = ${workspaceId} and r.week_start >= ${first} and r.week_start < ${end}
    and (${everyone} or r.user_id in (select id from team))
),
nudges as (
  select week_start,
    sum(delivered) as delivered, count(*) filter (where delivered > 0) as delivered_people,
    sum(done) as done, count(*) filter (where done > 0) as done_people,
    sum(snoozed) as snoozed, count(*) filter (where snoozed > 0) as snoozed_people,
    sum(skipped) as skipped, count(*) filter (where skipped > 0) as skipped_people,
    sum(ignored) as ignored, count(*) filter (where ignored > 0) as ignored_people
  from nudge_people group by 1
),
people as (
  -- Streaks need each active person's days: their weeks' did-something bits, joined to the team for their working days.
  select json_agg(json_build_array(t.wd, a.offsets, a.masks)) as people
  from (
    -- (Both arrays are built in one pass, so they line up without an ORDER BY, which would force a sort.)
    select user_id, array_agg((week_start - ${history}) / 7) as offsets, array_agg(mask) as masks
    from acts where mask <> 0 group by user_id having max(week_start) >= ${first}
  ) as a join team t on t.id = a.user_id
)
select to_char(w.week_start, 'YYYY-MM-DD') as "weekStart",
  ${memberAndNudgeColumns(tz)},
  coalesce(a.sessions, 0)::int as "sessions", coalesce(a.session_people, 0)::int as "sessionPeople",
  coalesce(a.unfinished, 0)::int as "unfinishedSessions", coalesce(a.unfinished_people, 0)::int as "unfinishedSessionPeople",
  coalesce(a.active, 0)::int as "active",
  case when w.week_start = ${first} then (select timezone = ${tz} from workspaces where id = ${workspaceId}) end as "sameZone",
  case when w.week_start = ${first} then coalesce((select people from people), '[]'::json) end as "people"
from weeks w
  left join nudges n on n.week_start = w.week_start
  left join act_weeks a on a.week_start = w.week_start
order by w.week_start`;
}

/**
 * The live stats view. The rollups are kept in the workspace's stored timezone; when the view asks for
 * another one (a name PostgreSQL spells differently), it reads the events instead, so figures stay exact.
 */
export async function queryTeamWeeks(db: Queryable, input: TeamWeeksInput): Promise<WeekRow[]> {
  const rows = z.array(rollupRowSchema).parse(await queryRows<unknown>(db, teamWeeksRollupQuery(input)));
  if (rows[0]?.sameZone !== true) return queryTeamWeeksFromEvents(db, input);
  const { window } = input;
  const historyStart = DateTime.fromISO(window.baselineMonday, { zone: 'UTC' }).minus({ weeks: HISTORY_WEEKS });
  const today = DateTime.fromISO(window.today, { zone: 'UTC' }).diff(historyStart, 'days').days;
  const people = (rows[0].people ?? []).map(([workingDays, weekOffsets, masks]) => ({
    workingDays,
    weekOffsets,
    masks,
  }));
  const medians = medianStreaks(people, { weeks: window.count, today });
  return rows.map(({ sameZone: _zone, people: _people, ...row }, i) => ({ ...row, medianStreak: medians[i] ?? null }));
}
