/**
 * One scheduler process for the concurrency test: waits for a common start instant, ticks until nothing
 * is due, and prints every send it made as one JSON line. Usage: tsx tick-worker.ts <url> <nowISO> <startAtMs>
 */
import { openDatabase } from '../../../src/db/client.js';
import { createLogger } from '../../../src/config/logger.js';
import { postgresInstance } from '../../../src/jobs/instance.js';
import { createScheduler } from '../../../src/jobs/scheduler.js';
import type { Sender } from '../../../src/core/sender.js';

const [url, nowIso, startAt] = process.argv.slice(2) as [string, string, string];
const database = await openDatabase({ driver: 'postgres', url, poolSize: 4 });
const instance = await postgresInstance(url);
const sent: [number, string, number][] = [];
const sender: Sender = {
  platform: 'console',
  async send(delivery) {
    // A little latency so the two processes' batches interleave.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    sent.push([delivery.user.id, delivery.slotAt.toISOString(), delivery.deliveryId]);
    return { status: 'sent', messageRef: `p${process.pid}:${delivery.deliveryId}` };
  },
  async reconcile() {
    return { found: false };
  },
};
const scheduler = createScheduler({
  db: database.db,
  log: createLogger({ level: 'silent' }),
  senders: { console: sender },
  instance,
  now: () => new Date(nowIso),
  batchSize: 20,
  concurrency: 4,
});
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
let ticks = 0;
for (let i = 0; i < 50; i++) {
  ticks += 1;
  const report = await scheduler.tick();
  if (report.claimed === 0) break;
}
await scheduler.stop();
await database.close();
process.stdout.write(`${JSON.stringify({ pid: process.pid, instance: instance.id, ticks, sent })}\n`);
