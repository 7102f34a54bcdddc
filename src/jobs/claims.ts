import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Queryable } from '../db/client.js';
import { queryRows } from '../db/client.js';
import { preferencesFromRow, StoredDataError } from '../db/preferences.js';
import type { Preferences } from '../core/preferences.js';
import type { Platform } from '../core/request.js';
import { platforms } from '../core/request.js';
import { DEFAULT_MAX_PER_DAY } from '../core/preferences.js';
import { SEND_WINDOW_MS } from '../core/sender.js';
import { localDayBounds } from './slots.js';

/** A slot found later than this (the bot was down) is recorded as missed, not sent. */
export const LATE_LIMIT_MS = SEND_WINDOW_MS;

/** Everything needed to send one claimed delivery, read in the claiming transaction. */
export interface ClaimedDelivery {
  deliveryId: number;
  slotAt: Date;
  userId: number;
  workspaceId: number;
  platform: Platform;
  workspaceExternalId: string;
  platformUserId: string;
  dmChannelId: string | null;
  prefs: Preferences;
  routineId: string | null;
  /** Issue 11: this nudge also asks "send fewer or pause for the week?" after a run of skips. */
  question?: boolean;
}

/** Issue 11: after this many skipped nudges in a row Backcare asks, once, whether to send fewer. */
export const SKIP_STREAK_QUESTION = 3;

/** Statuses of deliveries that put a message in front of the person: these count towards the daily cap. */
const NOT_DELIVERED = ['missed', 'unavailable', 'failed'] as const;

export interface ClaimBatch {
  claimed: ClaimedDelivery[];
  missed: { userId: number; workspaceId: number; slotAt: Date }[];
  /** Earlier nudges nobody answered before this slot came round. */
  ignored: { userId: number; workspaceId: number; routineId: string | null }[];
  /** Users whose stored preferences no longer validate: their schedule is stopped, not crashed on. */
  invalid: { userId: number; error: string }[];
  /** Issue 11: slots not sent because the person already had their daily maximum; next_due_at moves to the next day. */
  capped: { userId: number; slotAt: Date }[];
  /** Rows locked in this batch (claimed, missed or skipped): 0 means nothing more is due. */
  locked: number;
}

const num = z.coerce.number().int();
const date = z.coerce.date();

const dueRowSchema = z.object({
  user_id: num,
  next_due_at: date.nullable(),
  workspace_id: num,
  platform: z.enum(platforms),
  workspace_external_id: z.string(),
  platform_user_id: z.string(),
  dm_channel_id: z.string().nullable(),
  opted_in: z.boolean(),
  timezone: z.string(),
  days: z.unknown(),
  start_time: z.string(),
  end_time: z.string(),
  every_minutes: num,
  kinds: z.unknown(),
  snoozed_until: date.nullable(),
  delivery: z.string(),
  channel_id: z.string().nullable(),
  paused_reason: z.string().nullable(),
  updated_at: date,
  weekly_hours: z.unknown(),
  days_off: z.unknown(),
  max_per_day: num.nullable(),
});
type DueRow = z.infer<typeof dueRowSchema>;

/**
 * Validated preference sets by content. Validation is a pure function of the stored values, and a tick
 * sees the same few combinations (zone, hours, kinds) over and over; the map is emptied when it grows large.
 */
const validated = new Map<string, Preferences>();
const VALIDATED_MAX = 20_000;

function prefsOf(row: DueRow): Preferences {
  const key = JSON.stringify([
    row.opted_in,
    row.timezone,
    row.days,
    row.start_time,
    row.end_time,
    row.every_minutes,
    row.kinds,
    row.snoozed_until,
    row.delivery,
    row.channel_id,
    row.paused_reason,
    row.weekly_hours,
    row.days_off,
    row.max_per_day,
  ]);
  const known = validated.get(key);
  if (known) return known;
  const prefs = validatePrefs(row);
  if (validated.size >= VALIDATED_MAX) validated.clear();
  validated.set(key, prefs);
  return prefs;
}

function validatePrefs(row: DueRow): Preferences {
  return preferencesFromRow({
    userId: row.user_id,
    optedIn: row.opted_in,
    timezone: row.timezone,
    days: row.days as string[],
    startTime: row.start_time,
    endTime: row.end_time,
    everyMinutes: row.every_minutes,
    kinds: row.kinds as string[],
    snoozedUntil: row.snoozed_until,
    delivery: row.delivery,
    channelId: row.channel_id,
    nextDueAt: row.next_due_at,
    pausedReason: row.paused_reason,
    updatedAt: row.updated_at,
    weeklyHours: (row.weekly_hours ?? null) as Record<string, unknown> | null,
    daysOff: (row.days_off ?? null) as unknown[] | null,
    maxPerDay: row.max_per_day,
  });
}

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
const inList = (values: readonly string[]) =>
  sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );

export interface ClaimOptions {
  now: Date;
  holder: number;
  platforms: readonly Platform[];
  batchSize: number;
  nextSlot: (prefs: Preferences, after: Date) => Date | null;
  /** The routine for this person's nudge, given their latest routine ids (newest first). */
  pickRoutine: (prefs: Preferences, recentIds: readonly string[], workspaceId: number) => string;
}

/**
 * One claiming transaction: lock up to `batchSize` due users (SKIP LOCKED, so replicas share the work),
 * insert one delivery row per user and slot, and advance each user's next_due_at, all or nothing. A crash
 * after the commit leaves rows `claimed`, which reconciliation resolves; a crash before leaves nothing.
 * Cost follows the number due: the partial index on next_due_at finds them without touching anyone else.
 */
export async function claimDueBatch(db: Db, options: ClaimOptions): Promise<ClaimBatch> {
  const { now, holder } = options;
  return db.transaction(async (tx) => {
    const raw = await queryRows<unknown>(
      tx,
      sql`select p.user_id, p.next_due_at, u.workspace_id, w.platform, w.external_id as workspace_external_id,
                 u.platform_user_id, u.dm_channel_id, p.opted_in, p.timezone, p.days, p.start_time, p.end_time,
                 p.every_minutes, p.kinds, p.snoozed_until, p.delivery, p.channel_id, p.paused_reason, p.updated_at,
                 p.weekly_hours, p.days_off, p.max_per_day
            from preferences p
            join users u on u.id = p.user_id
            join workspaces w on w.id = u.workspace_id
           where p.next_due_at is not null and p.next_due_at <= ${now}
             and p.opted_in and p.paused_reason is null and w.active
             and w.platform in (${inList(options.platforms)})
           order by p.next_due_at
           limit ${options.batchSize}
           for update of p skip locked`,
    );
    const batch: ClaimBatch = { claimed: [], missed: [], ignored: [], invalid: [], capped: [], locked: raw.length };
    if (raw.length === 0) return batch;
    const parsedRows = raw.map((item) => dueRowSchema.parse(item));
    const deliveredToday = await deliveredOnSlotDays(tx, parsedRows);

    const inserts: { user_id: number; slot_at: string; status: 'claimed' | 'missed'; routine_id?: string | null }[] =
      [];
    const advances: { user_id: number; next_due_at: string | null }[] = [];
    const rows = new Map<number, { row: DueRow; prefs: Preferences }>();
    for (const row of parsedRows) {
      let prefs: Preferences;
      try {
        prefs = prefsOf(row);
      } catch (error) {
        if (!(error instanceof StoredDataError)) throw error;
        batch.invalid.push({ userId: row.user_id, error: error.message });
        advances.push({ user_id: row.user_id, next_due_at: null });
        continue;
      }
      const slotAt = row.next_due_at!; // the where clause selected non-null ones
      const late = now.getTime() - slotAt.getTime() > LATE_LIMIT_MS;
      const today = deliveredToday.get(row.user_id);
      if (!late && today && today.count >= (prefs.maxPerDay ?? DEFAULT_MAX_PER_DAY)) {
        // Daily cap reached (issue 11): this slot and the rest of the day's are skipped, not sent.
        batch.capped.push({ userId: row.user_id, slotAt });
        advances.push({
          user_id: row.user_id,
          next_due_at: options.nextSlot(prefs, new Date(today.dayEnd - 1))?.toISOString() ?? null,
        });
        continue;
      }
      inserts.push({ user_id: row.user_id, slot_at: slotAt.toISOString(), status: late ? 'missed' : 'claimed' });
      // After an outage, jump past every stale slot at once: one "missed" row, not a burst of them.
      const from = late ? new Date(now.getTime() - LATE_LIMIT_MS) : slotAt;
      advances.push({ user_id: row.user_id, next_due_at: options.nextSlot(prefs, from)?.toISOString() ?? null });
      rows.set(row.user_id, { row, prefs });
    }

    if (inserts.length > 0) {
      // The routine is chosen here, in the claim, so a resend after a crash shows the same one; one query for the batch.
      const recent = await recentRoutinesFor(
        tx,
        inserts.map((i) => i.user_id),
      );
      for (const insert of inserts) {
        const found = rows.get(insert.user_id)!;
        insert.routine_id =
          insert.status === 'claimed'
            ? options.pickRoutine(found.prefs, recent.get(insert.user_id) ?? [], found.row.workspace_id)
            : null;
      }
      const ignored = await queryRows<{ user_id: unknown; routine_id: string | null }>(
        tx,
        sql`update nudge_deliveries d set status = 'ignored'
              from jsonb_to_recordset(${json(inserts)}) as r(user_id bigint, slot_at timestamptz)
             where d.user_id = r.user_id and d.status = 'sent' and d.slot_at < r.slot_at
         returning d.user_id, d.routine_id`,
      );
      for (const i of ignored) {
        const found = rows.get(num.parse(i.user_id));
        if (found)
          batch.ignored.push({
            userId: found.row.user_id,
            workspaceId: found.row.workspace_id,
            routineId: i.routine_id,
          });
      }

      const inserted = await queryRows<{
        id: unknown;
        user_id: unknown;
        slot_at: unknown;
        status: string;
        routine_id: string | null;
      }>(
        tx,
        sql`insert into nudge_deliveries (user_id, slot_at, status, routine_id, claimed_at, claimed_by, attempts)
            select r.user_id, r.slot_at, r.status, r.routine_id, ${now}, ${holder}, 0
              from jsonb_to_recordset(${json(inserts)}) as r(user_id bigint, slot_at timestamptz, status text, routine_id text)
            on conflict (user_id, slot_at) do nothing
            returning id, user_id, slot_at, status, routine_id`,
      );
      const asking = await askSkipQuestion(
        tx,
        inserted
          .filter((i) => i.status === 'claimed')
          .map((i) => ({ deliveryId: num.parse(i.id), userId: num.parse(i.user_id), slotAt: date.parse(i.slot_at) })),
      );
      for (const ins of inserted) {
        const found = rows.get(num.parse(ins.user_id));
        if (!found) continue;
        const { row, prefs } = found;
        const slotAt = date.parse(ins.slot_at);
        if (ins.status === 'missed') {
          batch.missed.push({ userId: row.user_id, workspaceId: row.workspace_id, slotAt });
          continue;
        }
        batch.claimed.push({
          deliveryId: num.parse(ins.id),
          slotAt,
          userId: row.user_id,
          workspaceId: row.workspace_id,
          platform: row.platform,
          workspaceExternalId: row.workspace_external_id,
          platformUserId: row.platform_user_id,
          dmChannelId: row.dm_channel_id,
          prefs,
          routineId: ins.routine_id,
          question: asking.has(num.parse(ins.id)),
        });
      }
    }

    await tx.execute(
      sql`update preferences p set next_due_at = r.next_due_at
            from jsonb_to_recordset(${json(advances)}) as r(user_id bigint, next_due_at timestamptz)
           where p.user_id = r.user_id`,
    );
    await recordNudgeActivity(
      tx,
      [
        ...batch.missed.map((m) => ({
          user_id: m.userId,
          workspace_id: m.workspaceId,
          outcome: 'missed',
          routine_id: null,
        })),
        ...batch.ignored.map((i) => ({
          user_id: i.userId,
          workspace_id: i.workspaceId,
          outcome: 'ignored',
          routine_id: i.routineId,
        })),
      ],
      now,
    );
    return batch;
  });
}

/** Nudge activity for many people in one statement (the single-row form is `recordActivity`). */
export async function recordNudgeActivity(
  db: Queryable,
  events: {
    user_id: number;
    workspace_id: number;
    outcome: string;
    routine_id: string | null;
    duration_seconds?: number | null;
  }[],
  at: Date,
): Promise<void> {
  if (events.length === 0) return;
  await db.execute(
    sql`insert into activity_events (user_id, workspace_id, kind, outcome, source, routine_id, duration_seconds, occurred_at)
        select r.user_id, r.workspace_id, 'nudge', r.outcome, 'nudge', r.routine_id, r.duration_seconds, ${at}
          from jsonb_to_recordset(${json(events)}) as r(user_id bigint, workspace_id bigint, outcome text, routine_id text, duration_seconds int)`,
  );
}

/**
 * Confirms a send. A person may already have pressed a button on the message (status done, skipped…)
 * before this runs: then only the message reference is added.
 */
export interface Confirmation {
  deliveryId: number;
  workspaceId: number;
  messageRef: string;
  attempts: number;
  at: Date;
}

/**
 * Confirms sends, many per statement, with their "delivered" activity rows. A person may already have pressed
 * a button on the message (status done, skipped…) before this runs: then only the message reference is added.
 * Only the first confirmation of a delivery records activity.
 */
export async function confirmSent(db: Queryable, confirmations: readonly Confirmation[]): Promise<void> {
  if (confirmations.length === 0) return;
  const rows = confirmations.map((c) => ({
    id: c.deliveryId,
    workspace_id: c.workspaceId,
    message_ref: c.messageRef,
    attempts: c.attempts,
    sent_at: c.at.toISOString(),
  }));
  await db.execute(
    sql`with confirmed as (
          update nudge_deliveries d
             set status = case when d.status = 'claimed' then 'sent' else d.status end,
                 message_ref = r.message_ref, sent_at = r.sent_at, attempts = r.attempts, last_error = null
            from jsonb_to_recordset(${json(rows)}) as r(id bigint, workspace_id bigint, message_ref text, attempts int, sent_at timestamptz)
           where d.id = r.id and d.sent_at is null
       returning d.user_id, r.workspace_id, d.routine_id, r.sent_at)
        insert into activity_events (user_id, workspace_id, kind, outcome, source, routine_id, occurred_at)
        select c.user_id, c.workspace_id, 'nudge', 'delivered', 'nudge', c.routine_id, c.sent_at from confirmed c`,
  );
}

/** The latest routine ids of each of these people, newest first (at most five each). */
export async function recentRoutinesFor(db: Queryable, userIds: readonly number[]): Promise<Map<number, string[]>> {
  const result = new Map<number, string[]>();
  if (userIds.length === 0) return result;
  const rows = await queryRows<{ user_id: unknown; routine_id: string }>(
    db,
    sql`select r.id as user_id, d.routine_id
          from jsonb_to_recordset(${json(userIds.map((id) => ({ id })))}) as r(id bigint)
          cross join lateral (
            select routine_id, slot_at from nudge_deliveries
             where user_id = r.id and routine_id is not null order by slot_at desc limit 5) d
         order by r.id, d.slot_at desc`,
  );
  for (const row of rows) {
    const id = num.parse(row.user_id);
    const list = result.get(id) ?? [];
    list.push(row.routine_id);
    result.set(id, list);
  }
  return result;
}

export async function setRoutine(db: Queryable, deliveryId: number, routineId: string): Promise<void> {
  await db.execute(sql`update nudge_deliveries set routine_id = ${routineId} where id = ${deliveryId}`);
}

/** Ends a claimed delivery without a message (failed, unavailable, missed). */
export async function closeDelivery(
  db: Queryable,
  deliveryId: number,
  status: 'failed' | 'unavailable' | 'missed',
  attempts: number,
  error: string | null,
): Promise<void> {
  // A skip-streak question riding on a nudge that never reached the person was not asked: forget it, so the
  // next nudge asks instead (issue 11).
  await db.execute(
    sql`with closed as (
          update nudge_deliveries set status = ${status}, attempts = ${attempts}, last_error = ${error}
           where id = ${deliveryId} and status = 'claimed'
       returning id)
        delete from nudge_questions q using closed where q.delivery_id = closed.id`,
  );
}

/** The person cannot be reached: stop their nudges and say why (shown in `/backcare me` and settings). */
export async function pauseUser(db: Queryable, userId: number, reason: string, at: Date): Promise<void> {
  await db.execute(
    sql`update preferences set paused_reason = ${reason.slice(0, 200)}, next_due_at = null, updated_at = ${at} where user_id = ${userId}`,
  );
}

export async function rememberDmChannel(db: Queryable, userId: number, dmChannelId: string): Promise<void> {
  await db.execute(
    sql`update users set dm_channel_id = ${dmChannelId} where id = ${userId} and dm_channel_id is distinct from ${dmChannelId}`,
  );
}

/** The routines of the person's latest nudges, most recent first (the library avoids repeating them). */
export async function recentRoutineIds(db: Queryable, userId: number, limit = 5): Promise<string[]> {
  const rows = await queryRows<{ routine_id: string }>(
    db,
    sql`select routine_id from nudge_deliveries where user_id = ${userId} and routine_id is not null order by slot_at desc limit ${limit}`,
  );
  return rows.map((r) => r.routine_id);
}

/** Deliveries still `claimed` (unconfirmed), oldest first, skipping ids already looked at: candidates for reconciliation. */
export async function openClaims(
  db: Queryable,
  afterId: number,
  limit: number,
): Promise<{ deliveryId: number; claimedBy: number | null }[]> {
  const rows = await queryRows<{ id: unknown; claimed_by: unknown }>(
    db,
    sql`select id, claimed_by from nudge_deliveries
         where status = 'claimed' and id > ${afterId}
         order by id limit ${limit}`,
  );
  return rows.map((r) => ({
    deliveryId: num.parse(r.id),
    claimedBy: r.claimed_by === null ? null : num.parse(r.claimed_by),
  }));
}

/**
 * Takes over an orphaned claim, compare-and-set on the previous holder: of two replicas reconciling
 * the same orphan, one wins. Returns the delivery to reconcile, or null if someone else took it.
 */
export async function takeOver(
  db: Queryable,
  deliveryId: number,
  previousHolder: number | null,
  holder: number,
  platformsServed: readonly Platform[],
): Promise<ClaimedDelivery | null> {
  const rows = await queryRows<unknown>(
    db,
    sql`with taken as (
          update nudge_deliveries set claimed_by = ${holder}
           where id = ${deliveryId} and status = 'claimed' and claimed_by is not distinct from ${previousHolder}
             and user_id in (select u.id from users u join workspaces w on w.id = u.workspace_id
                              where w.platform in (${inList(platformsServed)}))
          returning id, user_id, slot_at, routine_id)
        select t.id, t.slot_at, t.routine_id, exists(select 1 from nudge_questions q where q.delivery_id = t.id) as question, p.user_id, p.next_due_at, u.workspace_id, w.platform,
               w.external_id as workspace_external_id, u.platform_user_id, u.dm_channel_id, p.opted_in, p.timezone,
               p.days, p.start_time, p.end_time, p.every_minutes, p.kinds, p.snoozed_until, p.delivery,
               p.channel_id, p.paused_reason, p.updated_at, p.weekly_hours, p.days_off, p.max_per_day
          from taken t join users u on u.id = t.user_id join workspaces w on w.id = u.workspace_id
          join preferences p on p.user_id = t.user_id`,
  );
  const first = rows[0];
  if (!first) return null;
  const row = dueRowSchema
    .extend({ id: num, slot_at: date, routine_id: z.string().nullable(), question: z.boolean() })
    .parse(first);
  return {
    deliveryId: row.id,
    slotAt: row.slot_at,
    userId: row.user_id,
    workspaceId: row.workspace_id,
    platform: row.platform,
    workspaceExternalId: row.workspace_external_id,
    platformUserId: row.platform_user_id,
    dmChannelId: row.dm_channel_id,
    prefs: prefsOf(row),
    routineId: row.routine_id,
    question: row.question,
  };
}

/**
 * Issue 11, the daily cap: for each due person whose stored preferences are readable, how many nudges
 * already reached them on the local calendar day of their due slot (one statement for the batch, through
 * the (user_id, slot_at) index). Rows whose preferences do not validate are left out; the loop handles them.
 */
async function deliveredOnSlotDays(
  db: Queryable,
  rows: readonly DueRow[],
): Promise<Map<number, { count: number; dayEnd: number }>> {
  const days: { user_id: number; day_start: string; day_end: string }[] = [];
  const result = new Map<number, { count: number; dayEnd: number }>();
  for (const row of rows) {
    if (!row.next_due_at) continue;
    let bounds: { start: number; end: number };
    try {
      bounds = localDayBounds(row.timezone, row.next_due_at);
    } catch {
      continue;
    }
    // A zone that no longer validates gives NaN here; the loop stops that schedule as invalid.
    if (!Number.isFinite(bounds.start) || !Number.isFinite(bounds.end)) continue;
    days.push({
      user_id: row.user_id,
      day_start: new Date(bounds.start).toISOString(),
      day_end: new Date(bounds.end).toISOString(),
    });
    result.set(row.user_id, { count: 0, dayEnd: bounds.end });
  }
  if (days.length === 0) return result;
  const counts = await queryRows<{ user_id: unknown; n: unknown }>(
    db,
    sql`select r.user_id, count(*) as n
          from jsonb_to_recordset(${json(days)}) as r(user_id bigint, day_start timestamptz, day_end timestamptz)
          join nudge_deliveries d on d.user_id = r.user_id and d.slot_at >= r.day_start and d.slot_at < r.day_end
         where d.status not in (${inList(NOT_DELIVERED)})
         group by r.user_id`,
  );
  for (const c of counts) {
    const entry = result.get(num.parse(c.user_id));
    if (entry) entry.count = num.parse(c.n);
  }
  return result;
}

/**
 * Issue 11, the skip-streak question: of these freshly claimed nudges, the ones that should also ask
 * "send fewer or pause for the week?". Asked when the person's last SKIP_STREAK_QUESTION answered nudges
 * were all skipped, and never twice in one run of skips: after a question, a new one needs an answer other
 * than skip (done, snooze, stop) on a nudge at or after the one that asked. The question is recorded here,
 * in the claiming transaction, with the delivery that carries it.
 */
async function askSkipQuestion(
  db: Queryable,
  claimed: readonly { deliveryId: number; userId: number; slotAt: Date }[],
): Promise<Set<number>> {
  const asking = new Set<number>();
  if (claimed.length === 0) return asking;
  const rows = await queryRows<{ delivery_id: unknown; user_id: unknown; slot_at: unknown }>(
    db,
    sql`select r.delivery_id, r.user_id, r.slot_at
          from jsonb_to_recordset(${json(claimed.map((c) => ({ delivery_id: c.deliveryId, user_id: c.userId, slot_at: c.slotAt.toISOString() })))})
               as r(delivery_id bigint, user_id bigint, slot_at timestamptz)
          left join lateral (select max(q.asked_at) as asked_at from nudge_questions q where q.user_id = r.user_id) last on true
         where (select count(*) from (
                  select d.status from nudge_deliveries d
                   where d.user_id = r.user_id and d.slot_at < r.slot_at and d.status in ('done', 'snoozed', 'skipped', 'stopped')
                   order by d.slot_at desc limit ${SKIP_STREAK_QUESTION}) latest
                 where latest.status = 'skipped') = ${SKIP_STREAK_QUESTION}
           and (last.asked_at is null or exists (
                  select 1 from nudge_deliveries d
                   where d.user_id = r.user_id and d.slot_at >= last.asked_at and d.slot_at < r.slot_at
                     and d.status in ('done', 'snoozed', 'stopped')))`,
  );
  if (rows.length === 0) return asking;
  const asked = rows.map((r) => ({
    delivery_id: num.parse(r.delivery_id),
    user_id: num.parse(r.user_id),
    asked_at: date.parse(r.slot_at).toISOString(),
  }));
  await db.execute(
    sql`insert into nudge_questions (delivery_id, user_id, asked_at)
        select r.delivery_id, r.user_id, r.asked_at from jsonb_to_recordset(${json(asked)}) as r(delivery_id bigint, user_id bigint, asked_at timestamptz)
        on conflict (delivery_id) do nothing`,
  );
  for (const a of asked) asking.add(a.delivery_id);
  return asking;
}
