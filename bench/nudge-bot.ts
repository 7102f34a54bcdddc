/**
 * The bot side of the fan-out benchmark, as its own process so it can be SIGKILLed:
 * reconcile what a previous run left claimed, then tick until nothing is due or claimed.
 * Usage: tsx bench/nudge-bot.ts <database url> <fake platform url> [slack]
 * With `slack`, the fake is Slack's Web API (its `/api/` base) and the real Slack sender posts: busy check,
 * then chat.postMessage with the delivery id in the message metadata, reconcile through conversations.history.
 * Prints JSON lines: {"event":"tick-start","at":ms} then {"event":"done",...}.
 */
import { sql } from 'drizzle-orm';
import { createLogger } from '../src/config/logger.js';
import { openDatabase, queryRows } from '../src/db/client.js';
import { postgresInstance } from '../src/jobs/instance.js';
import { createScheduler } from '../src/jobs/scheduler.js';
import { createSlackSender } from '../adapters/slack/sender.js';
import { createClientPool, defaultClientOptions } from '../adapters/slack/slack-api.js';
import type { Sender } from '../src/core/sender.js';
import { createHttpSender } from './http-sender.js';

const [url, fakeUrl, platform] = process.argv.slice(2) as [string, string, string | undefined];
const log = createLogger({ level: process.env.BENCH_BOT_LOG ?? 'warn' });
const senders: Partial<Record<'console' | 'slack', Sender>> =
  platform === 'slack'
    ? {
        slack: createSlackSender({
          tokens: async () => 'xoxb-bench-not-a-real-token',
          client: createClientPool({ ...defaultClientOptions, slackApiUrl: fakeUrl }),
          log,
        }),
      }
    : { console: createHttpSender(fakeUrl) };
const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const database = await openDatabase({ driver: 'postgres', url, poolSize: 10 });
const instance = await postgresInstance(url);
const scheduler = createScheduler({
  db: database.db,
  log,
  senders,
  instance,
  batchSize: 100,
  concurrency: 8,
});

emit({ event: 'tick-start', at: Date.now(), instance: instance.id });
const totals = { claimed: 0, sent: 0, reconciled: 0, failed: 0, missed: 0 };
await scheduler
  .reconcile()
  .then((r) => Object.keys(totals).forEach((k) => (totals[k as keyof typeof totals] += r[k as keyof typeof totals])));
// Bounded: ticks until nothing is due and nothing is left claimed (an orphan of a dead holder shows up here too).
for (let i = 0; i < 600; i++) {
  const report = await scheduler.tick();
  for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += report[k];
  const [left] = await queryRows<{ n: number }>(
    database.db,
    sql`select ((select count(*) from nudge_deliveries where status = 'claimed') +
                (select count(*) from preferences where next_due_at <= now()))::int as n`,
  );
  if ((left?.n ?? 0) === 0) break;
  if (report.claimed === 0) await new Promise((resolve) => setTimeout(resolve, 200));
}
emit({ event: 'done', at: Date.now(), ...totals });
await scheduler.stop();
await database.close();
