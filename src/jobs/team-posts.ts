import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Db, type Queryable } from '../db/client.js';
import { daysSchema, timezoneSchema, clockTimeSchema, type Weekday } from '../core/preferences.js';
import { platforms, type Platform } from '../core/request.js';
import { LATE_LIMIT_MS } from './claims.js';
import { nextDailyAt } from './slots.js';

/** A team's daily "stretch together" post, as the scheduler sends it. */
export interface ClaimedTeamPost {
  deliveryId: number;
  slotAt: Date;
  workspaceId: number;
  platform: Platform;
  workspaceExternalId: string;
  channelId: string;
  routineId: string | null;
}

export interface TeamPostSettings {
  channelId: string;
  timezone: string;
  localTime: string;
  days: Weekday[];
}

export const teamPostSettingsSchema = z.object({
  channelId: z.string().trim().min(1).max(100),
  timezone: timezoneSchema,
  localTime: clockTimeSchema,
  days: daysSchema,
});

const num = z.coerce.number().int();
const date = z.coerce.date();
const inList = (values: readonly string[]) =>
  sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );

const claimedRow = z.object({
  id: num,
  slot_at: date,
  workspace_id: num,
  platform: z.enum(platforms),
  external_id: z.string(),
  channel_id: z.string(),
  routine_id: z.string().nullable(),
});

function fromRow(row: z.infer<typeof claimedRow>): ClaimedTeamPost {
  return {
    deliveryId: row.id,
    slotAt: row.slot_at,
    workspaceId: row.workspace_id,
    platform: row.platform,
    workspaceExternalId: row.external_id,
    channelId: row.channel_id,
    routineId: row.routine_id,
  };
}

export async function saveTeamPost(
  db: Queryable,
  workspaceId: number,
  createdByUserId: number,
  settings: TeamPostSettings,
  now: Date,
): Promise<Date | null> {
  const nextDueAt = nextDailyAt(settings.timezone, settings.days, settings.localTime, now);
  const values = {
    channel_id: settings.channelId,
    timezone: settings.timezone,
    local_time: settings.localTime,
    days: JSON.stringify(settings.days),
  };
  await db.execute(
    sql`insert into team_posts (workspace_id, channel_id, timezone, local_time, days, created_by_user_id, next_due_at, paused_reason, updated_at)
        values (${workspaceId}, ${values.channel_id}, ${values.timezone}, ${values.local_time}, ${values.days}::jsonb, ${createdByUserId}, ${nextDueAt}, null, ${now})
        on conflict (workspace_id) do update set channel_id = excluded.channel_id, timezone = excluded.timezone, local_time = excluded.local_time,
          days = excluded.days, created_by_user_id = excluded.created_by_user_id, next_due_at = excluded.next_due_at, paused_reason = null, updated_at = excluded.updated_at`,
  );
  return nextDueAt;
}

export async function deleteTeamPost(db: Queryable, workspaceId: number): Promise<boolean> {
  const rows = await queryRows<unknown>(
    db,
    sql`delete from team_posts where workspace_id = ${workspaceId} returning workspace_id`,
  );
  // A post claimed by a scheduler that since died has nobody left to reconcile it for: close it.
  await db.execute(
    sql`update team_post_deliveries set status = 'failed', last_error = 'team post turned off' where workspace_id = ${workspaceId} and status = 'claimed' and claimed_by is null`,
  );
  return rows.length > 0;
}

export async function loadTeamPost(
  db: Queryable,
  workspaceId: number,
): Promise<(TeamPostSettings & { nextDueAt: Date | null; pausedReason: string | null }) | null> {
  const [row] = await queryRows<unknown>(
    db,
    sql`select channel_id, timezone, local_time, days, next_due_at, paused_reason from team_posts where workspace_id = ${workspaceId}`,
  );
  if (!row) return null;
  const parsed = z
    .object({
      channel_id: z.string(),
      timezone: z.string(),
      local_time: z.string(),
      days: z.unknown(),
      next_due_at: date.nullable(),
      paused_reason: z.string().nullable(),
    })
    .parse(row);
  const settings = teamPostSettingsSchema.safeParse({
    channelId: parsed.channel_id,
    timezone: parsed.timezone,
    localTime: parsed.local_time,
    days: parsed.days,
  });
  if (!settings.success) return null;
  return { ...settings.data, nextDueAt: parsed.next_due_at, pausedReason: parsed.paused_reason };
}

/**
 * Same pattern as nudges: lock due team posts (SKIP LOCKED), insert the delivery row (unique per workspace
 * and slot) and advance next_due_at in one transaction. A slot more than 10 minutes late is recorded missed.
 */
export async function claimDueTeamPosts(
  db: Db,
  options: {
    now: Date;
    holder: number;
    platforms: readonly Platform[];
    limit: number;
    pickRoutine: (recentIds: readonly string[], workspaceId: number) => string;
  },
): Promise<{ claimed: ClaimedTeamPost[]; missed: number }> {
  const { now, holder } = options;
  return db.transaction(async (tx) => {
    const due = await queryRows<unknown>(
      tx,
      sql`select t.workspace_id, t.next_due_at, t.timezone, t.local_time, t.days
            from team_posts t join workspaces w on w.id = t.workspace_id
           where t.next_due_at is not null and t.next_due_at <= ${now} and t.paused_reason is null and w.active
             and w.platform in (${inList(options.platforms)})
           order by t.next_due_at limit ${options.limit}
           for update of t skip locked`,
    );
    const result = { claimed: [] as ClaimedTeamPost[], missed: 0 };
    for (const raw of due) {
      const row = z
        .object({
          workspace_id: num,
          next_due_at: date,
          timezone: z.string(),
          local_time: z.string(),
          days: z.unknown(),
        })
        .parse(raw);
      const settings = teamPostSettingsSchema.safeParse({
        channelId: 'x',
        timezone: row.timezone,
        localTime: row.local_time,
        days: row.days,
      });
      const late = now.getTime() - row.next_due_at.getTime() > LATE_LIMIT_MS;
      const next = settings.success
        ? nextDailyAt(settings.data.timezone, settings.data.days, settings.data.localTime, late ? now : row.next_due_at)
        : null;
      await tx.execute(sql`update team_posts set next_due_at = ${next} where workspace_id = ${row.workspace_id}`);
      if (late) result.missed += 1;
      const recent = await queryRows<{ routine_id: string }>(
        tx,
        sql`select routine_id from team_post_deliveries where workspace_id = ${row.workspace_id} and routine_id is not null order by slot_at desc limit 5`,
      );
      const inserted = await queryRows<unknown>(
        tx,
        sql`with ins as (
              insert into team_post_deliveries (workspace_id, slot_at, status, routine_id, claimed_at, claimed_by)
              values (${row.workspace_id}, ${row.next_due_at}, ${late ? 'missed' : 'claimed'},
                      ${
                        late
                          ? null
                          : options.pickRoutine(
                              recent.map((r) => r.routine_id),
                              row.workspace_id,
                            )
                      }, ${now}, ${holder})
              on conflict (workspace_id, slot_at) do nothing
              returning id, slot_at, workspace_id, routine_id, status)
            select ins.id, ins.slot_at, ins.workspace_id, w.platform, w.external_id, t.channel_id, ins.routine_id
              from ins join workspaces w on w.id = ins.workspace_id join team_posts t on t.workspace_id = ins.workspace_id
             where ins.status = 'claimed'`,
      );
      for (const ins of inserted) result.claimed.push(fromRow(claimedRow.parse(ins)));
    }
    return result;
  });
}

export async function closeTeamPost(
  db: Queryable,
  deliveryId: number,
  status: 'sent' | 'failed' | 'missed',
  messageRef: string | null,
  error: string | null,
  at: Date,
): Promise<void> {
  await db.execute(
    sql`update team_post_deliveries set status = ${status}, message_ref = ${messageRef}, last_error = ${error}, sent_at = ${status === 'sent' ? at : null}
         where id = ${deliveryId} and status = 'claimed'`,
  );
}

/** The channel cannot be posted to (archived, bot removed): stop the daily post and say why. */
export async function pauseTeamPost(db: Queryable, workspaceId: number, reason: string): Promise<void> {
  await db.execute(
    sql`update team_posts set paused_reason = ${reason.slice(0, 200)}, next_due_at = null where workspace_id = ${workspaceId}`,
  );
}

/** Team posts left claimed by a holder that is gone (same liveness rule as nudges). */
export async function openTeamPostClaims(
  db: Queryable,
  limit: number,
): Promise<{ deliveryId: number; claimedBy: number | null }[]> {
  const rows = await queryRows<{ id: unknown; claimed_by: unknown }>(
    db,
    sql`select id, claimed_by from team_post_deliveries where status = 'claimed' order by id limit ${limit}`,
  );
  return rows.map((r) => ({
    deliveryId: num.parse(r.id),
    claimedBy: r.claimed_by === null ? null : num.parse(r.claimed_by),
  }));
}

export async function takeOverTeamPost(
  db: Queryable,
  deliveryId: number,
  previousHolder: number | null,
  holder: number,
): Promise<ClaimedTeamPost | null> {
  const rows = await queryRows<unknown>(
    db,
    sql`with taken as (
          update team_post_deliveries set claimed_by = ${holder}
           where id = ${deliveryId} and status = 'claimed' and claimed_by is not distinct from ${previousHolder}
       returning id, slot_at, workspace_id, routine_id)
        select taken.id, taken.slot_at, taken.workspace_id, w.platform, w.external_id, t.channel_id, taken.routine_id
          from taken join workspaces w on w.id = taken.workspace_id join team_posts t on t.workspace_id = taken.workspace_id`,
  );
  return rows[0] ? fromRow(claimedRow.parse(rows[0])) : null;
}
