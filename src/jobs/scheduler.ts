import cron from 'node-cron';
import type { Logger } from '../config/logger.js';
import type { Db } from '../db/client.js';
import { recordActivity } from '../db/activity.js';
import {
  buildNudgeMessage,
  buildTeamPostMessage,
  fallbackRoutineSource,
  type NudgeRoutine,
  type NudgeRoutineSource,
} from '../core/nudge-message.js';
import type { Preferences } from '../core/preferences.js';
import type { Platform } from '../core/request.js';
import type { NudgeDelivery, SendResult, Sender } from '../core/sender.js';
import { RateLimiter } from '../core/rate-limit.js';
import {
  claimDueBatch,
  closeDelivery,
  confirmSent,
  openClaims,
  LATE_LIMIT_MS,
  pauseUser,
  recentRoutineIds,
  rememberDmChannel,
  setRoutine,
  takeOver,
  type ClaimedDelivery,
  type Confirmation,
} from './claims.js';
import type { SchedulerInstance } from './instance.js';
import {
  claimDueTeamPosts,
  closeTeamPost,
  openTeamPostClaims,
  pauseTeamPost,
  takeOverTeamPost,
  type ClaimedTeamPost,
} from './team-posts.js';
import { nextSlot } from './slots.js';
import { sql } from 'drizzle-orm';
import type { WorkspaceRoutineSources } from '../core/content/workspace-routines.js';

/** How long a claim's platform check may keep failing before the claim is closed without a resend. */
export const RECONCILE_GIVE_UP_MS = 60 * 60 * 1000;
const UNVERIFIABLE = 'could not be checked on the platform for an hour; not resent';

export interface SchedulerOptions {
  db: Db;
  log: Logger;
  senders: Partial<Record<Platform, Sender>>;
  instance: SchedulerInstance;
  routines?: NudgeRoutineSource;
  /** A team's own routines on top of `routines`, per workspace (issue 11); refreshed at the start of every pass. */
  workspaceRoutines?: WorkspaceRoutineSources;
  now?: () => Date;
  /** Waits; injected so tests drive retries with fake timers. */
  sleep?: (ms: number) => Promise<void>;
  /** Users locked per claiming transaction. */
  batchSize?: number;
  /** Sends in flight at once (the platform gate still paces them). */
  concurrency?: number;
  /** Give up on a delivery after this many transient failures, even within its slot. */
  maxAttempts?: number;
  cronExpression?: string;
  /** Called after every pass (metrics: tick duration, batch size, outcomes); must not throw. */
  onTick?: (report: TickReport, info: { seconds: number; failed: boolean }) => void;
}

export interface TickReport {
  claimed: number;
  sent: number;
  missed: number;
  failed: number;
  unavailable: number;
  reconciled: number;
  /** Issue 11: due slots not sent because the person already had their daily maximum. */
  capped: number;
}

export interface Scheduler {
  /** Reconciles what a previous run left claimed, then ticks every minute. */
  start(): Promise<void>;
  /** Stops ticking and waits for in-flight sends. */
  stop(): Promise<void>;
  /** One pass: reconcile orphans, then claim and send everything due. Concurrent calls share one pass. */
  tick(): Promise<TickReport>;
  reconcile(): Promise<TickReport>;
}

/** Confirmations written per statement. */
const CONFIRM_GROUP = 50;

/**
 * A team post addresses a channel, not a person (whoever set it up may since have been forgotten): senders read
 * `user` only to open a DM or check someone's availability, and neither happens for a channel destination.
 */
const NO_PERSON: NudgeDelivery['user'] = { id: 0, platformUserId: '', dmChannelId: null };

const emptyReport = (): TickReport => ({
  claimed: 0,
  sent: 0,
  missed: 0,
  failed: 0,
  unavailable: 0,
  reconciled: 0,
  capped: 0,
});

/** Backoff floor for a delivery that keeps failing (on top of the platform's Retry-After). */
function backoffMs(attempt: number): number {
  return attempt < 3 ? 0 : Math.min(30_000, 250 * 2 ** (attempt - 3));
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { db, log, senders, instance } = options;
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const routines = options.routines ?? fallbackRoutineSource;
  const batchSize = options.batchSize ?? 100;
  const concurrency = options.concurrency ?? 8;
  const maxAttempts = options.maxAttempts ?? 12;
  const served = Object.keys(senders) as Platform[];
  // One pause per platform: a 429 holds back every send to it for its Retry-After.
  const gate = new RateLimiter({ now: () => now().getTime() });

  /** The workspace's own library when it has routines of its own, else the shared one. */
  const sourceFor = (workspaceId: number): NudgeRoutineSource =>
    options.workspaceRoutines?.forWorkspace(workspaceId) ?? routines;

  function pick(prefs: Preferences, recentIds: readonly string[], workspaceId: number): NudgeRoutine {
    return (
      sourceFor(workspaceId).pickForNudge({ allowed: prefs.kinds, recentIds })?.routine ??
      // Nothing short enough among the person's kinds: a basic nudge beats none.
      fallbackRoutineSource.pickForNudge({ allowed: prefs.kinds, recentIds })!.routine
    );
  }

  /** The routine chosen at claim time; chosen again only if the content library no longer has it. */
  async function routineFor(claimed: ClaimedDelivery): Promise<NudgeRoutine> {
    const stored = claimed.routineId
      ? (sourceFor(claimed.workspaceId).get(claimed.routineId) ?? fallbackRoutineSource.get(claimed.routineId))
      : undefined;
    if (stored) return stored;
    const routine = pick(claimed.prefs, await recentRoutineIds(db, claimed.userId), claimed.workspaceId);
    await setRoutine(db, claimed.deliveryId, routine.id);
    claimed.routineId = routine.id;
    return routine;
  }

  function deliveryOf(claimed: ClaimedDelivery, routine: NudgeRoutine): NudgeDelivery {
    return {
      deliveryId: claimed.deliveryId,
      slotAt: claimed.slotAt,
      workspace: { id: claimed.workspaceId, platform: claimed.platform, externalId: claimed.workspaceExternalId },
      user: { id: claimed.userId, platformUserId: claimed.platformUserId, dmChannelId: claimed.dmChannelId },
      destination:
        claimed.prefs.delivery === 'channel' && claimed.prefs.channelId
          ? { kind: 'channel', channelId: claimed.prefs.channelId }
          : { kind: 'dm' },
      message: buildNudgeMessage(
        routine,
        claimed.deliveryId,
        claimed.slotAt,
        claimed.question ? { askFewer: { everyMinutes: claimed.prefs.everyMinutes } } : {},
      ),
    };
  }

  const who = (c: ClaimedDelivery) => ({ userId: c.userId, workspaceId: c.workspaceId });

  /**
   * Confirmations are written in groups (one statement per up to 50, or when a worker runs dry): sends are
   * not held up by a database round trip each. A crash before a group is written leaves those deliveries
   * `claimed`, and reconciliation finds their messages on the platform: nothing is sent twice.
   */
  let unconfirmed: Confirmation[] = [];
  let confirming: Promise<void> = Promise.resolve();
  function flushConfirmations(): Promise<void> {
    if (unconfirmed.length === 0) return confirming;
    const group = unconfirmed;
    unconfirmed = [];
    confirming = confirming.then(() =>
      confirmSent(db, group).catch(async (error: unknown) => {
        // Left claimed by us: the next pass reconciles them (and finds the messages).
        log.error(
          { event: 'nudge.confirm_failed', count: group.length, err: error },
          'could not confirm sent nudges; they will be reconciled',
        );
      }),
    );
    return confirming;
  }

  async function markSent(
    claimed: ClaimedDelivery,
    result: Extract<SendResult, { status: 'sent' }>,
    attempts: number,
    report: TickReport,
  ) {
    unconfirmed.push({
      deliveryId: claimed.deliveryId,
      workspaceId: claimed.workspaceId,
      messageRef: result.messageRef,
      attempts,
      at: now(),
    });
    report.sent += 1;
    if (unconfirmed.length >= CONFIRM_GROUP) void flushConfirmations();
    if (result.dmChannelId && result.dmChannelId !== claimed.dmChannelId)
      await rememberDmChannel(db, claimed.userId, result.dmChannelId);
  }

  type SendOutcome =
    | { kind: 'sent'; messageRef: string; dmChannelId?: string }
    | { kind: 'permanent'; reason: string }
    | { kind: 'gave-up'; reason: string };

  /**
   * One delivery's send, retried on transient failures until it succeeds, fails for good, or further waiting
   * would run past the slot's 10 minutes. A 429 pauses every send to that platform for its Retry-After.
   */
  async function sendWithinSlot(
    sender: Sender,
    delivery: NudgeDelivery,
    onAttempt: (attempts: number) => void,
  ): Promise<SendOutcome> {
    const deadline = delivery.slotAt.getTime() + LATE_LIMIT_MS;
    for (let attempts = 1; ; attempts++) {
      await gate.wait(sender.platform, sleep);
      onAttempt(attempts);
      let result: SendResult;
      try {
        result = await sender.send(delivery);
      } catch (error) {
        // A sender that throws may or may not have posted: ask the platform before trying again.
        log.warn(
          { event: 'nudge.send_threw', deliveryId: delivery.deliveryId, err: error },
          'sender threw; reconciling before retry',
        );
        const check = await sender.reconcile(delivery);
        if (check.found) return { kind: 'sent', messageRef: check.messageRef };
        result = {
          status: 'retry',
          retryAfterMs: 1000,
          reason: error instanceof Error ? error.message : String(error),
        };
      }
      if (result.status === 'sent')
        return {
          kind: 'sent',
          messageRef: result.messageRef,
          ...(result.dmChannelId ? { dmChannelId: result.dmChannelId } : {}),
        };
      if (result.status === 'permanent') return { kind: 'permanent', reason: result.reason };
      const wait = Math.max(result.retryAfterMs, backoffMs(attempts));
      if (attempts >= maxAttempts || now().getTime() + wait > deadline)
        return { kind: 'gave-up', reason: result.reason };
      gate.pause(sender.platform, result.retryAfterMs);
      await sleep(wait);
    }
  }

  /** Sends one claimed delivery, retrying transient failures within its slot. Never throws. */
  async function deliver(claimed: ClaimedDelivery, report: TickReport): Promise<void> {
    const sender = senders[claimed.platform];
    if (!sender) return;
    let attempts = 0;
    try {
      // Waited in the queue (or behind rate limits) past its slot: too stale to send.
      if (now().getTime() - claimed.slotAt.getTime() > LATE_LIMIT_MS) {
        await closeDelivery(db, claimed.deliveryId, 'missed', 0, 'not sent within 10 minutes of its slot');
        await recordActivity(
          db,
          who(claimed),
          { kind: 'nudge', outcome: 'missed', source: 'nudge', routineId: claimed.routineId },
          now(),
        );
        report.missed += 1;
        return;
      }
      const routine = await routineFor(claimed);
      const delivery = deliveryOf(claimed, routine);
      if (sender.isAvailable) {
        const availability = await sender.isAvailable(delivery);
        if (!availability.available) {
          await closeDelivery(db, claimed.deliveryId, 'unavailable', 0, availability.reason);
          await recordActivity(
            db,
            who(claimed),
            { kind: 'nudge', outcome: 'unavailable', source: 'nudge', routineId: routine.id },
            now(),
          );
          report.unavailable += 1;
          return;
        }
      }
      const outcome = await sendWithinSlot(sender, delivery, (n) => (attempts = n));
      if (outcome.kind === 'sent')
        return await markSent(
          claimed,
          {
            status: 'sent',
            messageRef: outcome.messageRef,
            ...(outcome.dmChannelId ? { dmChannelId: outcome.dmChannelId } : {}),
          },
          attempts,
          report,
        );
      if (outcome.kind === 'permanent') {
        await closeDelivery(db, claimed.deliveryId, 'failed', attempts, outcome.reason);
        await pauseUser(db, claimed.userId, outcome.reason, now());
        log.warn(
          { event: 'nudge.paused', userId: claimed.userId, reason: outcome.reason },
          'nudges paused: person unreachable',
        );
        report.failed += 1;
        return;
      }
      await closeDelivery(db, claimed.deliveryId, 'failed', attempts, `gave up within the slot: ${outcome.reason}`);
      log.warn(
        { event: 'nudge.gave_up', deliveryId: claimed.deliveryId, attempts, reason: outcome.reason },
        'nudge not delivered within its slot',
      );
      report.failed += 1;
    } catch (error) {
      // Storage trouble mid-delivery: hand the claim back so reconciliation (which checks the platform) resolves it.
      log.error(
        { event: 'nudge.deliver_failed', deliveryId: claimed.deliveryId, err: error },
        'delivery failed; released for reconciliation',
      );
      await db
        .execute(
          sql`update nudge_deliveries set claimed_by = null, attempts = ${attempts} where id = ${claimed.deliveryId} and status = 'claimed'`,
        )
        .catch(() => undefined);
    }
  }

  function teamDeliveryOf(post: ClaimedTeamPost, routine: NudgeRoutine): NudgeDelivery {
    return {
      deliveryId: post.deliveryId,
      slotAt: post.slotAt,
      workspace: { id: post.workspaceId, platform: post.platform, externalId: post.workspaceExternalId },
      user: NO_PERSON,
      destination: { kind: 'channel', channelId: post.channelId },
      message: buildTeamPostMessage(routine),
    };
  }

  const teamRoutine = (post: ClaimedTeamPost) =>
    (post.routineId
      ? (sourceFor(post.workspaceId).get(post.routineId) ?? fallbackRoutineSource.get(post.routineId))
      : undefined) ?? pickTeamRoutine([], post.workspaceId);
  function pickTeamRoutine(recentIds: readonly string[], workspaceId: number): NudgeRoutine {
    return (
      sourceFor(workspaceId).pickForNudge({ allowed: ['stretch'], recentIds })?.routine ??
      fallbackRoutineSource.pickForNudge({ allowed: ['stretch'], recentIds })!.routine
    );
  }

  /** A team's daily post: same claim, send-within-slot and reconcile rules as a nudge. */
  async function deliverTeamPost(post: ClaimedTeamPost, report: TickReport, reconciling: boolean): Promise<void> {
    const sender = senders[post.platform];
    if (!sender) return;
    try {
      const delivery = teamDeliveryOf(post, teamRoutine(post));
      if (reconciling) {
        const found = await sender.reconcile(delivery);
        report.reconciled += 1;
        if (found.found) return await closeTeamPost(db, post.deliveryId, 'sent', found.messageRef, null, now());
      }
      if (now().getTime() - post.slotAt.getTime() > LATE_LIMIT_MS) {
        report.missed += 1;
        return await closeTeamPost(
          db,
          post.deliveryId,
          'missed',
          null,
          'not sent within 10 minutes of its slot',
          now(),
        );
      }
      const outcome = await sendWithinSlot(sender, delivery, () => undefined);
      if (outcome.kind === 'sent') {
        report.sent += 1;
        return await closeTeamPost(db, post.deliveryId, 'sent', outcome.messageRef, null, now());
      }
      report.failed += 1;
      await closeTeamPost(db, post.deliveryId, 'failed', null, outcome.reason, now());
      if (outcome.kind === 'permanent') {
        await pauseTeamPost(db, post.workspaceId, outcome.reason);
        log.warn(
          { event: 'team_post.paused', workspaceId: post.workspaceId, reason: outcome.reason },
          'team post paused: channel unreachable',
        );
      }
    } catch (error) {
      if (beyondChecking(post.slotAt)) {
        log.warn(
          { event: 'team_post.unverifiable', deliveryId: post.deliveryId, err: error },
          'team post could not be checked on the platform for an hour; closed, not resent',
        );
        report.missed += 1;
        return await closeTeamPost(db, post.deliveryId, 'missed', null, UNVERIFIABLE, now()).catch(() => undefined);
      }
      log.error(
        { event: 'team_post.deliver_failed', deliveryId: post.deliveryId, err: error },
        'team post failed; released for reconciliation',
      );
      await db
        .execute(
          sql`update team_post_deliveries set claimed_by = null where id = ${post.deliveryId} and status = 'claimed'`,
        )
        .catch(() => undefined);
    }
  }

  async function claimAndSendTeamPosts(report: TickReport): Promise<void> {
    // Bounded: a few hundred teams per tick at most; the next tick carries on.
    for (let i = 0; i < 20 && !stopped; i++) {
      const batch = await claimDueTeamPosts(db, {
        now: now(),
        holder: instance.id,
        platforms: served,
        limit: 25,
        pickRoutine: (recent, workspaceId) => pickTeamRoutine(recent, workspaceId).id,
      });
      report.missed += batch.missed;
      await runPool(batch.claimed, (post) => deliverTeamPost(post, report, false));
      if (batch.claimed.length + batch.missed < 25) return;
    }
  }

  async function reconcileTeamPosts(report: TickReport, alive: Map<number, boolean>): Promise<void> {
    const orphans: ClaimedTeamPost[] = [];
    for (const c of await openTeamPostClaims(db, 200)) {
      if (c.claimedBy !== null) {
        if (!alive.has(c.claimedBy)) alive.set(c.claimedBy, await instance.isAlive(c.claimedBy));
        if (alive.get(c.claimedBy)) continue;
      }
      const taken = await takeOverTeamPost(db, c.deliveryId, c.claimedBy, instance.id);
      if (taken && senders[taken.platform]) orphans.push(taken);
    }
    await runPool(orphans, (post) => deliverTeamPost(post, report, true));
  }

  async function runPool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await work(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  }

  /**
   * Claims nobody is working on: their holder died (kill -9), or it is this scheduler and an earlier pass
   * could not confirm them (passes never overlap, so none of ours is in flight now). Look on the platform
   * first; resend only what is not there.
   */
  async function reconcileOrphans(report: TickReport): Promise<void> {
    if (served.length === 0) return;
    const alive = new Map<number, boolean>([[instance.id, false]]);
    await reconcileTeamPosts(report, alive);
    let cursor = 0;
    // Bounded: 100 pages of 200 per pass; the next pass carries on.
    for (let page = 0; page < 100; page++) {
      const candidates = await openClaims(db, cursor, 200);
      if (candidates.length === 0) return;
      cursor = candidates[candidates.length - 1]!.deliveryId;
      const orphans: ClaimedDelivery[] = [];
      for (const c of candidates) {
        if (c.claimedBy !== null) {
          if (!alive.has(c.claimedBy)) alive.set(c.claimedBy, await instance.isAlive(c.claimedBy));
          if (alive.get(c.claimedBy)) continue;
        }
        const taken = await takeOver(db, c.deliveryId, c.claimedBy, instance.id, served);
        if (taken) orphans.push(taken);
      }
      await runPool(orphans, (o) => reconcileOne(o, report));
      await flushConfirmations();
    }
  }

  /**
   * A claim whose platform check keeps failing (a history window Slack will not page through, a rate limit) would
   * otherwise be released and retried forever. Long past the point where it could still be sent, it is closed
   * without a resend: never twice beats a record that may say "missed" for a message that did arrive.
   */
  function beyondChecking(slotAt: Date): boolean {
    return now().getTime() - slotAt.getTime() > RECONCILE_GIVE_UP_MS;
  }

  async function reconcileOne(claimed: ClaimedDelivery, report: TickReport): Promise<void> {
    const sender = senders[claimed.platform];
    if (!sender) return;
    try {
      // No routine stored means the message was never built, so it cannot have been posted.
      if (claimed.routineId) {
        const routine =
          sourceFor(claimed.workspaceId).get(claimed.routineId) ?? (await routineFor({ ...claimed, routineId: null }));
        const found = await sender.reconcile(deliveryOf(claimed, routine));
        if (found.found) {
          log.info(
            { event: 'nudge.reconciled', deliveryId: claimed.deliveryId, outcome: 'found' },
            'claimed nudge was already posted',
          );
          report.reconciled += 1;
          return await markSent(claimed, { status: 'sent', messageRef: found.messageRef }, 1, report);
        }
      }
      report.reconciled += 1;
      if (now().getTime() - claimed.slotAt.getTime() > LATE_LIMIT_MS) {
        await closeDelivery(db, claimed.deliveryId, 'missed', 0, 'found unsent after a restart, too late to send');
        await recordActivity(
          db,
          who(claimed),
          { kind: 'nudge', outcome: 'missed', source: 'nudge', routineId: claimed.routineId },
          now(),
        );
        report.missed += 1;
        return;
      }
      if (!claimed.prefs.optedIn || claimed.prefs.pausedReason) {
        await closeDelivery(db, claimed.deliveryId, 'failed', 0, 'nudges were turned off before it could be resent');
        return;
      }
      log.info(
        { event: 'nudge.reconciled', deliveryId: claimed.deliveryId, outcome: 'resend' },
        'claimed nudge not found on the platform; sending',
      );
      await deliver(claimed, report);
    } catch (error) {
      if (beyondChecking(claimed.slotAt)) {
        log.warn(
          { event: 'nudge.unverifiable', deliveryId: claimed.deliveryId, err: error },
          'claimed nudge could not be checked on the platform for an hour; closed, not resent',
        );
        report.missed += 1;
        return await closeDelivery(db, claimed.deliveryId, 'missed', 0, UNVERIFIABLE).catch(() => undefined);
      }
      log.error(
        { event: 'nudge.reconcile_failed', deliveryId: claimed.deliveryId, err: error },
        'reconcile failed; will retry next tick',
      );
      await db
        .execute(
          sql`update nudge_deliveries set claimed_by = null where id = ${claimed.deliveryId} and status = 'claimed'`,
        )
        .catch(() => undefined);
    }
  }

  /**
   * Claims in small batches and sends through `concurrency` workers. The next batch is claimed while the
   * current one is still sending (at most about 1.5 batches held), so the platform's rate, not the claiming,
   * sets the pace; claims are never taken far ahead of what can be sent within the slot.
   */
  async function claimAndSend(report: TickReport): Promise<void> {
    if (served.length === 0) return;
    const queue: ClaimedDelivery[] = [];
    let exhausted = false;
    let batches = 0;
    let claiming: Promise<void> | null = null;

    const claimMore = async () => {
      // Bounded: at most 10,000 batches per tick; the next tick carries on.
      if (batches >= 10_000 || stopped || !(await instance.isAlive(instance.id))) {
        if (!stopped && batches < 10_000)
          log.error({ event: 'scheduler.lost_lock' }, 'scheduler lost its liveness lock; not claiming');
        exhausted = true;
        return;
      }
      batches += 1;
      const batch = await claimDueBatch(db, {
        now: now(),
        holder: instance.id,
        platforms: served,
        batchSize,
        nextSlot,
        pickRoutine: (p, r, w) => pick(p, r, w).id,
      });
      for (const bad of batch.invalid)
        log.error(
          { event: 'nudge.invalid_preferences', userId: bad.userId, error: bad.error },
          'stored preferences invalid; schedule stopped',
        );
      report.claimed += batch.claimed.length;
      report.missed += batch.missed.length;
      report.capped += batch.capped.length;
      queue.push(...batch.claimed);
      if (batch.locked < batchSize) exhausted = true;
    };
    const refill = () =>
      (claiming ??= claimMore()
        .catch((error: unknown) => {
          exhausted = true;
          log.error({ event: 'scheduler.claim_failed', err: error }, 'claiming failed');
        })
        .finally(() => {
          claiming = null;
        }));

    const worker = async () => {
      for (;;) {
        if (!exhausted && queue.length <= batchSize / 2) {
          const pending = refill();
          if (queue.length === 0) await pending;
        }
        const next = queue.shift();
        if (next) {
          await deliver(next, report);
          continue;
        }
        void flushConfirmations();
        if (claiming) {
          await claiming;
          continue;
        }
        if (exhausted) return;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await flushConfirmations();
  }

  let running: Promise<TickReport> | null = null;
  let task: ReturnType<typeof cron.schedule> | null = null;
  let stopped = false;

  function pass(reconcileOnly: boolean): Promise<TickReport> {
    running ??= (async () => {
      const report = emptyReport();
      const started = performance.now();
      let failed = false;
      try {
        // A team's routines added or removed since the last pass; on failure the previous ones (or the built-ins) serve.
        await options.workspaceRoutines
          ?.refresh()
          .catch((error: unknown) =>
            log.warn({ event: 'scheduler.team_routines_failed', err: error }, 'team routines not refreshed'),
          );
        await reconcileOrphans(report);
        if (!reconcileOnly && !stopped) {
          await claimAndSend(report);
          await claimAndSendTeamPosts(report);
        }
      } catch (error) {
        failed = true;
        log.error({ event: 'scheduler.tick_failed', err: error }, 'scheduler tick failed');
      } finally {
        running = null;
      }
      try {
        options.onTick?.(report, { seconds: (performance.now() - started) / 1000, failed });
      } catch (error) {
        log.warn({ event: 'scheduler.observer_failed', err: error }, 'onTick hook failed');
      }
      if (report.claimed + report.missed + report.reconciled + report.failed + report.capped > 0) {
        log.info({ event: 'scheduler.tick', ...report, ms: Math.round(performance.now() - started) }, 'nudge tick');
      }
      return report;
    })();
    return running;
  }

  return {
    tick: () => pass(false),
    reconcile: () => pass(true),
    async start() {
      stopped = false;
      await pass(true);
      task = cron.schedule(options.cronExpression ?? '* * * * *', () => void pass(false), {
        name: 'backcare-nudges',
        noOverlap: true,
      });
    },
    async stop() {
      stopped = true;
      await task?.stop();
      await task?.destroy();
      task = null;
      await running;
      await instance.close();
    },
  };
}
