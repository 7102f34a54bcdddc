/**
 * `npm run bench -- live [--replicas N]`: how live sessions share one workspace's chat.update budget. It simulates
 * N people starting a two-minute box-breathing session (30 phases of 4 s) at the same moment, on a virtual clock
 * (minutes of simulated time in milliseconds), and prints what each gets.
 *
 * `--replicas N` (N ≥ 2) plays the same sessions spread over N engines (as N replicas would), each with its own
 * connection pool to one real PostgreSQL (BENCH_DATABASE_URL, a scratch database) and its own budget object on the
 * shared `rate_budgets` table, beside N engines with in-process budgets (what each replica had before): the peak
 * chat.update rate of the workspace across all engines, and what one shared take costs (real time per statement).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/config/logger.js';
import type { Sequence } from '../src/core/reply.js';
import { localBudgets, type RateBudgets } from '../src/core/rate-budget.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { postgresBudgets } from '../src/db/rate-budgets.js';
import { createScratchDatabase } from '../test/support/scratch-database.js';
import { createSlackLiveSessions, type LiveMessageApi } from '../adapters/slack/live.js';

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** A minimal virtual clock: timers run in time order; promises settle between them. */
function virtualClock() {
  let now = 0;
  let seq = 0;
  const timers: Timer[] = [];
  return {
    now: () => now,
    setTimer: (callback: () => void, ms: number): unknown => {
      const timer = { at: now + Math.max(0, ms), seq: seq++, callback, cancelled: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (handle: unknown) => {
      (handle as Timer).cancelled = true;
    },
    /** `busy`: work outside the clock (a database statement) that must finish before time moves on. */
    async run(until: () => boolean, busy: () => boolean = () => false): Promise<void> {
      const settle = async () => {
        do await new Promise<void>((resolve) => setImmediate(resolve));
        while (busy());
      };
      await settle();
      while (!until()) {
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers.shift();
        if (!next) break;
        if (next.cancelled) continue;
        now = next.at;
        next.callback();
        await settle();
      }
    },
  };
}

function breathing(id: string): Sequence {
  return {
    sessionId: id,
    frames: Array.from({ length: 30 }, (_, i) => ({ ms: 4000, blocks: [{ type: 'text', text: `${id} phase ${i}` }] })),
    staticBlocks: [{ type: 'text', text: 'Box breathing: in 4, hold 4, out 4, hold 4, for two minutes.' }],
    actions: [],
  };
}

/** Budgets per engine, made for the run's virtual clock; `busy` says a statement is still in flight. */
interface BudgetSetup {
  budgets(now: () => number): RateBudgets[];
  busy?: () => boolean;
}

const local: BudgetSetup = { budgets: (now) => [localBudgets(now)] };

async function simulate(sessions: number, setup: BudgetSetup = local, updatesPerMinute = 45) {
  const clock = virtualClock();
  const updates: number[] = [];
  let lastFinal = 0;
  const api: LiveMessageApi = {
    post: async () => ({ channel: 'D0SIM', ts: String(Math.random()) }),
    update: async (_channel, _ts, message) => {
      updates.push(clock.now());
      if (message.text === 'done') lastFinal = clock.now();
    },
  };
  // One engine per replica, each with its own budget object (and, when shared, its own connection pool).
  const engines = setup.budgets(clock.now).map((budgets) =>
    createSlackLiveSessions({
      log: createLogger({ level: 'silent' }),
      updatesPerMinute,
      budgets,
      now: clock.now,
      setTimer: clock.setTimer,
      clearTimer: clock.clearTimer,
    }),
  );
  let finished = 0;
  for (let i = 0; i < sessions; i += 1) {
    void engines[i % engines.length]!.start({
      workspace: 'T0SIM',
      user: `U${i}`,
      sequence: breathing(`s${i}`),
      api,
      finish: async () => ({ text: 'done', blocks: [] }),
    }).done.then(() => (finished += 1));
  }
  await clock.run(() => finished === sessions, setup.busy);
  updates.sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < updates.length; i += 1) {
    while (updates[i]! - updates[j]! >= 60_000) j += 1;
    peak = Math.max(peak, i - j + 1);
  }
  const stats = { frameUpdates: 0, skippedFrames: 0, staticFallbacks: 0 };
  for (const engine of engines)
    for (const key of Object.keys(stats) as (keyof typeof stats)[]) stats[key] += engine.stats[key];
  return { sessions, ...stats, peakPerMinute: peak, lastFinalSeconds: Math.round(lastFinal / 1000) };
}

const tableHead =
  '| sessions | phases shown live | phases skipped | static fallbacks | peak chat.update / min | last final message at |\n|---|---|---|---|---|---|\n';
const tableRow = (r: Awaited<ReturnType<typeof simulate>>) =>
  `| ${r.sessions} | ${r.frameUpdates} | ${r.skippedFrames} | ${r.staticFallbacks} | ${r.peakPerMinute} | ${r.lastFinalSeconds} s |\n`;

/** Engines whose budgets share one PostgreSQL (a scratch database, one pool each); every take is timed. */
async function sharedSetup(replicas: number) {
  const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const scratch = await createScratchDatabase('backcare_bench', base);
  const databases: Database[] = [];
  for (let i = 0; i < replicas; i += 1)
    databases.push(await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 2 }));
  let inFlight = 0;
  const takeMs: number[] = [];
  const timed =
    (budgets: RateBudgets): RateBudgets =>
    (spec) => {
      const budget = budgets(spec);
      return {
        async take(key, request) {
          inFlight += 1;
          const started = performance.now();
          try {
            return await budget.take(key, request);
          } finally {
            takeMs.push(performance.now() - started);
            inFlight -= 1;
          }
        },
        pause: (key, ms) => budget.pause(key, ms),
      };
    };
  const setup: BudgetSetup = {
    // A fresh run starts with an empty table, as a new workspace does.
    budgets: (now) => databases.map((d) => timed(postgresBudgets(d.db, { now }))),
    busy: () => inFlight > 0,
  };
  const reset = async () => {
    await databases[0]!.db.execute('truncate rate_budgets' as never);
  };
  /** What one take costs by itself: sequential statements on the real database clock, no simulation around them. */
  const statementMs = async (n: number) => {
    const budget = postgresBudgets(databases[0]!.db)({ name: 'bench', limit: 45, windowMs: 60_000, burst: 15 });
    const times: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const started = performance.now();
      await budget.take('T0COST', { keep: 9 });
      times.push(performance.now() - started);
    }
    const baseline: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const started = performance.now();
      await databases[0]!.ping();
      baseline.push(performance.now() - started);
    }
    return { take: times.sort((a, b) => a - b), select1: baseline.sort((a, b) => a - b) };
  };
  const close = async () => {
    for (const d of databases) await d.close();
    await scratch.drop();
  };
  return { setup, takeMs, reset, statementMs, close };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;

async function runReplicas(replicas: number): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const counts = [2, 6, 12, 40, 100];
  say(`# npm run bench -- live --replicas ${replicas} (one workspace, budget 45 chat.update a minute)`);
  say(`\n## ${replicas} engines, each with its own in-process budget (before: nothing shared)\n`);
  process.stdout.write(tableHead);
  const unshared: BudgetSetup = { budgets: (now) => Array.from({ length: replicas }, () => localBudgets(now)) };
  for (const n of counts) process.stdout.write(tableRow(await simulate(n, unshared)));

  say(`\n## ${replicas} engines sharing the PostgreSQL budget (rate_budgets, one pool per engine)\n`);
  process.stdout.write(tableHead);
  const shared = await sharedSetup(replicas);
  let peak = 0;
  let updates = 0;
  try {
    for (const n of counts) {
      await shared.reset();
      const row = await simulate(n, shared.setup);
      peak = Math.max(peak, row.peakPerMinute);
      updates += row.frameUpdates;
      process.stdout.write(tableRow(row));
    }
    const alone = await shared.statementMs(2000);
    say(
      `\none take alone (2,000 in a row, database clock): p50 ${percentile(alone.take, 50).toFixed(2)} ms, ` +
        `p99 ${percentile(alone.take, 99).toFixed(2)} ms; a bare \`select 1\` on the same pool: ` +
        `p50 ${percentile(alone.select1, 50).toFixed(2)} ms, p99 ${percentile(alone.select1, 99).toFixed(2)} ms; ` +
        `load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
    );
  } finally {
    await shared.close();
  }
  const sorted = [...shared.takeMs].sort((a, b) => a - b);
  say(
    `\ntakes during the simulations: ${sorted.length} statements for ${updates} live phases shown (one per frame asked, none for frames ` +
      `a session's own share refuses); real time per take (while the simulation spins the event loop) p50 ${percentile(sorted, 50).toFixed(2)} ms, ` +
      `p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${(sorted.at(-1) ?? 0).toFixed(2)} ms`,
  );
  const ok = peak <= 45;
  say(
    `peak chat.update / min across ${replicas} engines sharing the budget: ${peak} (target ≤ 45): ${ok ? 'met' : 'MISSED'}`,
  );
  return ok ? 0 : 1;
}

export async function runLiveBudgetBench(argv: string[] = []): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { replicas: { type: 'string', default: '1' } } });
  const replicas = Number(values.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) {
    process.stderr.write('bench live: --replicas must be a whole number from 1 to 8\n');
    return 2;
  }
  if (replicas > 1) return runReplicas(replicas);
  const rows = [];
  for (const n of [1, 2, 3, 4, 5, 6, 12, 40, 100]) rows.push(await simulate(n));
  process.stdout.write(tableHead);
  for (const r of rows) process.stdout.write(tableRow(r));
  return 0;
}
