/**
 * `npm run bench -- nudges [--rate 50] [--small 100000] [--large 1000000] [--only slack]`
 *
 * Against the real PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test), each part in
 * a scratch database of its own that is dropped afterwards:
 *   1. tick cost with 1,000 due among `small` and then `large` users (target: large ≤ 2 × small);
 *   2. fan-out of 1,000 due nudges to a fake platform on loopback limited to `rate` msg/s (target: ≤ 1.15 × 1000/rate,
 *      0 duplicates, 0 lost, counted on the fake's side);
 *   3. the same with the bot process SIGKILLed at a random point and restarted (0 duplicates, 0 lost);
 *   4. both again through the real Slack sender against a fake Slack Web API (posts limited to `rate` a second):
 *      Web API calls per nudge besides the batched busy checks (target ≤ 1.1), 0 duplicates, 0 lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { createLogger } from '../src/config/logger.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { openDatabase, queryRows, type Database, type Db } from '../src/db/client.js';
import { soloInstance } from '../src/jobs/instance.js';
import { createScheduler } from '../src/jobs/scheduler.js';
import type { Sender } from '../src/core/sender.js';
import { startFakePlatform, type FakePlatform } from './fake-platform.js';
import { startFakeSlack } from './fake-slack.js';

const SLACK_TEAM = 'T0BENCH';
const slackUser = sql.raw(`'U' || lpad(g::text, 7, '0')`);
const slackDm = sql.raw(`'D' || lpad(g::text, 7, '0')`);
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DUE = 1000;
const here = path.dirname(new URL(import.meta.url).pathname);
/**
 * The bot runs as ONE node process with tsx's loader. The `tsx` command itself is a wrapper that starts a second
 * process and relays signals, and SIGKILL cannot be relayed: killing the wrapper would leave the bot running.
 */
const botCommand = (script: string, ...args: string[]) =>
  [process.execPath, ['--import', 'tsx', script, ...args]] as const;

interface Scratch {
  url: string;
  database: Database;
  drop(): Promise<void>;
}

const scratches = new Set<Scratch>();

async function scratchDatabase(): Promise<Scratch> {
  const created = await createScratchDatabase('backcare_bench', baseUrl);
  const url = created.url;
  const database = await openDatabase({ driver: 'postgres', url, poolSize: 10 });
  const scratch: Scratch = {
    url,
    database,
    async drop() {
      scratches.delete(scratch);
      await database.close().catch(() => undefined);
      await created.drop();
    },
  };
  scratches.add(scratch);
  return scratch;
}

/**
 * Adds users `from`..`to` (opted in, hourly, every day), none of them due: their next slot is hours to days away.
 * On Slack they have Slack-shaped ids and their DM already open (the steady state: the channel id is kept).
 */
async function seedUsers(db: Db, from: number, to: number, platform: 'console' | 'slack' = 'console'): Promise<void> {
  await db.execute(
    sql`insert into workspaces (platform, external_id) values (${platform}, ${platform === 'slack' ? SLACK_TEAM : 'bench'}) on conflict do nothing`,
  );
  for (let start = from; start <= to; start += 250_000) {
    const end = Math.min(to, start + 249_999);
    await db.execute(
      platform === 'slack'
        ? sql`insert into users (workspace_id, platform_user_id, dm_channel_id) select 1, ${slackUser}, ${slackDm} from generate_series(${start}::int, ${end}::int) g`
        : sql`insert into users (workspace_id, platform_user_id) select 1, 'u' || g from generate_series(${start}::int, ${end}::int) g`,
    );
    await db.execute(
      sql`insert into preferences (user_id, opted_in, timezone, days, start_time, end_time, every_minutes, kinds, next_due_at)
          select u.id, true, 'UTC', '["mon","tue","wed","thu","fri","sat","sun"]', '00:00', '23:59', 60, '["stretch","breathing"]',
                 now() + interval '1 hour' + random() * interval '7 days'
            from users u where u.id between ${start} and ${end}`,
    );
  }
  // Steady state, as a long-running table would be: statistics current, hint bits and visibility map set.
  await db.execute(sql`vacuum analyze`);
}

/** Makes exactly `DUE` users due 20 seconds ago, spread over the whole population; clears earlier deliveries. */
async function makeDue(db: Db, population: number): Promise<void> {
  const stride = Math.floor(population / DUE);
  await db.execute(sql`truncate nudge_questions, nudge_deliveries, activity_events`);
  await db.execute(
    sql`update preferences set next_due_at = now() + interval '1 hour' where next_due_at <= now() + interval '1 hour'`,
  );
  await db.execute(
    sql`update preferences set next_due_at = now() - interval '20 seconds' where user_id % ${stride} = 0 and user_id <= ${stride * DUE}`,
  );
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from preferences where next_due_at <= now()`,
  );
  if (row?.n !== DUE) throw new Error(`expected ${DUE} due, found ${row?.n}`);
}

const instantSender: Sender = {
  platform: 'console',
  send: async (d) => ({ status: 'sent', messageRef: `m${d.deliveryId}` }),
  reconcile: async () => ({ found: false }),
};

/** Median of three ticks, each claiming, sending (to a sender that answers at once) and confirming the 1,000 due. */
async function tickCost(db: Db, population: number): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    await makeDue(db, population);
    const scheduler = createScheduler({
      db,
      log: createLogger({ level: 'warn' }),
      senders: { console: instantSender },
      instance: soloInstance(),
    });
    const started = performance.now();
    const report = await scheduler.tick();
    times.push(performance.now() - started);
    if (report.sent !== DUE) throw new Error(`tick sent ${report.sent}, expected ${DUE}`);
  }
  return times.sort((a, b) => a - b)[1]!;
}

interface BotRun {
  child: ChildProcess;
  tickStart: Promise<number>;
  exited: Promise<number | null>;
  /** The totals of its `done` line (claimed, sent, reconciled…), once it has printed it. */
  totals: Record<string, number>;
}

function startBot(dbUrl: string, fakeUrl: string, platform?: 'slack'): BotRun {
  const [command, args] = botCommand(path.join(here, 'nudge-bot.ts'), dbUrl, fakeUrl, ...(platform ? [platform] : []));
  const child = spawn(command, [...args], { cwd: path.resolve(here, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  let resolveStart!: (at: number) => void;
  const tickStart = new Promise<number>((resolve) => (resolveStart = resolve));
  const totals: Record<string, number> = {};
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const event = JSON.parse(line) as { event?: string; at?: number } & Record<string, unknown>;
      if (event.event === 'tick-start' && typeof event.at === 'number') resolveStart(event.at);
      if (event.event === 'done')
        for (const [k, v] of Object.entries(event)) if (typeof v === 'number' && k !== 'at') totals[k] = v;
    } catch {
      // not one of ours
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // A bot that dies before its first tick must fail the bench, not hang it.
  const startedOrDied = Promise.race([
    tickStart,
    exited.then((code) => Promise.reject(new Error(`bot exited with ${code} before its first tick`))),
  ]);
  return { child, tickStart: startedOrDied, exited, totals };
}

function count(fake: FakePlatform, expected: readonly string[]) {
  let duplicates = 0;
  for (const n of fake.accepted.values()) duplicates += Math.max(0, n - 1);
  const lost = expected.filter((key) => !fake.accepted.has(key)).length;
  const unexpected = [...fake.accepted.keys()].filter((key) => !expected.includes(key)).length;
  return { duplicates, lost, unexpected };
}

async function dueKeys(db: Db): Promise<string[]> {
  const rows = await queryRows<{ user_id: unknown; next_due_at: Date }>(
    db,
    sql`select user_id, next_due_at from preferences where next_due_at <= now()`,
  );
  return rows.map((r) => `${Number(r.user_id)}@${new Date(r.next_due_at).toISOString()}`);
}

async function fanOut(rate: number, crash: boolean) {
  const scratch = await scratchDatabase();
  const fake = await startFakePlatform(rate);
  try {
    await seedUsers(scratch.database.db, 1, DUE);
    await makeDue(scratch.database.db, DUE);
    const expected = await dueKeys(scratch.database.db);
    const first = startBot(scratch.url, fake.url);
    const started = await first.tickStart;
    let killedAt: number | null = null;
    if (crash) {
      // Somewhere in the middle of the fan-out (between 10% and 80% of its expected length).
      const ideal = (DUE / rate) * 1000;
      const delay = randomInt(Math.round(ideal * 0.1), Math.round(ideal * 0.8));
      await new Promise((resolve) => setTimeout(resolve, delay));
      first.child.kill('SIGKILL');
      await first.exited;
      killedAt = Date.now() - started;
      const second = startBot(scratch.url, fake.url);
      const code = await second.exited;
      if (code !== 0) throw new Error(`restarted bot exited with ${code}`);
    } else {
      const code = await first.exited;
      if (code !== 0) throw new Error(`bot exited with ${code}`);
    }
    const totalMs = (fake.lastAcceptedAt ?? Date.now()) - started;
    const statuses = await queryRows<{ status: string; n: number }>(
      scratch.database.db,
      sql`select status, count(*)::int as n from nudge_deliveries group by status order by status`,
    );
    return {
      totalMs,
      killedAt,
      ...count(fake, expected),
      rejected429: fake.rejected429,
      statuses: statuses.map((s) => `${s.status}=${s.n}`).join(' '),
    };
  } finally {
    await fake.close();
    await scratch.drop();
  }
}

/**
 * The same fan-out through the real Slack sender against the fake Slack Web API (posts limited to `rate` a second
 * workspace-wide, other methods by their tier): counted on the fake's side by the delivery id each message carries.
 */
async function fanOutSlack(rate: number, crash: boolean) {
  const scratch = await scratchDatabase();
  const members = Array.from({ length: DUE }, (_, i) => `U${String(i + 1).padStart(7, '0')}`);
  const fake = await startFakeSlack({ postsPerSecond: rate, members });
  try {
    await seedUsers(scratch.database.db, 1, DUE, 'slack');
    await makeDue(scratch.database.db, DUE);
    const expected = await dueKeys(scratch.database.db);
    const first = startBot(scratch.url, fake.apiUrl, 'slack');
    const started = await first.tickStart;
    let killedAt: number | null = null;
    let reconciled = 0;
    if (crash) {
      const ideal = (DUE / rate) * 1000;
      await new Promise((resolve) => setTimeout(resolve, randomInt(Math.round(ideal * 0.1), Math.round(ideal * 0.8))));
      first.child.kill('SIGKILL');
      await first.exited;
      killedAt = Date.now() - started;
      const second = startBot(scratch.url, fake.apiUrl, 'slack');
      const code = await second.exited;
      if (code !== 0) throw new Error(`restarted bot exited with ${code}`);
      reconciled = second.totals.reconciled ?? 0;
    } else {
      const code = await first.exited;
      if (code !== 0) throw new Error(`bot exited with ${code}`);
    }
    const posts = [...fake.posted.values()].flat();
    const totalMs = Math.max(...posts.map((p) => p.at)) - started;
    const rows = await queryRows<{ id: unknown; user_id: unknown; slot_at: Date }>(
      scratch.database.db,
      sql`select id, user_id, slot_at from nudge_deliveries`,
    );
    const keyOf = new Map(rows.map((r) => [String(r.id), `${Number(r.user_id)}@${new Date(r.slot_at).toISOString()}`]));
    const perKey = new Map<string, number>();
    for (const p of posts) {
      const key = (p.deliveryId && keyOf.get(p.deliveryId)) ?? `unknown:${p.deliveryId}`;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    let duplicates = 0;
    for (const n of perKey.values()) duplicates += Math.max(0, n - 1);
    const lost = expected.filter((key) => !perKey.has(key)).length;
    const byMethod = new Map<string, number>();
    for (const call of fake.calls) byMethod.set(call.method, (byMethod.get(call.method) ?? 0) + 1);
    const busyCalls = ['dnd.teamInfo', 'users.list', 'users.profile.get', 'dnd.info'].reduce(
      (a, m) => a + (byMethod.get(m) ?? 0),
      0,
    );
    const otherCalls = fake.calls.length - busyCalls;
    const history = fake.calls.filter((c) => c.method === 'conversations.history');
    return {
      totalMs,
      killedAt,
      duplicates,
      lost,
      sent: posts.length,
      callsPerNudge: otherCalls / Math.max(1, posts.length),
      busyCalls,
      rateLimited: fake.rateLimited,
      reconciled,
      historyCalls: history.length,
      history429: history.filter((c) => c.limited).length,
      methods: [...byMethod].map(([m, n]) => `${m}=${n}`).join(' '),
    };
  } finally {
    await fake.close();
    await scratch.drop();
  }
}

/** Part 4: the real Slack sender, without and with a SIGKILL; prints two table rows and says whether both pass. */
async function slackRows(rate: number, say: (line: string) => void): Promise<boolean> {
  process.stderr.write(`fan-out through the real Slack sender at ${rate} posts/s…\n`);
  const slack = await fanOutSlack(rate, false);
  process.stderr.write('the same with a SIGKILL and restart…\n');
  const slackCrashed = await fanOutSlack(rate, true);
  const slackVerdict = slack.duplicates === 0 && slack.lost === 0 && slack.callsPerNudge <= 1.1;
  say(
    `| Real Slack sender, ${DUE} at ${rate} posts/s (429s: ${slack.rateLimited}) | ${(slack.totalMs / 1000).toFixed(2)} s (${(slack.totalMs / 1000 / (DUE / rate)).toFixed(2)}× ideal), ${slack.callsPerNudge.toFixed(2)} calls per nudge + ${slack.busyCalls} batched busy checks, ${slack.duplicates} duplicates, ${slack.lost} lost | ≤ 1.1 calls, 0, 0 | ${slackVerdict ? 'pass' : 'FAIL'} |`,
  );
  const slackCrashVerdict = slackCrashed.duplicates === 0 && slackCrashed.lost === 0;
  say(
    `| Same, SIGKILL at ${((slackCrashed.killedAt ?? 0) / 1000).toFixed(1)} s and restart | ${(slackCrashed.totalMs / 1000).toFixed(2)} s, ${slackCrashed.callsPerNudge.toFixed(2)} calls per nudge, ${slackCrashed.duplicates} duplicates, ${slackCrashed.lost} lost; ${slackCrashed.reconciled} reconciled with ${slackCrashed.historyCalls} conversations.history calls (${slackCrashed.history429} answered 429) | 0, 0 | ${slackCrashVerdict ? 'pass' : 'FAIL'} |`,
  );
  say(`Slack Web API calls: ${slack.methods}; after the crash run: ${slackCrashed.methods}`);
  return slackVerdict && slackCrashVerdict;
}

export async function runNudgesBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string', default: '50' },
      small: { type: 'string', default: '100000' },
      large: { type: 'string', default: '1000000' },
      only: { type: 'string' },
    },
  });
  const rate = Number(values.rate);
  const small = Number(values.small);
  const large = Number(values.large);
  if (![rate, small, large].every((n) => Number.isInteger(n) && n > 0) || small < DUE || large <= small) {
    process.stderr.write('bench nudges: --rate, --small and --large must be whole numbers with 1000 ≤ small < large\n');
    return 2;
  }
  const onSignal = () => void Promise.all([...scratches].map((s) => s.drop())).finally(() => process.exit(130));
  process.once('SIGINT', onSignal);

  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  say(`# npm run bench -- nudges --rate ${rate} --small ${small} --large ${large}`);

  if (values.only === 'slack') {
    say('');
    say('| Measure | Result | Target | Verdict |');
    say('|---|---|---|---|');
    return (await slackRows(rate, say)) ? 0 : 1;
  }

  // 1. Tick cost vs population.
  const scratch = await scratchDatabase();
  let smallMs: number;
  let largeMs: number;
  try {
    process.stderr.write(`seeding ${small} users…\n`);
    await seedUsers(scratch.database.db, 1, small);
    smallMs = await tickCost(scratch.database.db, small);
    process.stderr.write(`seeding up to ${large} users…\n`);
    await seedUsers(scratch.database.db, small + 1, large);
    largeMs = await tickCost(scratch.database.db, large);
  } finally {
    await scratch.drop();
  }
  const ratio = largeMs / smallMs;

  process.stderr.write(`fan-out at ${rate} msg/s…\n`);
  const plain = await fanOut(rate, false);
  process.stderr.write('fan-out with a SIGKILL and restart…\n');
  const crashed = await fanOut(rate, true);
  const limit = 1.15 * (DUE / rate) * 1000;

  say('');
  say('| Measure | Result | Target | Verdict |');
  say('|---|---|---|---|');
  say(`| Tick, ${DUE} due among ${small.toLocaleString('en')} users | ${smallMs.toFixed(0)} ms | | |`);
  say(`| Tick, ${DUE} due among ${large.toLocaleString('en')} users | ${largeMs.toFixed(0)} ms | | |`);
  say(`| Ratio large / small | ${ratio.toFixed(2)}× | ≤ 2× | ${ratio <= 2 ? 'pass' : 'FAIL'} |`);
  const fanVerdict = plain.totalMs <= limit && plain.duplicates === 0 && plain.lost === 0 && plain.unexpected === 0;
  say(
    `| Fan-out ${DUE} at ${rate} msg/s (429s answered: ${plain.rejected429}) | ${(plain.totalMs / 1000).toFixed(2)} s, ${plain.duplicates} duplicates, ${plain.lost} lost | ≤ ${(limit / 1000).toFixed(2)} s, 0, 0 | ${fanVerdict ? 'pass' : 'FAIL'} |`,
  );
  const crashVerdict = crashed.duplicates === 0 && crashed.lost === 0 && crashed.unexpected === 0;
  say(
    `| Same, SIGKILL at ${((crashed.killedAt ?? 0) / 1000).toFixed(1)} s and restart | ${(crashed.totalMs / 1000).toFixed(2)} s, ${crashed.duplicates} duplicates, ${crashed.lost} lost | 0, 0 | ${crashVerdict ? 'pass' : 'FAIL'} |`,
  );
  const slackVerdict = await slackRows(rate, say);
  say('');
  say(`delivery rows after fan-out: ${plain.statuses}; after crash run: ${crashed.statuses}`);
  return ratio <= 2 && fanVerdict && crashVerdict && slackVerdict ? 0 : 1;
}
