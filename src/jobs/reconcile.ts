import type { Db } from '../db/client.js';
import { openClaims, takeOver, type ClaimedDelivery, type DeliveryKind } from '../db/deliveries.js';
import type { Platform } from '../core/request.js';
import type { DeliveryPipeline, TickReport } from './delivery-pipeline.js';
import type { SchedulerInstance } from './instance.js';

/** Candidates read per page, and pages per pass: bounded, the next pass carries on. */
const PAGE = 200;
const PAGES = 100;
/**
 * How long a pass may spend reconciling, waiting on the platform's rate limit included: a check is asked again
 * after a 429 only if its turn (the Retry-After, then the pace learned from it) comes within this. Platforms count
 * reads per minute (Slack's Retry-After for conversations.history is at most that), so a pass can wait out one
 * limit and make the calls it then allows; the nudges due meanwhile, sent after reconciling, stay well within their
 * slot. What is left is released, unchecked, and the next pass carries on.
 */
const RECONCILE_PASS_MS = 90_000;

export interface OrphanScan {
  db: Db;
  instance: SchedulerInstance;
  served: readonly Platform[];
  pipeline: DeliveryPipeline;
  now: () => Date;
  /** Runs the work over the items with the scheduler's concurrency. */
  runPool: <T>(items: T[], work: (item: T) => Promise<void>) => Promise<void>;
}

/**
 * Claims nobody is working on: their holder died (kill -9), or it is this scheduler and an earlier pass could not
 * confirm them (passes never overlap, so none of ours is in flight now). Team posts first, then nudges: the same
 * take-over and the same reconcile for both.
 */
export async function reconcileOrphans(scan: OrphanScan, report: TickReport): Promise<void> {
  if (scan.served.length === 0) return;
  const alive = new Map<number, boolean>([[scan.instance.id, false]]);
  const until = new Date(scan.now().getTime() + RECONCILE_PASS_MS);
  for (const kind of ['channel', 'person'] as const) await reconcileKind(scan, kind, alive, until, report);
}

async function reconcileKind(
  scan: OrphanScan,
  kind: DeliveryKind,
  alive: Map<number, boolean>,
  until: Date,
  report: TickReport,
): Promise<void> {
  const { db, instance, pipeline } = scan;
  let cursor = 0;
  for (let page = 0; page < PAGES && scan.now() < until; page++) {
    const candidates = await openClaims(db, kind, cursor, PAGE);
    if (candidates.length === 0) return;
    cursor = candidates[candidates.length - 1]!.deliveryId;
    const orphans: ClaimedDelivery[] = [];
    for (const c of candidates) {
      if (c.claimedBy !== null) {
        if (!alive.has(c.claimedBy)) alive.set(c.claimedBy, await instance.isAlive(c.claimedBy));
        if (alive.get(c.claimedBy)) continue;
      }
      const taken = await takeOver(db, kind, c.deliveryId, c.claimedBy, instance.id, scan.served);
      if (taken) orphans.push(taken);
    }
    await scan.runPool(orphans, (o) => pipeline.reconcile(o, report, until));
    await pipeline.flush();
  }
}
