import { sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Logger } from '../config/logger.js';
import { queryRows, type Db } from '../db/client.js';
import { purgeOldExportFiles } from '../core/export-files.js';

export interface RetentionPolicy {
  /** Activity, nudge history and kept triage outcomes older than this many months are deleted. */
  retentionMonths: number;
  /** Audit rows older than this many months are deleted; 0 keeps them for ever. */
  auditRetentionMonths: number;
  /** Platform event de-duplication keys are only needed for minutes; a week is plenty. */
  processedEventsDays?: number;
  /** Export files left behind (adapters upload them at once) are removed after this long. */
  exportFileHours?: number;
}

export type RetentionReport = Record<string, number>;

/** What goes, oldest first by its own time column. Claimed deliveries are in flight: never touched here. */
const targets = (policy: RetentionPolicy, now: Date) => {
  const cutoff = DateTime.fromJSDate(now, { zone: 'utc' }).minus({ months: policy.retentionMonths }).toJSDate();
  const list = [
    { table: 'activity_events', where: sql`occurred_at < ${cutoff}` },
    { table: 'nudge_deliveries', where: sql`slot_at < ${cutoff} and status <> 'claimed'` },
    { table: 'team_post_deliveries', where: sql`slot_at < ${cutoff} and status <> 'claimed'` },
    { table: 'triage_records', where: sql`recorded_at < ${cutoff}` },
    // Form drafts (an hour) and long button values (a day) carry their own expiry.
    { table: 'form_drafts', where: sql`expires_at < ${now}` },
    { table: 'action_refs', where: sql`expires_at < ${now}` },
    {
      table: 'processed_events',
      where: sql`processed_at < ${new Date(now.getTime() - (policy.processedEventsDays ?? 7) * 86_400_000)}`,
    },
    // A live session nobody has held for a day will never play again (a replica takes one over within seconds, or
    // ends it after a minute); with every replica of its platform gone, this is what removes it and the Discord
    // interaction token it may hold (worthless after 15 minutes, but not ours to keep).
    { table: 'live_sessions', where: sql`lease_until < ${new Date(now.getTime() - 86_400_000)}` },
    // A rate budget idle for a day is a full bucket, the same as no row (channels and workspaces come and go).
    {
      table: 'rate_budgets',
      where: sql`updated_at < ${new Date(now.getTime() - 86_400_000)} and (paused_until is null or paused_until < ${now})`,
    },
  ];
  if (policy.auditRetentionMonths > 0) {
    const auditCutoff = DateTime.fromJSDate(now, { zone: 'utc' })
      .minus({ months: policy.auditRetentionMonths })
      .toJSDate();
    list.push({ table: 'audit_log', where: sql`at < ${auditCutoff}` });
  }
  return list;
};

const CHUNK = 5000;

/**
 * Deletes what is past its retention period, in chunks so no statement holds locks for long. Idempotent:
 * two replicas running it at once only share the work. Tables that do not exist (yet) are skipped.
 */
export async function runRetention(db: Db, policy: RetentionPolicy, now: Date, log?: Logger): Promise<RetentionReport> {
  const existing = new Set(
    (
      await queryRows<{ name: string }>(db, sql`select tablename as name from pg_tables where schemaname = 'public'`)
    ).map((r) => r.name),
  );
  const report: RetentionReport = {};
  for (const { table, where } of targets(policy, now)) {
    if (!existing.has(table)) continue;
    let total = 0;
    for (;;) {
      const rows = await queryRows<{ n: number | string }>(
        db,
        sql`with gone as (
              delete from ${sql.identifier(table)} where ctid in (select ctid from ${sql.identifier(table)} where ${where} limit ${CHUNK})
              returning 1
            ) select count(*)::int as n from gone`,
      );
      const n = Number(rows[0]?.n ?? 0);
      total += n;
      if (n < CHUNK) break;
    }
    report[table] = total;
  }
  log?.info({ event: 'retention.done', ...report }, 'retention job finished');
  return report;
}

/** Removes export files older than the policy allows (they hold personal data). Returns how many went. */
export async function purgeExportFiles(dir: string, now: Date, maxAgeHours = 24): Promise<number> {
  return purgeOldExportFiles(dir, now, maxAgeHours);
}

export interface DailyJob {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `work` shortly after start and then every `intervalMs` (a day). A failed run (database away) is logged
 * and retried at the next interval; the timer never keeps the process alive on its own.
 */
export function startDailyJob(
  name: string,
  work: () => Promise<unknown>,
  options: { log: Logger; intervalMs?: number; firstDelayMs?: number },
): DailyJob {
  const intervalMs = options.intervalMs ?? 24 * 60 * 60 * 1000;
  let running: Promise<void> | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = work()
        .then(() => undefined)
        .catch((error: unknown) =>
          options.log.error({ event: `${name}.failed`, err: error }, `${name} failed; will retry`),
        )
        .finally(() => {
          running = null;
          schedule(intervalMs);
        });
    }, ms);
    timer.unref();
  };
  schedule(options.firstDelayMs ?? 60_000);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
