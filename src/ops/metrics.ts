import pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HandledEvent } from '../core/command.js';
import type { Platform } from '../core/request.js';
import type { Sender } from '../core/sender.js';
import type { WorkQueue } from '../core/work-queue.js';
import type { Database } from '../db/client.js';

/**
 * Every Prometheus metric Backcare exposes, on a registry of its own (not prom-client's global one), so tests
 * and two apps in one process never share counters. Labels are bounded sets (route names, adapters, results,
 * reasons normalised below): never a user, workspace or channel id.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Commands, button presses and form submits handled, by subcommand (route), adapter and outcome. */
  readonly commands: Counter<'subcommand' | 'adapter' | 'outcome'>;
  /** Time from a request reaching the core to its reply being ready. */
  readonly replyLatency: Histogram<'adapter'>;
  /** Nudge deliveries by result (claimed, sent, missed, failed, unavailable, retry) and a short reason code. */
  readonly nudges: Counter<'result' | 'reason'>;
  /** HTTP 429s (or library rate-limit events) seen from a platform. */
  readonly rateLimited: Counter<'platform'>;
  /** Duration of one scheduler tick. */
  readonly schedulerTick: Histogram<string>;
  /** How many deliveries one tick claimed. */
  readonly schedulerBatch: Histogram<string>;
  /** Scheduler ticks that failed, e.g. while the database was unreachable. */
  readonly schedulerErrors: Counter<'reason'>;
  /** Rows removed by the retention job, by table. */
  readonly retentionDeleted: Counter<'table'>;
  /** Records one handled request (the router's `onHandled` hook). */
  observeHandled(event: HandledEvent): void;
  /** Records one scheduler pass (the scheduler's `onTick` hook): duration, batch size, outcomes, failures. */
  observeTick(report: TickCounts, info: { seconds: number; failed: boolean }): void;
  /** Records a nudge outcome; the reason is normalised to a short code so free text cannot explode the label set. */
  recordNudge(result: NudgeResult, reason?: string): void;
  /** Records how long a task waited in the after-ack work queue (the queue's `onStart` hook). */
  observeWorkWait(kind: string, waitedMs: number): void;
  /** Exposes a work queue's waiting tasks by kind and its running count as `backcare_work_queue_depth`. */
  watchWorkQueue(queue: Pick<WorkQueue, 'waiting' | 'running'>): void;
}

/** The counts a scheduler pass reports (structurally the scheduler's TickReport; ops does not import jobs). */
type TickCounts = Record<'claimed' | 'sent' | 'missed' | 'failed' | 'unavailable' | 'reconciled', number>;

/**
 * `claimed`…`reconciled` come from the scheduler's per-tick report (reason `none`); `retry` and `unreachable`
 * (a permanent failure: DMs closed, user gone) come per delivery from the instrumented senders, with their reason.
 */
type NudgeResult = 'claimed' | 'sent' | 'missed' | 'failed' | 'unavailable' | 'retry' | 'unreachable' | 'reconciled';

/** `DMs closed (50007)` → `dms_closed_50007`; anything odd or long → `other`. */
export function reasonCode(reason: string | undefined): string {
  if (!reason) return 'none';
  const code = reason
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return code.length > 0 && code.length <= 40 ? code : 'other';
}

/** Splits a router label (`settings`, `settings:invalid`, `action:forget.confirm`, `unknown`) into subcommand and outcome. */
export function routeLabels(route: string, result: HandledEvent['result']): { subcommand: string; outcome: string } {
  if (route.endsWith(':invalid') && !route.startsWith('action:')) {
    return { subcommand: route.slice(0, -':invalid'.length), outcome: 'invalid_arguments' };
  }
  if (route === 'unknown' || route === 'action:invalid' || route === 'form:unknown')
    return { subcommand: route, outcome: 'unknown' };
  return { subcommand: route, outcome: result };
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** Connection pool figures when the database is a real PostgreSQL pool (PGlite has none). */
export function poolStatsOf(database: Pick<Database, 'db'>): (() => PoolStats) | null {
  const client = (database.db as unknown as { $client?: unknown }).$client;
  if (!(client instanceof pg.Pool)) return null;
  return () => ({
    total: client.totalCount,
    idle: client.idleCount,
    waiting: client.waitingCount,
    max: client.options.max ?? 10,
  });
}

export function createMetrics(
  options: { defaultMetrics?: boolean; poolStats?: (() => PoolStats) | null } = {},
): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'backcare_' });

  const commands = new Counter({
    name: 'backcare_commands_total',
    help: 'Commands, button presses and form submits handled, by subcommand, adapter and outcome',
    labelNames: ['subcommand', 'adapter', 'outcome'] as const,
    registers: [registry],
  });
  const replyLatency = new Histogram({
    name: 'backcare_reply_latency_seconds',
    help: 'Time from a request reaching the core until its reply is ready',
    labelNames: ['adapter'] as const,
    // Slack and Discord both want an answer within 3 s: the buckets are dense below that.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10],
    registers: [registry],
  });
  const nudges = new Counter({
    name: 'backcare_nudges_total',
    help: 'Nudge deliveries by result and reason code',
    labelNames: ['result', 'reason'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'backcare_platform_rate_limited_total',
    help: 'Rate-limit responses (HTTP 429) seen from a platform',
    labelNames: ['platform'] as const,
    registers: [registry],
  });
  const schedulerTick = new Histogram({
    name: 'backcare_scheduler_tick_seconds',
    help: 'Duration of one scheduler tick',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const schedulerBatch = new Histogram({
    name: 'backcare_scheduler_batch_size',
    help: 'Deliveries claimed by one scheduler tick',
    buckets: [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  const schedulerErrors = new Counter({
    name: 'backcare_scheduler_errors_total',
    help: 'Scheduler ticks that failed, by reason (database_unavailable, error)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const retentionDeleted = new Counter({
    name: 'backcare_retention_deleted_rows_total',
    help: 'Rows deleted by the retention job, by table',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  const poolStats = options.poolStats;
  if (poolStats) {
    new Gauge({
      name: 'backcare_db_pool_connections',
      help: 'PostgreSQL pool connections by state (total, idle, waiting clients, max)',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const stats = poolStats();
        for (const [state, value] of Object.entries(stats)) this.set({ state }, value);
      },
    });
  }

  const workQueue = workQueueMetrics(registry);

  return {
    registry,
    commands,
    replyLatency,
    nudges,
    rateLimited,
    schedulerTick,
    schedulerBatch,
    schedulerErrors,
    retentionDeleted,
    observeHandled(event) {
      const { subcommand, outcome } = routeLabels(event.route, event.result);
      commands.inc({ subcommand, adapter: event.platform, outcome });
      replyLatency.observe({ adapter: event.platform }, event.seconds);
    },
    observeTick(report, info) {
      schedulerTick.observe(info.seconds);
      schedulerBatch.observe(report.claimed);
      for (const result of ['claimed', 'sent', 'missed', 'failed', 'unavailable', 'reconciled'] as const) {
        if (report[result] > 0) nudges.inc({ result, reason: 'none' }, report[result]);
      }
      if (info.failed) schedulerErrors.inc({ reason: 'tick_failed' });
    },
    recordNudge(result, reason) {
      nudges.inc({ result, reason: reasonCode(reason) });
    },
    ...workQueue,
  };
}

/** Depth and wait time of the after-ack work queue: when acks slow down under a burst, this shows whether work piled up. */
function workQueueMetrics(registry: Registry): Pick<Metrics, 'observeWorkWait' | 'watchWorkQueue'> {
  const wait = new Histogram({
    name: 'backcare_work_queue_wait_seconds',
    help: 'Time a task waited for a slot in the after-ack work queue, by kind',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const queues: Pick<WorkQueue, 'waiting' | 'running'>[] = [];
  new Gauge({
    name: 'backcare_work_queue_depth',
    help: 'Tasks in the after-ack work queue: waiting (by kind) and running (kind "running")',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const totals = new Map<string, number>([['running', 0]]);
      for (const queue of queues) {
        totals.set('running', totals.get('running')! + queue.running);
        for (const [kind, count] of queue.waiting()) totals.set(kind, (totals.get(kind) ?? 0) + count);
      }
      for (const [kind, count] of totals) this.set({ kind }, count);
    },
  });
  return {
    observeWorkWait: (kind, waitedMs) => wait.observe({ kind }, waitedMs / 1000),
    watchWorkQueue: (queue) => void queues.push(queue),
  };
}

const rateLimitReason = /rate.?limit|\b429\b/i;

/**
 * Wraps a platform's Sender so every send result is counted: transient failures by reason (a rate limit also
 * counts as a platform 429) and permanent ones by reason. The scheduler sees the same Sender behaviour.
 */
export function instrumentSender(sender: Sender, metrics: Pick<Metrics, 'recordNudge' | 'rateLimited'>): Sender {
  const instrumented: Sender = {
    platform: sender.platform,
    ...(sender.channelPostRate ? { channelPostRate: sender.channelPostRate } : {}),
    async send(delivery) {
      const result = await sender.send(delivery);
      if (result.status === 'retry') {
        metrics.recordNudge('retry', result.reason);
        if (rateLimitReason.test(result.reason)) metrics.rateLimited.inc({ platform: sender.platform });
      } else if (result.status === 'permanent') {
        metrics.recordNudge('unreachable', result.reason);
      }
      return result;
    },
    reconcile: (delivery) => sender.reconcile(delivery),
  };
  // Optional on purpose: the scheduler only asks for availability when the platform offers the check.
  if (sender.isAvailable) {
    const isAvailable = sender.isAvailable.bind(sender);
    instrumented.isAvailable = (delivery) => isAvailable(delivery);
  }
  return instrumented;
}

export function instrumentSenders(
  senders: Partial<Record<Platform, Sender>>,
  metrics: Pick<Metrics, 'recordNudge' | 'rateLimited'>,
): Partial<Record<Platform, Sender>> {
  const out: Partial<Record<Platform, Sender>> = {};
  for (const [platform, sender] of Object.entries(senders) as [Platform, Sender | undefined][])
    if (sender) out[platform] = instrumentSender(sender, metrics);
  return out;
}
