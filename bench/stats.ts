/**
 * `npm run bench -- stats`: the team stats view on the real PostgreSQL, in a scratch database of its own
 * (created here, dropped at the end): 2,000 people, a year of nudges and sessions (about 2 million
 * activity events), then the 4-week view timed (median of repeated runs) and EXPLAIN ANALYZEd. The view reads
 * the weekly rollups the database keeps (built here by the migration's backfill); it is checked once against
 * the old event-scanning query.
 */
import { cpus, loadavg, setPriority } from 'node:os';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { openDatabase, queryRows, type Db } from '../src/db/client.js';
import { queryTeamWeeksFromEvents } from '../src/core/features/stats/query.js';
import { queryTeamWeeks, teamWeeksRollupQuery } from '../src/core/features/stats/rollups.js';
import { weekWindow } from '../src/core/features/stats/weeks.js';
import { createCore } from '../src/core/router.js';
import { features } from '../src/core/features/index.js';
import { createLogger } from '../src/config/logger.js';

const PEOPLE = 2000;
const TIMEZONE = 'Europe/London';
const RUNS = 15;
const NOW = new Date('2026-11-25T15:00:00Z');
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/**
 * CPU time (ms) a PostgreSQL backend has used so far, from /proc (same machine only). Wall-clock times
 * swing with whatever else the machine runs; the backend's own CPU time does not.
 */
function backendCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** A year of plausible activity, generated in the database: nothing is pulled into or pushed from JS row by row. */
export async function seed(db: Db): Promise<number> {
  const [ws] = await queryRows<{ id: number }>(
    db,
    sql`insert into workspaces (platform, external_id, name, timezone) values ('slack', 'T_BENCH', 'Bench', ${TIMEZONE}) returning id::int as id`,
  );
  // A second, smaller workspace so the workspace filter has something to skip.
  await db.execute(sql`insert into workspaces (platform, external_id, name) values ('slack', 'T_OTHER', 'Other')`);
  const workspaceId = ws!.id;
  // The year is loaded as an upgraded install has it: events first, then the rollups built by the migration's
  // backfill (the triggers that keep them on every write are covered by test/core/features/stats/stats-rollups.test.ts).
  await db.execute(sql`alter table activity_events disable trigger user`);
  await db.execute(sql`alter table nudge_deliveries disable trigger user`);
  await db.execute(sql`insert into users (workspace_id, platform_user_id, created_at)
    select ${workspaceId}, 'U' || lpad(i::text, 6, '0'), ${NOW.toISOString()}::timestamptz - interval '400 days' from generate_series(1, ${PEOPLE}) i`);
  // 80% opted in; one in ten works a four-day week.
  await db.execute(sql`insert into preferences (user_id, opted_in, timezone, days, kinds)
    select id, id % 5 <> 0, ${TIMEZONE},
      case when id % 10 = 3 then '["mon","tue","wed","thu"]'::jsonb else '["mon","tue","wed","thu","fri"]'::jsonb end, '["stretch","breathing"]'
    from users where workspace_id = ${workspaceId}`);
  // Two nudges per working day for a year, with a final status each.
  await db.execute(sql`insert into nudge_deliveries (user_id, slot_at, status, sent_at, routine_id)
    select user_id, slot_at,
      case when r < 0.45 then 'done' when r < 0.55 then 'snoozed' when r < 0.70 then 'skipped' when r < 0.95 then 'ignored' when r < 0.96 then 'stopped' else 'missed' end,
      case when r < 0.96 then slot_at end, 'routine-' || (1 + floor(r * 1000)::int % 12)
    from (
      select u.id as user_id, ((d::date + s.t)::timestamp at time zone ${TIMEZONE}) as slot_at, random() as r
      from users u
      join preferences p on p.user_id = u.id and p.opted_in
      cross join generate_series(${NOW.toISOString()}::timestamptz - interval '365 days', ${NOW.toISOString()}::timestamptz, interval '1 day') d
      cross join (values (time '10:30'), (time '15:00')) s(t)
      where u.workspace_id = ${workspaceId} and extract(isodow from d) < 6
    ) g`);
  // Activity: "delivered" and the answer for each nudge (as the scheduler and buttons record them) ...
  await db.execute(sql`insert into activity_events (user_id, workspace_id, kind, outcome, source, routine_id, occurred_at)
    select user_id, ${workspaceId}, 'nudge', 'delivered', 'nudge', routine_id, slot_at from nudge_deliveries where sent_at is not null`);
  await db.execute(sql`insert into activity_events (user_id, workspace_id, kind, outcome, source, routine_id, occurred_at)
    select user_id, ${workspaceId}, 'nudge', status, 'nudge', routine_id, slot_at + interval '4 minutes' from nudge_deliveries where status in ('done', 'snoozed', 'skipped', 'ignored', 'stopped')`);
  // ... and on-demand sessions, about four in five working days per person.
  await db.execute(sql`insert into activity_events (user_id, workspace_id, kind, outcome, source, routine_id, occurred_at)
    select user_id, ${workspaceId}, 'session', case when r < 0.85 then 'completed' else 'stopped' end,
      (array['breathe','stretch','roll','relax','routine'])[1 + floor(r * 100)::int % 5], 'routine-' || (1 + floor(r * 1000)::int % 12), at
    from (
      select u.id as user_id, d + interval '13 hours' + (u.id % 120) * interval '1 minute' as at, random() as r
      from users u cross join generate_series(${NOW.toISOString()}::timestamptz - interval '365 days', ${NOW.toISOString()}::timestamptz, interval '1 day') d
      where u.workspace_id = ${workspaceId} and extract(isodow from d) < 6
    ) g where r < 0.8`);
  await db.execute(sql`alter table activity_events enable trigger user`);
  await db.execute(sql`alter table nudge_deliveries enable trigger user`);
  await db.execute(sql`select stats_rollups_rebuild(id) from workspaces`);
  // A year-old table has been through autovacuum: hint bits set, visibility map and statistics current.
  await db.execute(sql`vacuum analyze`);
  return workspaceId;
}

export interface StatsBenchResult {
  queryWallMs: number[];
  queryCpuMs: number[];
  commandWallMs: number[];
  planText: string;
  executionMs: number | null;
  /** The same view read from the events (the rollups' reference): its time, and whether the figures match. */
  eventsWallMs: number;
  identical: boolean;
}

/** Times the 4-week view on an already seeded database (pool of one, so the backend pid is known). */
export async function measure(
  db: Db,
  workspaceId: number,
  options: { priority?: boolean } = {},
): Promise<StatsBenchResult> {
  const input = { workspaceId, scope: { kind: 'workspace' as const }, window: weekWindow(NOW, TIMEZONE, 4) };
  const [backend] = await queryRows<{ pid: number }>(db, sql`select pg_backend_pid() as pid`);
  if (options.priority) {
    // On a shared machine (other test runs keeping both cores busy) wall time mostly measures the queue for
    // the CPU; --priority puts this benchmark's own backend and process first in that queue (needs root).
    setPriority(backend!.pid, -20);
    setPriority(-20);
  }
  await queryTeamWeeks(db, input); // warm the cache once, as a running bot would be
  const result: StatsBenchResult = {
    queryWallMs: [],
    queryCpuMs: [],
    commandWallMs: [],
    planText: '',
    executionMs: null,
    eventsWallMs: 0,
    identical: false,
  };
  for (let i = 0; i < RUNS; i += 1) {
    const cpuBefore = backendCpuMs(backend!.pid);
    const start = process.hrtime.bigint();
    await queryTeamWeeks(db, input);
    result.queryWallMs.push(ms(start));
    const cpuAfter = backendCpuMs(backend!.pid);
    if (cpuBefore !== null && cpuAfter !== null) result.queryCpuMs.push(cpuAfter - cpuBefore);
  }
  // The whole command as a lead runs it: lead check, query, audit row, privacy floor, chart PNG.
  const core = createCore({ db, log: createLogger({ level: 'silent' }), now: () => NOW, privacyFloor: 5 }, features);
  const actor = {
    platform: 'slack' as const,
    workspaceExternalId: 'T_BENCH',
    userExternalId: 'U000001',
    isAdmin: true,
  };
  for (let i = 0; i < 5; i += 1) {
    const start = process.hrtime.bigint();
    const reply = await core.handle({ actor, input: { kind: 'command', text: '/backcare stats' } });
    result.commandWallMs.push(ms(start));
    if (!reply.summary.startsWith('Team participation')) throw new Error(`unexpected reply: ${reply.summary}`);
  }
  // Explained exactly as the bot runs it.
  const plan = await queryRows<{ 'QUERY PLAN': string }>(
    db,
    sql`explain (analyze, buffers, costs off, timing on) ${teamWeeksRollupQuery(input)}`,
  );
  result.planText = plan.map((r) => r['QUERY PLAN']).join('\n');
  const eventsStart = process.hrtime.bigint();
  const fromEvents = await queryTeamWeeksFromEvents(db, input);
  result.eventsWallMs = ms(eventsStart);
  result.identical = JSON.stringify(fromEvents) === JSON.stringify(await queryTeamWeeks(db, input));
  const execution = /Execution Time: ([\d.]+) ms/.exec(result.planText);
  result.executionMs = execution ? Number(execution[1]) : null;
  return result;
}

export function report(result: StatsBenchResult): boolean {
  mkdirSync('scratch', { recursive: true });
  writeFileSync('scratch/stats-bench-plan.txt', `${result.planText}\n`);
  const shape = result.planText
    .split('\n')
    .filter(
      (line) =>
        /Scan|Join|Aggregate|WindowAgg|CTE |Nested Loop|Limit|Execution Time/.test(line) &&
        !/unnest|jsonb_array_elements|generate_series n/.test(line),
    )
    .map((line) => line.replace(/\s+\(actual.*$/, '').replace(/\s+$/, ''));
  console.log('stats bench: EXPLAIN ANALYZE shape of the 4-week view (full plan in scratch/stats-bench-plan.txt):');
  for (const line of shape) console.log(`  ${line}`);
  const wall = median(result.queryWallMs);
  console.log(`stats bench: machine load average (1 min) ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
  console.log(
    `stats bench: 4-week view query, ${RUNS} runs: median ${wall.toFixed(1)} ms wall (min ${Math.min(...result.queryWallMs).toFixed(1)}, max ${Math.max(...result.queryWallMs).toFixed(1)})` +
      (result.queryCpuMs.length > 0
        ? `, median ${median(result.queryCpuMs).toFixed(0)} ms of PostgreSQL backend CPU`
        : ''),
  );
  console.log(
    `stats bench: whole /backcare stats command incl. chart PNG, 5 runs: median ${median(result.commandWallMs).toFixed(1)} ms wall`,
  );
  console.log(
    `stats bench: the same view read from the events (the old query), once: ${result.eventsWallMs.toFixed(1)} ms; figures ${result.identical ? 'identical' : 'DIFFERENT'}`,
  );
  const ok = wall <= 50 && result.identical;
  console.log(`stats bench: target median <= 50 ms with identical figures: ${ok ? 'met' : 'NOT met'}`);
  return ok;
}

export async function runStatsBench(argv: string[] = []): Promise<number> {
  const priority = argv.includes('--priority');
  const scratch = await createScratchDatabase('backcare_bench_stats');
  try {
    // Seeding a year of activity takes longer than the bot's 5 s statement timeout on a busy machine.
    const database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 1, timeoutMs: 600_000 });
    try {
      const start = process.hrtime.bigint();
      const workspaceId = await seed(database.db);
      const [counts] = await queryRows<{ events: number; deliveries: number }>(
        database.db,
        sql`select (select count(*) from activity_events)::int as events, (select count(*) from nudge_deliveries)::int as deliveries`,
      );
      console.log(
        `stats bench: seeded ${PEOPLE} people, ${counts!.events.toLocaleString('en')} activity events, ${counts!.deliveries.toLocaleString('en')} nudge deliveries in ${(ms(start) / 1000).toFixed(1)} s`,
      );
      await database.close();
      // Measure on a fresh connection, as the bot's pool would have: not on the backend that did the bulk load.
      // (A generous timeout too: on a loaded machine the old event-scanning query can pass the bot's 5 s.)
      const measuring = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 1, timeoutMs: 60_000 });
      try {
        return report(await measure(measuring.db, workspaceId, { priority })) ? 0 : 1;
      } finally {
        await measuring.close();
      }
    } finally {
      await database.close().catch(() => undefined);
    }
  } finally {
    await scratch.drop();
  }
}
