/**
 * `npm run bench -- replicas [--runs 3] [--sessions 60] [--stops 20] [--nudges 1000] [--time-scale 0.5] [--no-build]`
 *
 * Three replicas of the compiled bot (`dist/`, OAuth mode, three workspaces installed) on one scratch PostgreSQL
 * database and one loopback fake Slack Web API that records every call and which process made it. Signed requests
 * go to the replicas that are up. Per run, while the replicas are restarted one by one (SIGTERM, wait for the
 * exit, start again) and one is SIGKILLed (and started again):
 * - `sessions` live breathing sessions (`/backcare breathe box 1`) spread over the three workspaces, each started
 *   on a random replica; `stops` of them get Stop pressed through a replica other than the one that started them;
 * - `nudges` people due at the same minute, delivered by the replicas' own schedulers (the SIGKILL lands in that
 *   fan-out).
 * Prints each run and a verdict (see replica-report.ts for the definitions); exits 1 if any target is missed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows, type Database } from '../src/db/client.js';
import { projectRoot } from '../src/project-root.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { blockActionsOnMessage, interactive, slashCommand } from '../test/support/slack/payloads.js';
import { installWorkspace } from './app-process.js';
import { mintTrigger, startFakeSlack, type FakeSlack } from './fake-slack.js';
import { Cluster } from './replica-cluster.js';
import {
  countNudges,
  judgeSession,
  peakUpdatesPerMinute,
  quantile,
  sessionPost,
  stopValue,
  type Ending,
  type SessionPlan,
  type SessionVerdict,
} from './replica-report.js';

const REPLICAS = 3;
const TEAMS = ['T0BENCHA', 'T0BENCHB', 'T0BENCHC'];
const tokenOf = (team: string) => `xoxb-bench-${team.toLowerCase()}-not-a-real-token`;
/** chat.update calls per workspace per minute the app allows itself (adapters/slack/live.ts). */
const BUDGET = 45;
const STOP_TARGET_MS = 1500;
/** `breathe box 1`: 16 phases of 4 s. */
const SESSION_MS = 64_000;
/** The schedule, from S (the run's start): sessions start over this long; the restarts and kill happen meanwhile. */
const STARTS_OVER_MS = 40_000;
/** The nudges are due at the first minute boundary at least this long after S (the scheduler ticks each minute). */
const NUDGE_AFTER_MS = 25_000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sleepUntil = (at: number) => sleep(Math.max(0, at - Date.now()));
const randomInt = (n: number) => Math.floor(Math.random() * n);
const nudgeUser = (i: number) => `U${String(i).padStart(7, '0')}`;
const sessionUser = (i: number) => `U8${String(i).padStart(5, '0')}`;

interface RunResult {
  counts: Record<Ending, number>;
  lostWhy: string[];
  overlaps: number;
  stopP50Ms: number;
  stopP99Ms: number;
  /** The Stop request's own HTTP answer (the ack): how busy the machine was, apart from the app's stop. */
  stopAckP99Ms: number;
  stopsPressed: number;
  stopsOver: number;
  slowestStop: string;
  /** From the minute the nudges were due to the last one posted. */
  nudgesDoneS: number;
  load: number;
  peaks: number[];
  nudges: { posted: number; duplicated: number; lost: number };
  activity: string;
  rowsLeft: number;
  chaos: string;
  rateLimited: string;
}

/** Workspaces, installations, and `nudges` people (opted in, every day, all day) spread over them, not yet due. */
async function seed(database: Database, url: string, nudges: number): Promise<void> {
  const { db } = database;
  for (const team of TEAMS) {
    await installWorkspace(url, team, tokenOf(team));
    await db.execute(sql`insert into workspaces (platform, external_id, name) values ('slack', ${team}, ${team})`);
  }
  await db.execute(sql`insert into users (workspace_id, platform_user_id, dm_channel_id)
    select w.id, 'U' || lpad(g::text, 7, '0'), 'D' || lpad(g::text, 7, '0')
    from generate_series(1, ${nudges}::int) g
    join workspaces w on w.external_id = (array[${sql.join(
      TEAMS.map((t) => sql`${t}`),
      sql`, `,
    )}])[1 + g % ${TEAMS.length}]`);
  await db.execute(sql`insert into preferences (user_id, opted_in, timezone, days, start_time, end_time, every_minutes, kinds, next_due_at)
    select id, true, 'UTC', '["mon","tue","wed","thu","fri","sat","sun"]', '00:00', '23:59', 60, '["stretch","breathing"]',
      now() + interval '1 day' from users`);
}

/** A run's sessions: who, where, and which of them get Stop pressed. */
function planSessions(n: number, stops: number): (SessionPlan & { startAt: number; stopAfter?: number })[] {
  const pressed = new Set<number>();
  while (pressed.size < Math.min(stops, n)) pressed.add(randomInt(n));
  return Array.from({ length: n }, (_, i) => {
    const team = TEAMS[i % TEAMS.length]!;
    const user = sessionUser(i);
    return {
      team,
      token: tokenOf(team),
      user,
      channel: `D${user.slice(1)}`,
      startAt: Math.random() * STARTS_OVER_MS,
      ...(pressed.has(i) ? { stopAfter: 3000 + Math.random() * 12_000 } : {}),
    };
  });
}

/** Starts the session on a random replica; presses Stop (if planned) through another one. */
async function playSession(
  cluster: Cluster,
  fake: FakeSlack,
  session: SessionPlan & { startAt: number; stopAfter?: number },
  i: number,
  timeScale: number,
): Promise<void> {
  const body = slashCommand('breathe box 1', {
    team_id: session.team,
    team_domain: session.team.toLowerCase(),
    user_id: session.user,
    user_name: session.user.toLowerCase(),
    channel_id: session.channel,
    channel_name: 'directmessage',
    trigger_id: mintTrigger(i),
    response_url: `${fake.origin}/respond/command-${i}`,
  });
  const started = await cluster.post(randomInt(REPLICAS), '/slack/commands', body);
  if (session.stopAfter === undefined) return;
  await sleep(session.stopAfter * timeScale * 2);
  // A start slowed by a restart may not have posted yet: the person presses Stop once they see the message.
  for (let k = 0; k < 100 && !sessionPost(fake, session.channel); k += 1) await sleep(100);
  const post = sessionPost(fake, session.channel);
  const value = post && stopValue(post);
  if (!post?.ts || !value) return;
  const payload = blockActionsOnMessage(
    { action_id: 'guided.stop', value },
    { channel: session.channel, ts: post.ts, userId: session.user },
  );
  Object.assign(payload, {
    team: { id: session.team, domain: session.team.toLowerCase() },
    user: { id: session.user, username: session.user, name: session.user, team_id: session.team },
    trigger_id: mintTrigger(1000 + i),
    response_url: `${fake.origin}/respond/stop-${i}`,
  });
  session.stop = { at: Date.now(), responseId: `stop-${i}` };
  const pressed = await cluster.post(
    (started.slot + 1 + randomInt(REPLICAS - 1)) % REPLICAS,
    '/slack/interactivity',
    interactive(payload),
    started.slot,
  );
  session.stop.ackMs = Date.now() - session.stop.at;
  if (pressed.status !== 200) process.stderr.write(`Stop #${i} answered HTTP ${pressed.status}\n`);
}

/**
 * The rolling restart and the crash, one after another: slot 0 and 1 restarted, then a random slot SIGKILLed 1.5 s
 * into the nudge fan-out (out of the rotation 2 s before, so the kill hits sessions playing and nudges being sent,
 * not a request between its ack and its first message), then slot 2 restarted.
 */
async function chaos(cluster: Cluster, start: number, fanOutAt: number): Promise<void> {
  await sleepUntil(start + 8000);
  await cluster.restart(0);
  await sleepUntil(start + 16_000);
  await cluster.restart(1);
  const victim = randomInt(REPLICAS);
  await sleepUntil(fanOutAt - 2000);
  cluster.drain(victim);
  await sleepUntil(fanOutAt + 1500);
  await cluster.kill(victim);
  await sleepUntil(start + 38_000);
  await cluster.restart(2);
}

async function waitUntil(done: () => Promise<boolean>, deadline: number): Promise<void> {
  while (Date.now() < deadline && !(await done())) await sleep(1000);
}

async function oneRun(options: {
  sessions: number;
  stops: number;
  nudges: number;
  timeScale: number;
}): Promise<RunResult> {
  const scratch = await createScratchDatabase('backcare_bench_replicas');
  const fake = await startFakeSlack({ members: Array.from({ length: options.nudges }, (_, i) => nudgeUser(i + 1)) });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'backcare-replicas-'));
  const database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 2, timeoutMs: 60_000 });
  const cluster = new Cluster({
    size: REPLICAS,
    databaseUrl: scratch.url,
    fake,
    dataDir,
    timeScale: options.timeScale,
  });
  try {
    await cluster.start(() => seed(database, scratch.url, options.nudges));
    const fanOutAt = Math.ceil((Date.now() + NUDGE_AFTER_MS) / 60_000) * 60_000;
    const start = fanOutAt - NUDGE_AFTER_MS;
    const dueAt = new Date(fanOutAt - 10_000);
    await database.db.execute(sql`update preferences set next_due_at = ${dueAt.toISOString()}::timestamptz`);
    const nudgeIds = await queryRows<{ id: number }>(database.db, sql`select user_id::int as id from preferences`);
    const expected = nudgeIds.map((r) => `${r.id}@${dueAt.toISOString()}`);
    const sessions = planSessions(options.sessions, options.stops);

    await sleepUntil(start);
    const playing = sessions.map(async (s, i) => {
      await sleepUntil(start + s.startAt);
      await playSession(cluster, fake, s, i, options.timeScale);
    });
    await Promise.all([chaos(cluster, start, fanOutAt), ...playing]);

    const ended = () => sessions.every((s) => judgeSession(fake, s).ending !== 'lost');
    const rows = async (query: ReturnType<typeof sql>) => (await queryRows<{ n: number }>(database.db, query))[0]!.n;
    const sessionsLeft = () => rows(sql`select count(*)::int as n from live_sessions`);
    const nudgesLeft = () =>
      rows(sql`select ((select count(*) from nudge_deliveries where status = 'claimed') +
                       (select count(*) from preferences where next_due_at <= now()))::int as n`);
    const lastStart = start + STARTS_OVER_MS;
    await waitUntil(
      async () => ended() && (await sessionsLeft()) === 0 && (await nudgesLeft()) === 0,
      Math.max(lastStart + SESSION_MS * options.timeScale + 90_000, fanOutAt + 130_000),
    );

    const departures = new Map(cluster.events.map((e) => [e.tag, { kind: e.kind, at: e.at }]));
    const verdicts = sessions.map((s) => judgeSession(fake, s, departures));
    const slots = await queryRows<{ id: string; user_id: number; slot_at: Date }>(
      database.db,
      sql`select id::text as id, user_id::int as user_id, slot_at from nudge_deliveries`,
    );
    const slotOf = new Map(slots.map((r) => [r.id, `${r.user_id}@${new Date(r.slot_at).toISOString()}`]));
    const activity = await queryRows<{ outcome: string; n: number }>(
      database.db,
      sql`select outcome, count(*)::int as n from activity_events where kind = 'session' group by outcome order by outcome`,
    );
    const posts = [...fake.posted.values()].flat().filter((p) => p.deliveryId);
    return summarize(verdicts, fake, {
      nudges: countNudges(fake, slotOf, expected),
      nudgesDoneS: (Math.max(...posts.map((p) => p.at)) - fanOutAt) / 1000,
      stopAckP99Ms: quantile(
        sessions.flatMap((s) => (s.stop?.ackMs !== undefined ? [s.stop.ackMs] : [])),
        0.99,
      ),
      activity: activity.map((a) => `${a.outcome} ${a.n}`).join(', '),
      rowsLeft: await sessionsLeft(),
      chaos: cluster.events
        .map(
          (e) =>
            `${e.kind} ${e.tag} (exit ${e.exit} after ${(e.stopMs / 1000).toFixed(1)} s, up again in ${(e.readyMs / 1000).toFixed(1)} s)`,
        )
        .join('; '),
    });
  } finally {
    await cluster.stop();
    await database.close().catch(() => undefined);
    await fake.close();
    await scratch.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function summarize(
  verdicts: SessionVerdict[],
  fake: FakeSlack,
  rest: Pick<RunResult, 'nudges' | 'nudgesDoneS' | 'stopAckP99Ms' | 'activity' | 'rowsLeft' | 'chaos'>,
): RunResult {
  const counts: Record<Ending, number> = { completed: 0, stopped: 0, takenOver: 0, interrupted: 0, lost: 0 };
  for (const v of verdicts) counts[v.ending] += 1;
  const latencies = verdicts.flatMap((v) => (v.stopToLastEditMs !== undefined ? [v.stopToLastEditMs] : []));
  const limited = new Map<string, number>();
  for (const c of fake.calls) if (c.limited) limited.set(c.method, (limited.get(c.method) ?? 0) + 1);
  return {
    counts,
    lostWhy: verdicts.flatMap((v, i) => (v.ending === 'lost' ? [`#${i}: ${v.why}`] : [])),
    overlaps: verdicts.filter((v) => v.overlap).length,
    stopP50Ms: quantile(latencies, 0.5),
    stopP99Ms: quantile(latencies, 0.99),
    stopsPressed: latencies.length,
    stopsOver: latencies.filter((ms) => ms > STOP_TARGET_MS).length,
    slowestStop:
      verdicts.reduce<SessionVerdict | undefined>(
        (worst, v) => ((v.stopToLastEditMs ?? -1) > (worst?.stopToLastEditMs ?? -1) ? v : worst),
        undefined,
      )?.stopTrace ?? '-',
    peaks: peakUpdatesPerMinute(fake, TEAMS.map(tokenOf)),
    rateLimited: [...limited].map(([m, n]) => `${m} ${n}`).join(', ') || 'none',
    load: loadavg()[0]!,
    ...rest,
  };
}

function passes(r: RunResult): boolean {
  return (
    r.counts.lost === 0 &&
    r.stopP99Ms <= STOP_TARGET_MS &&
    r.overlaps === 0 &&
    Math.max(...r.peaks) <= BUDGET &&
    r.nudges.duplicated === 0 &&
    r.nudges.lost === 0
  );
}

export async function runReplicasBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '3' },
      sessions: { type: 'string', default: '60' },
      stops: { type: 'string', default: '20' },
      nudges: { type: 'string', default: '1000' },
      'time-scale': { type: 'string', default: '0.5' },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const options = {
    sessions: Number(values.sessions),
    stops: Number(values.stops),
    nudges: Number(values.nudges),
    timeScale: Number(values['time-scale']),
  };
  if (!values['no-build']) execFileSync('npm', ['run', '--silent', 'build'], { cwd: projectRoot, stdio: 'inherit' });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(
    `replicas bench: ${REPLICAS} replicas, ${options.sessions} breathing sessions (${options.stops} stopped elsewhere) in ${TEAMS.length} workspaces, ${options.nudges} nudges due, time scale ${options.timeScale}, ${runs} run(s); ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`,
  );
  const results: RunResult[] = [];
  for (let run = 1; run <= runs; run += 1) {
    const r = await oneRun(options);
    results.push(r);
    const c = r.counts;
    say(
      `run ${run}: sessions completed ${c.completed}, stopped ${c.stopped}, taken over ${c.takenOver}, ended with a message ${c.interrupted}, lost ${c.lost}` +
        ` | Stop→last edit p50 ${seconds(r.stopP50Ms)}, p99 ${seconds(r.stopP99Ms)} (${r.stopsPressed} stops, ${r.stopsOver} over ${STOP_TARGET_MS / 1000} s; their acks p99 ${seconds(r.stopAckP99Ms)})` +
        ` | edited by two replicas at overlapping times ${r.overlaps}` +
        ` | peak chat.update/min per workspace ${r.peaks.join(', ')}` +
        ` | nudges posted ${r.nudges.posted}, duplicated ${r.nudges.duplicated}, lost ${r.nudges.lost}, last ${r.nudgesDoneS.toFixed(0)} s after due` +
        ` | ${passes(r) ? 'pass' : 'FAIL'}`,
    );
    say(`  replicas: ${r.chaos}; load ${r.load.toFixed(1)}`);
    say(`  slowest Stop: ${r.slowestStop}`);
    say(`  recorded sessions: ${r.activity || 'none'}; live_sessions rows left ${r.rowsLeft}; 429s: ${r.rateLimited}`);
    for (const why of r.lostWhy.slice(0, 8)) say(`  lost ${why}`);
  }
  const ok = results.every(passes);
  const worst = (f: (r: RunResult) => number) => Math.max(...results.map(f));
  say(
    `verdict over ${runs} run(s): lost ${worst((r) => r.counts.lost)} (target 0), Stop→last edit p99 ${(worst((r) => r.stopP99Ms) / 1000).toFixed(2)} s (≤ ${STOP_TARGET_MS / 1000} s), ` +
      `overlapping edits ${worst((r) => r.overlaps)} (0), peak chat.update/min ${worst((r) => Math.max(...r.peaks))} (≤ ${BUDGET}), ` +
      `nudges duplicated ${worst((r) => r.nudges.duplicated)} / lost ${worst((r) => r.nudges.lost)} (0/0): ${ok ? 'all targets met' : 'TARGET MISSED'}`,
  );
  return ok ? 0 : 1;
}
