import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Queryable } from './client.js';
import { pausePreferences, preferenceColumnsSql, preferencesFromSqlRow, StoredDataError } from './preferences.js';
import type { Preferences } from '../core/preferences.js';
import { platforms, type Platform } from '../core/request.js';

/**
 * Deliveries: one row per target and slot, for both kinds of target. A person's nudge lives in `nudge_deliveries`
 * (keyed by user), a team's channel post in `team_post_deliveries` (keyed by workspace); both take their ids from one
 * sequence, so a delivery id carried in a platform message names one row. Every statement over either table is here.
 */
export type DeliveryTarget = { kind: 'person'; userId: number } | { kind: 'channel'; workspaceId: number };
export type DeliveryKind = DeliveryTarget['kind'];

interface ClaimedCommon {
  deliveryId: number;
  slotAt: Date;
  workspaceId: number;
  platform: Platform;
  workspaceExternalId: string;
  routineId: string | null;
}

/** A person's nudge, with everything needed to send it (read in the claiming transaction). */
export interface ClaimedNudge extends ClaimedCommon {
  kind: 'person';
  userId: number;
  platformUserId: string;
  dmChannelId: string | null;
  prefs: Preferences;
  /** This nudge also asks "send fewer or pause for the week?" after a run of skips. */
  question?: boolean;
}

/** A team's daily "stretch together" post in a channel. */
export interface ClaimedTeamPost extends ClaimedCommon {
  kind: 'channel';
  channelId: string;
}

export type ClaimedDelivery = ClaimedNudge | ClaimedTeamPost;

export const targetOf = (claimed: ClaimedDelivery): DeliveryTarget =>
  claimed.kind === 'person'
    ? { kind: 'person', userId: claimed.userId }
    : { kind: 'channel', workspaceId: claimed.workspaceId };

/** Where each kind is stored, and what its target and its schedule are keyed by. */
const stores: Record<DeliveryKind, { table: SQL; key: SQL; schedule: SQL }> = {
  person: { table: sql.raw('nudge_deliveries'), key: sql.raw('user_id'), schedule: sql.raw('preferences') },
  channel: { table: sql.raw('team_post_deliveries'), key: sql.raw('workspace_id'), schedule: sql.raw('team_posts') },
};
const keyOf = (target: DeliveryTarget): number => (target.kind === 'person' ? target.userId : target.workspaceId);

const num = z.coerce.number().int();
const date = z.coerce.date();
const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
const inList = (values: readonly string[]) =>
  sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );

/** Statuses of person deliveries that never put a message in front of the person: they do not count towards the cap. */
const NOT_DELIVERED = ['missed', 'unavailable', 'failed'] as const;

/** After this many skipped nudges in a row Backcare asks, once, whether to send fewer. */
const SKIP_STREAK_QUESTION = 3;

// ---------------------------------------------------------------------------------------------------------------
// Claiming (inside the claiming transaction)

const duePersonRow = z.object({
  user_id: num,
  next_due_at: date,
  workspace_id: num,
  platform: z.enum(platforms),
  workspace_external_id: z.string(),
  platform_user_id: z.string(),
  dm_channel_id: z.string().nullable(),
});

/** A person due for a nudge, locked for this transaction; `prefs` is null when the stored ones no longer validate. */
export interface DuePerson {
  userId: number;
  slotAt: Date;
  workspaceId: number;
  platform: Platform;
  workspaceExternalId: string;
  platformUserId: string;
  dmChannelId: string | null;
  prefs: Preferences | { invalid: string };
}

const personFields = (row: Omit<z.infer<typeof duePersonRow>, 'next_due_at'>) => ({
  userId: row.user_id,
  workspaceId: row.workspace_id,
  platform: row.platform,
  workspaceExternalId: row.workspace_external_id,
  platformUserId: row.platform_user_id,
  dmChannelId: row.dm_channel_id,
});

function prefsOrInvalid(raw: Record<string, unknown>, userId: number): Preferences | { invalid: string } {
  try {
    return preferencesFromSqlRow(raw, userId);
  } catch (error) {
    if (!(error instanceof StoredDataError)) throw error;
    return { invalid: error.message };
  }
}

/**
 * Locks up to `limit` people whose next nudge is due (SKIP LOCKED, so replicas share the work). Cost follows the
 * number due: the partial index on next_due_at finds them without touching anyone else.
 */
export async function lockDuePeople(
  tx: Queryable,
  options: { now: Date; platforms: readonly Platform[]; limit: number },
): Promise<DuePerson[]> {
  const raw = await queryRows<Record<string, unknown>>(
    tx,
    sql`select p.user_id, p.next_due_at, u.workspace_id, w.platform, w.external_id as workspace_external_id,
               u.platform_user_id, u.dm_channel_id, ${preferenceColumnsSql('p')}
          from preferences p
          join users u on u.id = p.user_id
          join workspaces w on w.id = u.workspace_id
         where p.next_due_at is not null and p.next_due_at <= ${options.now}
           and p.opted_in and p.paused_reason is null and w.active
           and w.platform in (${inList(options.platforms)})
         order by p.next_due_at
         limit ${options.limit}
         for update of p skip locked`,
  );
  return raw.map((item) => {
    const row = duePersonRow.parse(item);
    return { ...personFields(row), slotAt: row.next_due_at, prefs: prefsOrInvalid(item, row.user_id) };
  });
}

/** A team post due, locked for this transaction, with its stored (unvalidated) schedule. */
export interface DueChannel {
  workspaceId: number;
  slotAt: Date;
  platform: Platform;
  workspaceExternalId: string;
  channelId: string;
  schedule: { timezone: string; localTime: string; days: unknown };
}

export async function lockDueChannels(
  tx: Queryable,
  options: { now: Date; platforms: readonly Platform[]; limit: number },
): Promise<DueChannel[]> {
  const raw = await queryRows<unknown>(
    tx,
    sql`select t.workspace_id, t.next_due_at, t.timezone, t.local_time, t.days, t.channel_id, w.platform,
               w.external_id as workspace_external_id
          from team_posts t join workspaces w on w.id = t.workspace_id
         where t.next_due_at is not null and t.next_due_at <= ${options.now} and t.paused_reason is null and w.active
           and w.platform in (${inList(options.platforms)})
         order by t.next_due_at limit ${options.limit}
         for update of t skip locked`,
  );
  return raw.map((item) => {
    const row = z
      .object({
        workspace_id: num,
        next_due_at: date,
        timezone: z.string(),
        local_time: z.string(),
        days: z.unknown(),
        channel_id: z.string(),
        platform: z.enum(platforms),
        workspace_external_id: z.string(),
      })
      .parse(item);
    return {
      workspaceId: row.workspace_id,
      slotAt: row.next_due_at,
      platform: row.platform,
      workspaceExternalId: row.workspace_external_id,
      channelId: row.channel_id,
      schedule: { timezone: row.timezone, localTime: row.local_time, days: row.days },
    };
  });
}

/** Moves each target's next due time on (null stops its schedule), in one statement. */
export async function advanceSchedules(
  tx: Queryable,
  kind: DeliveryKind,
  advances: readonly { key: number; nextDueAt: Date | null }[],
): Promise<void> {
  if (advances.length === 0) return;
  const { schedule, key } = stores[kind];
  const rows = advances.map((a) => ({ key: a.key, next_due_at: a.nextDueAt?.toISOString() ?? null }));
  await tx.execute(
    sql`update ${schedule} s set next_due_at = r.next_due_at
          from jsonb_to_recordset(${json(rows)}) as r(key bigint, next_due_at timestamptz)
         where s.${key} = r.key`,
  );
}

export interface NewDelivery {
  key: number;
  slotAt: Date;
  status: 'claimed' | 'missed';
  routineId: string | null;
}

/**
 * Inserts one delivery row per target and slot, held by `holder`. The unique (target, slot) key makes a second
 * claim of the same slot a no-op: only the rows actually inserted come back.
 */
export async function insertDeliveries(
  tx: Queryable,
  kind: DeliveryKind,
  rows: readonly NewDelivery[],
  claimedAt: Date,
  holder: number,
): Promise<(NewDelivery & { deliveryId: number })[]> {
  if (rows.length === 0) return [];
  const { table, key } = stores[kind];
  const values = rows.map((r) => ({
    key: r.key,
    slot_at: r.slotAt.toISOString(),
    status: r.status,
    routine_id: r.routineId,
  }));
  const inserted = await queryRows<unknown>(
    tx,
    sql`insert into ${table} (${key}, slot_at, status, routine_id, claimed_at, claimed_by, attempts)
        select r.key, r.slot_at, r.status, r.routine_id, ${claimedAt}, ${holder}, 0
          from jsonb_to_recordset(${json(values)}) as r(key bigint, slot_at timestamptz, status text, routine_id text)
        on conflict (${key}, slot_at) do nothing
        returning id, ${key} as key, slot_at, status, routine_id`,
  );
  return inserted.map((item) => {
    const row = z
      .object({
        id: num,
        key: num,
        slot_at: date,
        status: z.enum(['claimed', 'missed']),
        routine_id: z.string().nullable(),
      })
      .parse(item);
    return { deliveryId: row.id, key: row.key, slotAt: row.slot_at, status: row.status, routineId: row.routine_id };
  });
}

/**
 * How many nudges already reached each person on a local calendar day (one statement for the batch, through the
 * (user_id, slot_at) index): the daily cap's count.
 */
export async function countDeliveredOnDays(
  tx: Queryable,
  days: readonly { userId: number; dayStart: Date; dayEnd: Date }[],
): Promise<Map<number, number>> {
  const result = new Map<number, number>();
  if (days.length === 0) return result;
  const rows = days.map((d) => ({
    user_id: d.userId,
    day_start: d.dayStart.toISOString(),
    day_end: d.dayEnd.toISOString(),
  }));
  const counts = await queryRows<{ user_id: unknown; n: unknown }>(
    tx,
    sql`select r.user_id, count(*) as n
          from jsonb_to_recordset(${json(rows)}) as r(user_id bigint, day_start timestamptz, day_end timestamptz)
          join nudge_deliveries d on d.user_id = r.user_id and d.slot_at >= r.day_start and d.slot_at < r.day_end
         where d.status not in (${inList(NOT_DELIVERED)})
         group by r.user_id`,
  );
  for (const c of counts) result.set(num.parse(c.user_id), num.parse(c.n));
  return result;
}

/** Earlier nudges nobody answered before this slot came round become `ignored`; returns them. */
export async function markIgnoredBefore(
  tx: Queryable,
  slots: readonly { userId: number; slotAt: Date }[],
): Promise<{ userId: number; routineId: string | null }[]> {
  if (slots.length === 0) return [];
  const rows = slots.map((s) => ({ user_id: s.userId, slot_at: s.slotAt.toISOString() }));
  const ignored = await queryRows<{ user_id: unknown; routine_id: string | null }>(
    tx,
    sql`update nudge_deliveries d set status = 'ignored'
          from jsonb_to_recordset(${json(rows)}) as r(user_id bigint, slot_at timestamptz)
         where d.user_id = r.user_id and d.status = 'sent' and d.slot_at < r.slot_at
     returning d.user_id, d.routine_id`,
  );
  return ignored.map((i) => ({ userId: num.parse(i.user_id), routineId: i.routine_id }));
}

/**
 * The skip-streak question: of these freshly claimed nudges, the ones that should also ask "send fewer or pause for
 * the week?". Asked when the person's last SKIP_STREAK_QUESTION answered nudges were all skipped, and never twice in
 * one run of skips: after a question, a new one needs an answer other than skip (done, snooze, stop) on a nudge at
 * or after the one that asked. The question is recorded here, in the claiming transaction, with the delivery that
 * carries it.
 */
export async function askSkipQuestion(
  tx: Queryable,
  claimed: readonly { deliveryId: number; userId: number; slotAt: Date }[],
): Promise<Set<number>> {
  const asking = new Set<number>();
  if (claimed.length === 0) return asking;
  const candidates = claimed.map((c) => ({
    delivery_id: c.deliveryId,
    user_id: c.userId,
    slot_at: c.slotAt.toISOString(),
  }));
  const rows = await queryRows<{ delivery_id: unknown; user_id: unknown; slot_at: unknown }>(
    tx,
    sql`select r.delivery_id, r.user_id, r.slot_at
          from jsonb_to_recordset(${json(candidates)}) as r(delivery_id bigint, user_id bigint, slot_at timestamptz)
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
  await tx.execute(
    sql`insert into nudge_questions (delivery_id, user_id, asked_at)
        select r.delivery_id, r.user_id, r.asked_at from jsonb_to_recordset(${json(asked)}) as r(delivery_id bigint, user_id bigint, asked_at timestamptz)
        on conflict (delivery_id) do nothing`,
  );
  for (const a of asked) asking.add(a.delivery_id);
  return asking;
}

// ---------------------------------------------------------------------------------------------------------------
// Routines

/** The routines of a target's latest deliveries, most recent first (the library avoids repeating them). */
export async function recentRoutineIds(db: Queryable, target: DeliveryTarget, limit = 5): Promise<string[]> {
  const { table, key } = stores[target.kind];
  const rows = await queryRows<{ routine_id: string }>(
    db,
    sql`select routine_id from ${table} where ${key} = ${keyOf(target)} and routine_id is not null order by slot_at desc limit ${limit}`,
  );
  return rows.map((r) => r.routine_id);
}

/** The latest routine ids of many targets of one kind, newest first (at most five each), in one statement. */
export async function recentRoutinesFor(
  db: Queryable,
  kind: DeliveryKind,
  keys: readonly number[],
): Promise<Map<number, string[]>> {
  const result = new Map<number, string[]>();
  if (keys.length === 0) return result;
  const { table, key } = stores[kind];
  const rows = await queryRows<{ key: unknown; routine_id: string }>(
    db,
    sql`select r.id as key, d.routine_id
          from jsonb_to_recordset(${json(keys.map((id) => ({ id })))}) as r(id bigint)
          cross join lateral (
            select routine_id, slot_at from ${table}
             where ${key} = r.id and routine_id is not null order by slot_at desc limit 5) d
         order by r.id, d.slot_at desc`,
  );
  for (const row of rows) {
    const id = num.parse(row.key);
    const list = result.get(id) ?? [];
    list.push(row.routine_id);
    result.set(id, list);
  }
  return result;
}

export async function setRoutine(db: Queryable, kind: DeliveryKind, deliveryId: number, routineId: string) {
  await db.execute(sql`update ${stores[kind].table} set routine_id = ${routineId} where id = ${deliveryId}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Confirm, close, release, pause

export interface Confirmation {
  deliveryId: number;
  workspaceId: number;
  messageRef: string;
  attempts: number;
  at: Date;
}

/**
 * Confirms sends, many per statement. A person may already have pressed a button on the message (status done,
 * skipped…) before this runs: then only the message reference is added. Only the first confirmation of a nudge
 * records its "delivered" activity; a team post has no activity (it is nobody's).
 */
export async function confirmSent(
  db: Queryable,
  kind: DeliveryKind,
  confirmations: readonly Confirmation[],
): Promise<void> {
  if (confirmations.length === 0) return;
  const rows = confirmations.map((c) => ({
    id: c.deliveryId,
    workspace_id: c.workspaceId,
    message_ref: c.messageRef,
    attempts: c.attempts,
    sent_at: c.at.toISOString(),
  }));
  const confirm = sql`update ${stores[kind].table} d
             set status = case when d.status = 'claimed' then 'sent' else d.status end,
                 message_ref = r.message_ref, sent_at = r.sent_at, attempts = r.attempts, last_error = null
            from jsonb_to_recordset(${json(rows)}) as r(id bigint, workspace_id bigint, message_ref text, attempts int, sent_at timestamptz)
           where d.id = r.id and d.sent_at is null`;
  if (kind === 'channel') return void (await db.execute(confirm));
  await db.execute(
    sql`with confirmed as (${confirm} returning d.user_id, r.workspace_id, d.routine_id, r.sent_at)
        insert into activity_events (user_id, workspace_id, kind, outcome, source, routine_id, occurred_at)
        select c.user_id, c.workspace_id, 'nudge', 'delivered', 'nudge', c.routine_id, c.sent_at from confirmed c`,
  );
}

/** Ends a claimed delivery without a message (failed, unavailable, missed). */
export async function closeDelivery(
  db: Queryable,
  kind: DeliveryKind,
  deliveryId: number,
  status: 'failed' | 'unavailable' | 'missed',
  attempts: number,
  error: string | null,
): Promise<void> {
  // A skip-streak question riding on a nudge that never reached the person was not asked: forget it, so the
  // next nudge asks instead. (Team posts ask nothing; the delete finds no row.)
  await db.execute(
    sql`with closed as (
          update ${stores[kind].table} set status = ${status}, attempts = ${attempts}, last_error = ${error}
           where id = ${deliveryId} and status = 'claimed'
       returning id)
        delete from nudge_questions q using closed where q.delivery_id = closed.id`,
  );
}

/** Hands a claim back (nobody holds it) so the next pass reconciles it on the platform. */
export async function releaseClaim(
  db: Queryable,
  kind: DeliveryKind,
  deliveryId: number,
  attempts?: number,
): Promise<void> {
  const setAttempts = attempts === undefined ? sql`` : sql`, attempts = ${attempts}`;
  await db.execute(
    sql`update ${stores[kind].table} set claimed_by = null${setAttempts} where id = ${deliveryId} and status = 'claimed'`,
  );
}

/** Claims nobody holds of one target (its holder released them): closed when the target goes away. */
export async function closeUnheldClaims(db: Queryable, target: DeliveryTarget, error: string): Promise<void> {
  const { table, key } = stores[target.kind];
  await db.execute(
    sql`update ${table} set status = 'failed', last_error = ${error}
         where ${key} = ${keyOf(target)} and status = 'claimed' and claimed_by is null`,
  );
}

/** The target cannot be reached (DMs closed, channel archived): stop its schedule and say why. */
export async function pauseTarget(db: Queryable, target: DeliveryTarget, reason: string, at: Date): Promise<void> {
  if (target.kind === 'person') return pausePreferences(db, target.userId, reason, at);
  await db.execute(
    sql`update team_posts set paused_reason = ${reason.slice(0, 200)}, next_due_at = null where workspace_id = ${target.workspaceId}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Reconciliation

/** Deliveries still `claimed` (unconfirmed), oldest first, after `afterId`: candidates for reconciliation. */
export async function openClaims(
  db: Queryable,
  kind: DeliveryKind,
  afterId: number,
  limit: number,
): Promise<{ deliveryId: number; claimedBy: number | null }[]> {
  const rows = await queryRows<{ id: unknown; claimed_by: unknown }>(
    db,
    sql`select id, claimed_by from ${stores[kind].table}
         where status = 'claimed' and id > ${afterId}
         order by id limit ${limit}`,
  );
  return rows.map((r) => ({
    deliveryId: num.parse(r.id),
    claimedBy: r.claimed_by === null ? null : num.parse(r.claimed_by),
  }));
}

/**
 * Takes over an orphaned claim, compare-and-set on the previous holder: of two replicas reconciling the same orphan,
 * one wins. Only deliveries on a platform this scheduler serves are taken. Returns the delivery, or null.
 */
export async function takeOver(
  db: Queryable,
  kind: DeliveryKind,
  deliveryId: number,
  previousHolder: number | null,
  holder: number,
  platformsServed: readonly Platform[],
): Promise<ClaimedDelivery | null> {
  const { table } = stores[kind];
  const taken = sql`update ${table} d set claimed_by = ${holder}
           where d.id = ${deliveryId} and d.status = 'claimed' and d.claimed_by is not distinct from ${previousHolder}
             and (select w.platform from workspaces w where w.id = ${ownerWorkspace(kind)}) in (${inList(platformsServed)})`;
  return kind === 'person' ? takeOverNudge(db, taken) : takeOverTeamPost(db, taken);
}

/** The workspace a delivery row belongs to, as a correlated expression over the row `d`. */
const ownerWorkspace = (kind: DeliveryKind): SQL =>
  kind === 'person' ? sql`(select u.workspace_id from users u where u.id = d.user_id)` : sql`d.workspace_id`;

async function takeOverNudge(db: Queryable, taken: SQL): Promise<ClaimedNudge | null> {
  const [first] = await queryRows<Record<string, unknown>>(
    db,
    sql`with taken as (${taken} returning d.id, d.user_id, d.slot_at, d.routine_id)
        select t.id, t.slot_at, t.routine_id, exists(select 1 from nudge_questions q where q.delivery_id = t.id) as question,
               p.user_id, u.workspace_id, w.platform, w.external_id as workspace_external_id,
               u.platform_user_id, u.dm_channel_id, ${preferenceColumnsSql('p')}
          from taken t join users u on u.id = t.user_id join workspaces w on w.id = u.workspace_id
          join preferences p on p.user_id = t.user_id`,
  );
  if (!first) return null;
  const row = duePersonRow
    .omit({ next_due_at: true })
    .extend({ id: num, slot_at: date, routine_id: z.string().nullable(), question: z.boolean() })
    .parse(first);
  return {
    kind: 'person',
    deliveryId: row.id,
    slotAt: row.slot_at,
    ...personFields(row),
    prefs: preferencesFromSqlRow(first, row.user_id),
    routineId: row.routine_id,
    question: row.question,
  };
}

async function takeOverTeamPost(db: Queryable, taken: SQL): Promise<ClaimedTeamPost | null> {
  const [first] = await queryRows<unknown>(
    db,
    sql`with taken as (${taken} returning d.id, d.slot_at, d.workspace_id, d.routine_id)
        select taken.id, taken.slot_at, taken.workspace_id, w.platform, w.external_id, t.channel_id, taken.routine_id
          from taken join workspaces w on w.id = taken.workspace_id join team_posts t on t.workspace_id = taken.workspace_id`,
  );
  if (!first) return null;
  const row = z
    .object({
      id: num,
      slot_at: date,
      workspace_id: num,
      platform: z.enum(platforms),
      external_id: z.string(),
      channel_id: z.string(),
      routine_id: z.string().nullable(),
    })
    .parse(first);
  return {
    kind: 'channel',
    deliveryId: row.id,
    slotAt: row.slot_at,
    workspaceId: row.workspace_id,
    platform: row.platform,
    workspaceExternalId: row.external_id,
    channelId: row.channel_id,
    routineId: row.routine_id,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// A person's own nudges (commands and buttons)

/**
 * A nudge given on request (`nudge now`, `break`), stored as sent so its buttons work like a scheduled one's.
 * Returns its id, or null when one already exists for this person and slot.
 */
export async function insertSentNudge(
  db: Queryable,
  userId: number,
  slotAt: Date,
  routineId: string,
  now: Date,
): Promise<number | null> {
  const [row] = await queryRows<{ id: unknown }>(
    db,
    sql`insert into nudge_deliveries (user_id, slot_at, status, routine_id, claimed_at, sent_at, attempts)
        values (${userId}, ${slotAt}, 'sent', ${routineId}, ${now}, ${now}, 1)
        on conflict (user_id, slot_at) do nothing returning id`,
  );
  return row ? num.parse(row.id) : null;
}

export type NudgeAnswer = 'done' | 'snoozed' | 'skipped' | 'stopped';

/**
 * Records the person's answer to one of their nudges. Only the first answer counts (a second press, or a press on
 * someone else's nudge, changes nothing): returns the nudge's routine, or null when nothing changed.
 */
export async function answerNudge(
  db: Queryable,
  deliveryId: number,
  userId: number,
  answer: NudgeAnswer,
  at: Date,
): Promise<{ routineId: string | null } | null> {
  const [row] = await queryRows<{ routine_id: string | null }>(
    db,
    sql`update nudge_deliveries set status = ${answer}, responded_at = ${at}
         where id = ${deliveryId} and user_id = ${userId} and status in ('claimed', 'sent', 'ignored')
     returning routine_id`,
  );
  return row ? { routineId: row.routine_id } : null;
}

/** Undoes a "stop" answer, once, on the nudge that stopped them; false when there is nothing to undo. */
export async function undoStopAnswer(db: Queryable, deliveryId: number, userId: number): Promise<boolean> {
  const rows = await queryRows<{ id: unknown }>(
    db,
    sql`update nudge_deliveries set status = 'ignored' where id = ${deliveryId} and user_id = ${userId} and status = 'stopped' returning id`,
  );
  return rows.length > 0;
}

/** How many nudges are stored for the person (`/backcare me`). */
export async function countNudges(db: Queryable, userId: number): Promise<number> {
  const [row] = await queryRows<{ n: unknown }>(
    db,
    sql`select count(*) as n from nudge_deliveries where user_id = ${userId}`,
  );
  return row ? num.parse(row.n) : 0;
}

/** The person's latest slot skipped as unavailable (busy, do-not-disturb) since `since`, and why. */
export async function lastUnavailable(
  db: Queryable,
  userId: number,
  since: Date,
): Promise<{ at: Date; reason: string | null } | undefined> {
  const [row] = await queryRows<unknown>(
    db,
    sql`select slot_at, last_error from nudge_deliveries
         where user_id = ${userId} and status = 'unavailable' and slot_at >= ${since}
         order by slot_at desc limit 1`,
  );
  if (!row) return undefined;
  const parsed = z.object({ slot_at: date, last_error: z.string().nullable() }).parse(row);
  return { at: parsed.slot_at, reason: parsed.last_error };
}
