import cron from 'node-cron';
import type { Logger } from '../config/logger.js';
import type { Db } from '../db/client.js';
import type { NudgeRoutineSource } from '../core/nudge-message.js';
import type { RateBudgets } from '../core/rate-budget.js';
import type { Platform } from '../core/request.js';
import type { Sender } from '../core/sender.js';
import type { WorkspaceRoutineSources } from '../core/content/workspace-routines.js';
import { claimDueBatch } from './claim-people.js';
import { claimDueTeamPosts } from './claim-channels.js';
import { createDeliveryPipeline, emptyReport, type DeliveryPipeline, type TickReport } from './delivery-pipeline.js';
import type { SchedulerInstance } from './instance.js';
import { reconcileOrphans } from './reconcile.js';
import { createRoutinePicker, TEAM_POST_KINDS, type RoutinePicker } from './routine-picker.js';
import { nextSlot } from './slots.js';

export interface SchedulerOptions {
  db: Db;
  log: Logger;
  senders: Partial<Record<Platform, Sender>>;
  instance: SchedulerInstance;
  routines?: NudgeRoutineSource;
  /** A team's own routines on top of `routines`, per workspace; refreshed at the start of every pass. */
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
  /** Per-channel post rates: in this process by default; the app passes budgets shared in PostgreSQL. */
  budgets?: RateBudgets | undefined;
  cronExpression?: string;
  /** Called after every pass (metrics: tick duration, batch size, outcomes); must not throw. */
  onTick?: (report: TickReport, info: { seconds: number; failed: boolean }) => void;
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

/** What the claiming loops share: the pipeline, the pool, and whether the scheduler is stopping. */
interface ClaimContext {
  db: Db;
  log: Logger;
  instance: SchedulerInstance;
  served: Platform[];
  picker: RoutinePicker;
  pipeline: DeliveryPipeline;
  now: () => Date;
  batchSize: number;
  concurrency: number;
  stopped: () => boolean;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { db, log, instance } = options;
  const now = options.now ?? (() => new Date());
  // A stop must not wait out a Retry-After (up to a minute) past the deploy's grace: stop() ends every sleep at once,
  // and the pipeline then hands the waiting deliveries back for the next pass instead of trying them again.
  const sleeping = new Set<() => void>();
  const sleep =
    options.sleep ??
    ((ms: number) =>
      new Promise<void>((resolve) => {
        if (stopped) return resolve();
        const wake = () => {
          clearTimeout(timer);
          sleeping.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        sleeping.add(wake);
      }));
  const picker = createRoutinePicker(options.routines, options.workspaceRoutines);
  const pipeline = createDeliveryPipeline({
    db,
    log,
    senders: options.senders,
    picker,
    now,
    sleep,
    maxAttempts: options.maxAttempts ?? 12,
    budgets: options.budgets,
    stopping: () => stopped,
  });
  let stopped = false;
  const context: ClaimContext = {
    db,
    log,
    instance,
    served: Object.keys(options.senders) as Platform[],
    picker,
    pipeline,
    now,
    batchSize: options.batchSize ?? 100,
    concurrency: options.concurrency ?? 8,
    stopped: () => stopped,
  };
  const runPool = <T>(items: T[], work: (item: T) => Promise<void>) => pool(items, context.concurrency, work);

  let running: Promise<TickReport> | null = null;
  let task: ReturnType<typeof cron.schedule> | null = null;

  async function passBody(report: TickReport, reconcileOnly: boolean): Promise<void> {
    // A team's routines added or removed since the last pass; on failure the previous ones (or the built-ins) serve.
    await options.workspaceRoutines
      ?.refresh()
      .catch((error: unknown) =>
        log.warn({ event: 'scheduler.team_routines_failed', err: error }, 'team routines not refreshed'),
      );
    await reconcileOrphans({ db, instance, served: context.served, pipeline, now, runPool }, report);
    if (!reconcileOnly && !stopped) {
      await claimAndSendNudges(context, report);
      await claimAndSendTeamPosts(context, report, runPool);
    }
  }

  function pass(reconcileOnly: boolean): Promise<TickReport> {
    running ??= (async () => {
      const report = emptyReport();
      const started = performance.now();
      let failed = false;
      try {
        await passBody(report, reconcileOnly);
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
      for (const wake of [...sleeping]) wake();
      await task?.stop();
      await task?.destroy();
      task = null;
      await running;
      await instance.close();
    },
  };
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Teams' channel posts: claimed in small batches and sent through the same pipeline as nudges. */
async function claimAndSendTeamPosts(
  ctx: ClaimContext,
  report: TickReport,
  runPool: <T>(items: T[], work: (item: T) => Promise<void>) => Promise<void>,
): Promise<void> {
  if (ctx.served.length === 0) return;
  // Bounded: a few hundred teams per tick at most; the next tick carries on.
  for (let i = 0; i < 20 && !ctx.stopped(); i++) {
    const batch = await claimDueTeamPosts(ctx.db, {
      now: ctx.now(),
      holder: ctx.instance.id,
      platforms: ctx.served,
      limit: 25,
      pickRoutine: (recent, workspaceId) => ctx.picker.pick(TEAM_POST_KINDS, recent, workspaceId).id,
    });
    report.missed += batch.missed;
    await runPool(batch.claimed, (post) => ctx.pipeline.deliver(post, report));
    await ctx.pipeline.flush();
    if (batch.claimed.length + batch.missed < 25) return;
  }
}

/**
 * Claims nudges in small batches and sends through `concurrency` workers. The next batch is claimed while the
 * current one is still sending (at most about 1.5 batches held), so the platform's rate, not the claiming, sets
 * the pace; claims are never taken far ahead of what can be sent within the slot.
 */
async function claimAndSendNudges(ctx: ClaimContext, report: TickReport): Promise<void> {
  if (ctx.served.length === 0) return;
  const { batchSize, log, instance } = ctx;
  const queue: Awaited<ReturnType<typeof claimDueBatch>>['claimed'] = [];
  let exhausted = false;
  let batches = 0;
  let claiming: Promise<void> | null = null;

  const claimMore = async () => {
    // Bounded: at most 10,000 batches per tick; the next tick carries on.
    if (batches >= 10_000 || ctx.stopped() || !(await instance.isAlive(instance.id))) {
      if (!ctx.stopped() && batches < 10_000)
        log.error({ event: 'scheduler.lost_lock' }, 'scheduler lost its liveness lock; not claiming');
      exhausted = true;
      return;
    }
    batches += 1;
    const batch = await claimDueBatch(ctx.db, {
      now: ctx.now(),
      holder: instance.id,
      platforms: ctx.served,
      batchSize,
      nextSlot,
      pickRoutine: (prefs, recent, workspaceId) => ctx.picker.pick(prefs.kinds, recent, workspaceId).id,
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
    ctx.pipeline.checkAvailability(batch.claimed);
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
        await ctx.pipeline.deliver(next, report);
        continue;
      }
      void ctx.pipeline.flush();
      if (claiming) {
        await claiming;
        continue;
      }
      if (exhausted) return;
    }
  };
  await Promise.all(Array.from({ length: ctx.concurrency }, worker));
  await ctx.pipeline.flush();
}
