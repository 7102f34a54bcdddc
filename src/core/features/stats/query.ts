import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Queryable } from '../../../db/client.js';
import { STREAK_WINDOW_DAYS, type WeekWindow } from './weeks.js';

/** Who a view covers: everyone Backcare knows in the workspace, or the platform ids an adapter listed. */
export type TeamScope = { kind: 'workspace' } | { kind: 'members'; platformUserIds: readonly string[] };

/** Delivery statuses that mean the nudge reached the person (the rest never left: claimed, missed, unavailable, failed). */
const deliveredStatuses = ['sent', 'done', 'snoozed', 'skipped', 'stopped', 'ignored'] as const;

const count = z.coerce.number().int().nonnegative();

/**
 * One row per ISO week, aggregates only. Each count comes with the number of distinct people behind it
 * (`*People`), which is what the privacy floor is judged on; those never leave the stats module.
 */
export const weekRowSchema = z.object({
  weekStart: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  members: count,
  optedIn: count,
  delivered: count,
  deliveredPeople: count,
  done: count,
  donePeople: count,
  snoozed: count,
  snoozedPeople: count,
  skipped: count,
  skippedPeople: count,
  ignored: count,
  ignoredPeople: count,
  sessions: count,
  sessionPeople: count,
  /** Sessions started and not completed (stopped, ended early with less than half played, or swapped for another). */
  unfinishedSessions: count,
  unfinishedSessionPeople: count,
  active: count,
  medianStreak: z.coerce.number().nonnegative().nullable(),
});
export type WeekRow = z.infer<typeof weekRowSchema>;

const isoDow = sql.raw(
  `case d when 'mon' then 1 when 'tue' then 2 when 'wed' then 3 when 'thu' then 4 when 'fri' then 5 when 'sat' then 6 when 'sun' then 7 end`,
);

/**
 * How many of a person's working days fall on or before `day`, counted from a fixed Monday. Consecutive
 * working days get consecutive numbers, which turns "streak of working days" into a gaps-and-islands query.
 */
/** `array[...]` items: for ISO weekday n, the count of working days on weekdays 1…n (no per-row subqueries). */
const cumulativeDays = [1, 2, 3, 4, 5, 6, 7]
  .map((n) => Array.from({ length: n }, (_, i) => `(${i + 1} = any(wd))::int`).join(' + '))
  .join(', ');

function workingDaysUpTo(day: SQL, perWeek: SQL, cumulative: SQL): SQL {
  return sql`((((${day}) - date '2000-01-03') / 7) * ${perWeek} + ${cumulative}[extract(isodow from (${day}))::int])`;
}

/**
 * The week's nudge figures, as both stats queries select them (from the week's nudge totals `n`): one list, so
 * the rollup view and the event query cannot drift.
 */
export function nudgeColumns(): SQL {
  return sql`coalesce(n.delivered, 0)::int as "delivered", coalesce(n.delivered_people, 0)::int as "deliveredPeople",
  coalesce(n.done, 0)::int as "done", coalesce(n.done_people, 0)::int as "donePeople",
  coalesce(n.snoozed, 0)::int as "snoozed", coalesce(n.snoozed_people, 0)::int as "snoozedPeople",
  coalesce(n.skipped, 0)::int as "skipped", coalesce(n.skipped_people, 0)::int as "skippedPeople",
  coalesce(n.ignored, 0)::int as "ignored", coalesce(n.ignored_people, 0)::int as "ignoredPeople"`;
}

export interface TeamWeeksInput {
  workspaceId: number;
  scope: TeamScope;
  window: WeekWindow;
}

/**
 * Streaks as gaps and islands: each working day with something done gets its ordinal among the person's
 * working days, consecutive ordinals form islands, and each active person-week looks up the island that
 * reaches its reference day. Reads `days`, `person_weeks` and `team` from the query around it.
 */
function streakCtes(window: WeekWindow): SQL {
  const today = sql`${window.today}::date`;
  const upTo = (day: SQL) => workingDaysUpTo(day, sql`t.k`, sql`t.cum`);
  return sql`ordinals as (
  select dd.user_id, ${upTo(sql`dd.day`)} as ord
  from days dd join team t on t.id = dd.user_id
  where extract(isodow from dd.day)::int = any(t.wd)
),
islands as (
  select user_id, min(ord) as start_ord, max(ord) as end_ord
  from (select user_id, ord, ord - row_number() over (partition by user_id order by ord) as grp from ordinals) as o
  group by user_id, grp
),
refs as materialized (
  select a.week_start, a.user_id,
    ${upTo(sql`r.x`)} as ref,
    ${upTo(sql`r.x`)} - ${upTo(sql`(r.x - ${STREAK_WINDOW_DAYS}::int)`)} as cap,
    -- Today still counts as "not yet": a streak ending yesterday is alive.
    case when r.x = ${today} and extract(isodow from r.x)::int = any(t.wd) then 1 else 0 end as grace
  from person_weeks a join team t on t.id = a.user_id
    cross join lateral (select least(a.week_start + 6, ${today}) as x) as r
),
streaks as (
  -- (least() skips nulls, so "no island" must be spelled out as 0.)
  select r.week_start, case when i.user_id is null then 0 else least(least(i.end_ord, r.ref) - i.start_ord + 1, r.cap) end as streak
  from refs r left join islands i on i.user_id = r.user_id and i.start_ord <= r.ref and i.end_ord >= r.ref - r.grace
),
streak_weeks as (
  select week_start, percentile_cont(0.5) within group (order by streak) as median_streak
  from streaks group by week_start
)`;
}

/**
 * The whole view in ONE statement: grouping by local ISO week happens in the database, over the
 * (workspace_id, occurred_at) index for activity and the (user_id, slot_at) index for deliveries.
 *
 * - members: people in the team Backcare knew by the end of the week; opted in: of those, nudges on now
 *   (preferences keep no history).
 * - nudge counts come from nudge_deliveries (one row per nudge, its final status), grouped by slot.
 * - "did something" = a nudge marked done or a completed on-demand session (activity_events); active
 *   members and streaks are built on it. Sessions started but not completed are counted apart and never
 *   make anyone active.
 * - streak: consecutive working days (the person's own days, Mon–Fri by default) with something done,
 *   counted back from the week's last day (today for the current week, which stays alive until today ends),
 *   at most STREAK_WINDOW_DAYS back; the median is over that week's active members.
 *
 * Exported as SQL so the benchmark and tests can compare it with the rollup-based view (rollups.ts).
 */
export function teamWeeksQuery(input: TeamWeeksInput): SQL {
  const { workspaceId, scope, window } = input;
  const tz = window.timezone;
  const everyone = scope.kind === 'workspace';
  const ids = JSON.stringify(scope.kind === 'members' ? scope.platformUserIds : []);
  const query = sql`
with people as materialized (
  select u.id, u.created_at, coalesce(p.opted_in, false) as opted_in,
    case when p.days is null then array[1, 2, 3, 4, 5] else array(select ${isoDow} from jsonb_array_elements_text(p.days) as d) end as wd
  from users u left join preferences p on p.user_id = u.id
  where u.workspace_id = ${workspaceId}
    and (${everyone} or u.platform_user_id in (select jsonb_array_elements_text(${ids}::jsonb)))
),
team as materialized (
  -- cum[n] = how many of the person's working days fall on ISO weekday n or before it.
  select id, created_at, opted_in, wd, cardinality(wd) as k, array[${sql.raw(cumulativeDays)}] as cum
  from people
),
weeks as (
  select (${window.baselineMonday}::date + 7 * i) as week_start
  from generate_series(0, ${window.count}::int - 1) as i
),
days as materialized (
  -- One row per person and local day with something done: everything below (weeks, streaks) starts here.
  select a.user_id, (a.occurred_at at time zone ${tz})::date as day, count(*) filter (where a.kind = 'session') as sessions
  from activity_events a
  where a.workspace_id = ${workspaceId}
    and a.occurred_at >= ${window.historyStart.toISOString()}::timestamptz
    and a.occurred_at < ${window.rangeEnd.toISOString()}::timestamptz
    and ((a.kind = 'nudge' and a.outcome = 'done') or (a.kind = 'session' and a.outcome = 'completed'))
    and (${everyone} or a.user_id in (select id from team))
  group by 1, 2
),
person_weeks as materialized (
  select date_trunc('week', day)::date as week_start, user_id, sum(sessions) as sessions
  from days where day >= ${window.baselineMonday}::date
  group by 1, 2
),
unfinished_person_weeks as (
  select date_trunc('week', (a.occurred_at at time zone ${tz})::date)::date as week_start, a.user_id, count(*) as sessions
  from activity_events a
  where a.workspace_id = ${workspaceId}
    and a.occurred_at >= ${window.rangeStart.toISOString()}::timestamptz
    and a.occurred_at < ${window.rangeEnd.toISOString()}::timestamptz
    and a.kind = 'session' and a.outcome <> 'completed'
    and (${everyone} or a.user_id in (select id from team))
  group by 1, 2
),
unfinished as (
  select week_start, sum(sessions) as sessions, count(*) as people from unfinished_person_weeks group by 1
),
did_weeks as (
  select week_start, sum(sessions) as sessions, count(*) filter (where sessions > 0) as session_people, count(*) as active
  from person_weeks group by 1
),
nudge_person_weeks as (
  -- Per person through the (user_id, slot_at) index rather than a scan of every delivery in the database;
  -- counting per person first makes "how many people" a plain count below, with no DISTINCT sorts.
  select date_trunc('week', d.slot_at at time zone ${tz})::date as week_start,
    count(*) as delivered,
    count(*) filter (where d.status = 'done') as done,
    count(*) filter (where d.status = 'snoozed') as snoozed,
    count(*) filter (where d.status = 'skipped') as skipped,
    count(*) filter (where d.status = 'ignored') as ignored
  from team t cross join lateral (
    select n.slot_at, n.status from nudge_deliveries n
    where n.user_id = t.id
      and n.slot_at >= ${window.rangeStart.toISOString()}::timestamptz
      and n.slot_at < ${window.rangeEnd.toISOString()}::timestamptz
      and n.status in (${sql.join(
        deliveredStatuses.map((s) => sql`${s}`),
        sql`, `,
      )})
    -- offset 0 keeps this a per-person index lookup; flattened, the planner scans the whole table.
    offset 0
  ) as d
  group by 1, t.id
),
nudges as (
  select week_start,
    sum(delivered) as delivered, count(*) as delivered_people,
    sum(done) as done, count(*) filter (where done > 0) as done_people,
    sum(snoozed) as snoozed, count(*) filter (where snoozed > 0) as snoozed_people,
    sum(skipped) as skipped, count(*) filter (where skipped > 0) as skipped_people,
    sum(ignored) as ignored, count(*) filter (where ignored > 0) as ignored_people
  from nudge_person_weeks group by 1
),
${streakCtes(window)}
select to_char(w.week_start, 'YYYY-MM-DD') as "weekStart",
  -- Counted per week over the team (the rollup view counts the same in one pass; the test holds the two equal).
  (select count(*) from team t where t.created_at < ((w.week_start + 7)::timestamp at time zone ${tz}))::int as "members",
  (select count(*) from team t where t.opted_in and t.created_at < ((w.week_start + 7)::timestamp at time zone ${tz}))::int as "optedIn",
  ${nudgeColumns()},
  coalesce(dw.sessions, 0)::int as "sessions", coalesce(dw.session_people, 0)::int as "sessionPeople",
  coalesce(u.sessions, 0)::int as "unfinishedSessions", coalesce(u.people, 0)::int as "unfinishedSessionPeople",
  coalesce(dw.active, 0)::int as "active",
  s.median_streak::float8 as "medianStreak"
from weeks w
  left join nudges n on n.week_start = w.week_start
  left join did_weeks dw on dw.week_start = w.week_start
  left join unfinished u on u.week_start = w.week_start
  left join streak_weeks s on s.week_start = w.week_start
order by w.week_start`;
  return query;
}

/** Memory for this one query's hashes and sorts, so a large team's view does not spill to disk (PostgreSQL's default is 4MB). */
const STATS_WORK_MEM = '32MB';

/**
 * The view read from the events themselves: the reference the rollups are held to (tests, the benchmark),
 * and what a workspace whose rollups are kept in another timezone reads.
 */
export async function queryTeamWeeksFromEvents(db: Queryable, input: TeamWeeksInput): Promise<WeekRow[]> {
  const rows = await db.transaction(async (tx) => {
    await tx.execute(sql.raw(`set local work_mem = '${STATS_WORK_MEM}'`));
    return queryRows<unknown>(tx, teamWeeksQuery(input));
  });
  return z.array(weekRowSchema).parse(rows);
}
