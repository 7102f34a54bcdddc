import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recordActivity } from '../../src/db/activity.js';
import { queryRows, type Db } from '../../src/db/client.js';
import {
  auditLog,
  liveSessions,
  nudgeDeliveries,
  processedEvents,
  rateBudgets,
  triageRecords,
} from '../../src/db/schema.js';
import { ensureUser, ensureWorkspace } from '../../src/db/users.js';
import { purgeExportFiles, runRetention, startDailyJob } from '../../src/ops/retention.js';
import { describeEachDatabase } from '../support/db.js';
import { captureLogger } from '../support/log.js';

const NOW = new Date('2026-06-15T03:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

async function seed(db: Db) {
  const workspace = await ensureWorkspace(db, { platform: 'console', externalId: 'local' });
  const user = await ensureUser(db, workspace.id, 'you');
  const who = { userId: user.id, workspaceId: workspace.id };
  // 13 months before 2026-06-15 is 2025-05-15.
  await recordActivity(
    db,
    who,
    { kind: 'session', outcome: 'completed', source: 'breathe', routineId: 'old' },
    new Date('2025-05-14T12:00:00Z'),
  );
  await recordActivity(
    db,
    who,
    { kind: 'session', outcome: 'completed', source: 'breathe', routineId: 'kept' },
    new Date('2025-05-16T12:00:00Z'),
  );
  await recordActivity(db, who, { kind: 'nudge', outcome: 'done', source: 'nudge', routineId: 'recent' }, daysAgo(1));
  await db.insert(nudgeDeliveries).values([
    { userId: user.id, slotAt: new Date('2025-01-01T09:00:00Z'), status: 'sent', routineId: 'old' },
    // An ancient claim is in flight by definition (reconciliation owns it): retention never touches it.
    { userId: user.id, slotAt: new Date('2025-01-01T10:00:00Z'), status: 'claimed', routineId: 'claimed' },
    { userId: user.id, slotAt: daysAgo(2), status: 'sent', routineId: 'recent' },
  ]);
  await db.insert(triageRecords).values([
    { userId: user.id, outcome: 'old', recordedAt: new Date('2024-12-01T00:00:00Z') },
    { userId: user.id, outcome: 'recent', recordedAt: daysAgo(3) },
  ]);
  await db.insert(auditLog).values([
    { workspaceId: workspace.id, actor: 'a', action: 'very.old', at: new Date('2023-01-01T00:00:00Z') },
    { workspaceId: workspace.id, actor: 'a', action: 'old', at: new Date('2025-01-01T00:00:00Z') },
    { workspaceId: workspace.id, actor: 'a', action: 'recent', at: daysAgo(1) },
  ]);
  await db.insert(processedEvents).values([
    { key: 'old', processedAt: daysAgo(8) },
    { key: 'recent', processedAt: daysAgo(1) },
  ]);
  const session = (id: string, leaseUntil: Date) => ({
    sessionId: id,
    platform: 'discord',
    sequence: {},
    state: {},
    leaseUntil,
  });
  await db
    .insert(liveSessions)
    .values([session('orphaned', daysAgo(2)), session('playing', new Date(NOW.getTime() + 5000))]);
  await db.insert(rateBudgets).values([
    { key: 'idle', tokens: 3, updatedAt: daysAgo(2) },
    { key: 'still-paused', tokens: 3, updatedAt: daysAgo(2), pausedUntil: new Date(NOW.getTime() + 60_000) },
    { key: 'recent', tokens: 3, updatedAt: new Date(NOW.getTime() - 60_000) },
  ]);
}

const ids = async (db: Db, query: ReturnType<typeof sql>) =>
  (await queryRows<{ v: string }>(db, query)).map((r) => r.v).sort();

describeEachDatabase('retention job', (database) => {
  it('deletes activity, nudge history and triage outcomes older than RETENTION_MONTHS, and keeps the rest', async () => {
    const db = database().db;
    await seed(db);
    const { log, lines } = captureLogger('info');
    const report = await runRetention(db, { retentionMonths: 13, auditRetentionMonths: 0 }, NOW, log);
    expect(report).toMatchObject({ activity_events: 1, nudge_deliveries: 1, triage_records: 1, processed_events: 1 });
    expect(report.audit_log).toBeUndefined();
    expect(await ids(db, sql`select routine_id as v from activity_events`)).toEqual(['kept', 'recent']);
    expect(await ids(db, sql`select routine_id as v from nudge_deliveries`)).toEqual(['claimed', 'recent']);
    expect(await ids(db, sql`select outcome as v from triage_records`)).toEqual(['recent']);
    expect(await ids(db, sql`select key as v from processed_events`)).toEqual(['recent']);
    // An idle rate budget is a full bucket: its row goes, unless a pause still holds.
    expect(await ids(db, sql`select key as v from rate_budgets`)).toEqual(['recent', 'still-paused']);
    // A live session nobody took over for a day (its platform's replicas all gone) goes; one being played stays.
    expect(await ids(db, sql`select session_id as v from live_sessions`)).toEqual(['playing']);
    // AUDIT_RETENTION_MONTHS=0: the audit trail is kept for ever.
    expect(await ids(db, sql`select action as v from audit_log`)).toEqual(['old', 'recent', 'very.old']);
    expect(lines().find((l) => l.event === 'retention.done')).toMatchObject({ activity_events: 1 });
  });

  it('keeps audit rows for their own period, and a shorter activity period deletes more', async () => {
    const db = database().db;
    await seed(db);
    const report = await runRetention(db, { retentionMonths: 1, auditRetentionMonths: 24 }, NOW);
    expect(report).toMatchObject({ activity_events: 2, audit_log: 1 });
    expect(await ids(db, sql`select action as v from audit_log`)).toEqual(['old', 'recent']);
    expect(await ids(db, sql`select routine_id as v from activity_events`)).toEqual(['recent']);
  });

  it('is idempotent: a second run (or a second replica) finds nothing more', async () => {
    const db = database().db;
    await seed(db);
    await runRetention(db, { retentionMonths: 13, auditRetentionMonths: 24 }, NOW);
    const again = await runRetention(db, { retentionMonths: 13, auditRetentionMonths: 24 }, NOW);
    expect(Object.values(again).every((n) => n === 0)).toBe(true);
  });

  it('deletes in chunks until everything old is gone', async () => {
    const db = database().db;
    const workspace = await ensureWorkspace(db, { platform: 'console', externalId: 'local' });
    const user = await ensureUser(db, workspace.id, 'you');
    await db.execute(sql`insert into activity_events (user_id, workspace_id, kind, outcome, source, occurred_at)
      select ${user.id}, ${workspace.id}, 'session', 'completed', 'breathe', ${new Date('2024-01-01T00:00:00Z')}::timestamptz from generate_series(1, 12001)`);
    expect(await runRetention(db, { retentionMonths: 13, auditRetentionMonths: 0 }, NOW)).toMatchObject({
      activity_events: 12001,
    });
  });
});

describe('export files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'backcare-exports-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes export files older than a day and keeps fresh ones', async () => {
    writeFileSync(path.join(dir, 'old.json'), '{}');
    writeFileSync(path.join(dir, 'fresh.json'), '{}');
    writeFileSync(path.join(dir, 'notes.txt'), 'not an export');
    const old = new Date(NOW.getTime() - 25 * 3_600_000);
    utimesSync(path.join(dir, 'old.json'), old, old);
    utimesSync(path.join(dir, 'fresh.json'), NOW, NOW);
    utimesSync(path.join(dir, 'notes.txt'), old, old);
    expect(await purgeExportFiles(dir, NOW)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['fresh.json', 'notes.txt']);
  });

  it('a missing directory is nothing to do', async () => {
    expect(await purgeExportFiles(path.join(dir, 'absent'), NOW)).toBe(0);
  });
});

describe('daily job timer', () => {
  afterEach(() => vi.useRealTimers());

  it('runs after the first delay and then once a day, survives a failed run, and stops', async () => {
    vi.useFakeTimers();
    const { log, lines } = captureLogger('info');
    let runs = 0;
    const job = startDailyJob(
      'retention',
      async () => {
        runs += 1;
        if (runs === 2) throw new Error('database unavailable');
      },
      { log, firstDelayMs: 60_000, intervalMs: 86_400_000 },
    );
    await vi.advanceTimersByTimeAsync(59_999);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect(runs).toBe(2);
    expect(lines().some((l) => l.event === 'retention.failed')).toBe(true);
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect(runs).toBe(3);
    await job.stop();
    await vi.advanceTimersByTimeAsync(3 * 86_400_000);
    expect(runs).toBe(3);
  });
});
