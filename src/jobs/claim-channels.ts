import type { Db } from '../db/client.js';
import {
  advanceSchedules,
  insertDeliveries,
  lockDueChannels,
  recentRoutinesFor,
  type ClaimedTeamPost,
  type DueChannel,
} from '../db/deliveries.js';
import { teamPostScheduleSchema } from '../db/team-posts.js';
import { nextDailyAt } from '../core/local-time.js';
import type { Platform } from '../core/request.js';
import { LATE_LIMIT_MS } from './late.js';

/**
 * The same claim as a person's nudge, for teams' channel posts: lock due posts (SKIP LOCKED), insert the delivery
 * row (unique per workspace and slot) and advance next_due_at in one transaction. A slot found late is recorded missed.
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
  const { now } = options;
  return db.transaction(async (tx) => {
    const due = await lockDueChannels(tx, { now, platforms: options.platforms, limit: options.limit });
    const result = { claimed: [] as ClaimedTeamPost[], missed: 0 };
    if (due.length === 0) return result;
    const recent = await recentRoutinesFor(
      tx,
      'channel',
      due.map((d) => d.workspaceId),
    );
    const isLate = (post: DueChannel) => now.getTime() - post.slotAt.getTime() > LATE_LIMIT_MS;
    await advanceSchedules(
      tx,
      'channel',
      due.map((post) => ({ key: post.workspaceId, nextDueAt: nextPostAfter(post, isLate(post) ? now : post.slotAt) })),
    );
    const inserted = await insertDeliveries(
      tx,
      'channel',
      due.map((post) => ({
        key: post.workspaceId,
        slotAt: post.slotAt,
        status: isLate(post) ? 'missed' : 'claimed',
        routineId: isLate(post) ? null : options.pickRoutine(recent.get(post.workspaceId) ?? [], post.workspaceId),
      })),
      now,
      options.holder,
    );
    const byWorkspace = new Map(due.map((post) => [post.workspaceId, post]));
    for (const ins of inserted) {
      if (ins.status === 'missed') {
        result.missed += 1;
        continue;
      }
      const post = byWorkspace.get(ins.key)!;
      result.claimed.push({
        kind: 'channel',
        deliveryId: ins.deliveryId,
        slotAt: ins.slotAt,
        workspaceId: post.workspaceId,
        platform: post.platform,
        workspaceExternalId: post.workspaceExternalId,
        channelId: post.channelId,
        routineId: ins.routineId,
      });
    }
    return result;
  });
}

/** The post's next time after `after`; null (stopped) when its stored schedule no longer validates. */
function nextPostAfter(post: DueChannel, after: Date): Date | null {
  const schedule = teamPostScheduleSchema.safeParse(post.schedule);
  return schedule.success
    ? nextDailyAt(schedule.data.timezone, schedule.data.days, schedule.data.localTime, after)
    : null;
}
