import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Queryable } from './client.js';
import { closeUnheldClaims } from './deliveries.js';
import { nextDailyAt } from '../core/local-time.js';
import { clockTimeSchema, daysSchema, timezoneSchema, type Weekday } from '../core/preferences.js';

/** A team's daily "stretch together" post: where, and when in the team's zone. Its deliveries are in deliveries.ts. */
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

/** The schedule part alone, for reading a stored post's next time back (the channel is not needed for that). */
export const teamPostScheduleSchema = teamPostSettingsSchema.omit({ channelId: true });

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
  await closeUnheldClaims(db, { kind: 'channel', workspaceId }, 'team post turned off');
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
      next_due_at: z.coerce.date().nullable(),
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
