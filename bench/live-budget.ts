/**
 * `npm run bench -- live`: how live sessions share one workspace's chat.update budget. It simulates N people starting a two-minute box-breathing session (30 phases of 4 s) at the same moment,
 * on a virtual clock (minutes of simulated time in milliseconds), and prints what each gets.
 */
import { createLogger } from '../src/config/logger.js';
import type { Sequence } from '../src/core/reply.js';
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
    async run(until: () => boolean): Promise<void> {
      const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
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

async function simulate(sessions: number, updatesPerMinute = 45) {
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
  const live = createSlackLiveSessions({
    log: createLogger({ level: 'silent' }),
    updatesPerMinute,
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  });
  let finished = 0;
  for (let i = 0; i < sessions; i += 1) {
    void live
      .start({
        workspace: 'T0SIM',
        user: `U${i}`,
        sequence: breathing(`s${i}`),
        api,
        finish: async () => ({ text: 'done', blocks: [] }),
      })
      .then(() => (finished += 1));
  }
  await clock.run(() => finished === sessions);
  updates.sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < updates.length; i += 1) {
    while (updates[i]! - updates[j]! >= 60_000) j += 1;
    peak = Math.max(peak, i - j + 1);
  }
  return { sessions, ...live.stats, peakPerMinute: peak, lastFinalSeconds: Math.round(lastFinal / 1000) };
}

export async function runLiveBudgetBench(): Promise<number> {
  const rows = [];
  for (const n of [1, 2, 3, 4, 5, 6, 12, 40, 100]) rows.push(await simulate(n));
  process.stdout.write(
    '| sessions | phases shown live | phases skipped | static fallbacks | peak chat.update / min | last final message at |\n|---|---|---|---|---|---|\n',
  );
  for (const r of rows) {
    process.stdout.write(
      `| ${r.sessions} | ${r.frameUpdates} | ${r.skippedFrames} | ${r.staticFallbacks} | ${r.peakPerMinute} | ${r.lastFinalSeconds} s |\n`,
    );
  }
  return 0;
}
