import { sql, type SQL } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { queryRows, type Queryable } from '../../../db/client.js';
import { nudgeColumns, queryTeamWeeksFromEvents, weekRowSchema, type TeamWeeksInput, type WeekRow } from './query.js';
import { HISTORY_WEEKS, WEEKS_PER_WORD, medianStreaks } from './streaks.js';

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

/** Both drivers return int4 array items as numbers: no coercion over thousands of them. */
const bits = z.number().int().nonnegative();
const rollupRowSchema = weekRowSchema.omit({ medianStreak: true }).extend({
  /** False when the rollups are kept in another timezone than the view asks for: the events are read instead. */
  sameZone: z.boolean().nullable(),
  /** Per active person, anonymous and in the same order: working-day bits, and done days packed (streaks.ts); first row only. */
  workingDays: z.array(bits).nullable(),
  doneWords: z.array(z.array(bits)).nullable(),
});

/**
 * Each person's done days of the history and the weeks shown as a few ints (see PersonWeeks): bit_or over
 * their rollup rows, fixed-size aggregates where per-person arrays or JSON cost more than the rest of the view.
 */
function doneWordColumns(weeks: number): SQL {
  const words = Math.ceil((HISTORY_WEEKS + weeks) / WEEKS_PER_WORD);
  return sql.raw(
    Array.from(
      { length: words },
      (_, j) =>
        `coalesce(bit_or(mask << (7 * (week % ${WEEKS_PER_WORD}))) filter (where week / ${WEEKS_PER_WORD} = ${j}), 0)`,
    ).join(', '),
  );
}

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
  select i, (${first} + 7 * i) as week_start from generate_series(0, ${window.count}::int - 1) as i
),
member_weeks as (
  -- Members by the number of week ends at or before they joined, in one pass over the team: a week counts
  -- those joined before its end (as query.ts counts them per week).
  select width_bucket(t.created_at, array(select (week_start + 7)::timestamp at time zone ${tz} from weeks order by i)) as ends,
    count(*) as members, count(*) filter (where t.opted_in) as opted_in
  from team t group by 1
),
acts as not materialized (
  -- An index-only scan of activity_week_rollups_view_idx (every column read here is in it), once for the weeks
  -- shown and once for the streaks: cheaper than one scan kept in a CTE, and the first comes in week order.
  select r.user_id, r.week_start, (r.week_start - ${history}) / 7 as week, r.completed_sessions, r.unfinished_sessions,
    r.did_mask as mask
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
  -- Streaks need each active person's done days, joined to the team for their working days.
  -- (Both arrays are built in one pass, so they line up without an ORDER BY, which would force a sort.)
  select array_agg(t.wd) as working_days, array_agg(a.words) as done_words
  from (
    select user_id, array[${doneWordColumns(window.count)}] as words
    from acts where mask <> 0 group by user_id having max(week_start) >= ${first}
  ) as a join team t on t.id = a.user_id
)
select to_char(w.week_start, 'YYYY-MM-DD') as "weekStart",
  coalesce((select sum(m.members) from member_weeks m where m.ends <= w.i), 0)::int as "members",
  coalesce((select sum(m.opted_in) from member_weeks m where m.ends <= w.i), 0)::int as "optedIn",
  ${nudgeColumns()},
  coalesce(a.sessions, 0)::int as "sessions", coalesce(a.session_people, 0)::int as "sessionPeople",
  coalesce(a.unfinished, 0)::int as "unfinishedSessions", coalesce(a.unfinished_people, 0)::int as "unfinishedSessionPeople",
  coalesce(a.active, 0)::int as "active",
  case when w.i = 0 then (select timezone = ${tz} from workspaces where id = ${workspaceId}) end as "sameZone",
  pe.working_days as "workingDays", pe.done_words as "doneWords"
from weeks w
  left join nudges n on n.week_start = w.week_start
  left join act_weeks a on a.week_start = w.week_start
  left join people pe on w.i = 0
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
  const doneWords = rows[0].doneWords ?? [];
  const people = (rows[0].workingDays ?? []).map((workingDays, i) => ({ workingDays, doneWords: doneWords[i] ?? [] }));
  const medians = medianStreaks(people, { weeks: window.count, today });
  return rows.map(({ sameZone: _zone, workingDays: _days, doneWords: _words, ...row }, i) => ({
    ...row,
    medianStreak: medians[i] ?? null,
  }));
}
