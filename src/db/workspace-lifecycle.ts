import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db, Queryable } from './client.js';
import { preferences, teamPosts, users, workspaces, type PreferencesRow } from './schema.js';

export interface PlatformWorkspace {
  platform: string;
  externalId: string;
}

/**
 * Marks the workspace inactive and pauses, with `reason`, every running nudge and team post there. Only what was
 * running is paused: someone opted out or already paused for another reason keeps their state, so a later restore
 * knows exactly whom the removal stopped. Idempotent (a second removal finds nothing running).
 */
export async function pauseWorkspace(
  db: Db,
  key: PlatformWorkspace,
  reason: string,
): Promise<{ found: boolean; pausedUsers: number; pausedTeamPosts: number }> {
  return db.transaction(async (tx) => {
    const [workspace] = await tx
      .update(workspaces)
      .set({ active: false })
      .where(and(eq(workspaces.platform, key.platform), eq(workspaces.externalId, key.externalId)))
      .returning({ id: workspaces.id });
    if (!workspace) return { found: false, pausedUsers: 0, pausedTeamPosts: 0 };
    const members = tx.select({ id: users.id }).from(users).where(eq(users.workspaceId, workspace.id));
    const paused = await tx
      .update(preferences)
      .set({ nextDueAt: null, pausedReason: reason, updatedAt: sql`now()` })
      .where(and(inArray(preferences.userId, members), eq(preferences.optedIn, true), isNull(preferences.pausedReason)))
      .returning({ userId: preferences.userId });
    const posts = await tx
      .update(teamPosts)
      .set({ nextDueAt: null, pausedReason: reason, updatedAt: sql`now()` })
      .where(and(eq(teamPosts.workspaceId, workspace.id), isNull(teamPosts.pausedReason)))
      .returning({ workspaceId: teamPosts.workspaceId });
    return { found: true, pausedUsers: paused.length, pausedTeamPosts: posts.length };
  });
}

/** Marks the workspace active again; its id, or null when Backcare never stored it. */
export async function reactivateWorkspace(db: Queryable, key: PlatformWorkspace): Promise<number | null> {
  const [workspace] = await db
    .update(workspaces)
    .set({ active: true })
    .where(and(eq(workspaces.platform, key.platform), eq(workspaces.externalId, key.externalId)))
    .returning({ id: workspaces.id });
  return workspace?.id ?? null;
}

/**
 * The preference rows the removal paused, locked for the caller's transaction: a concurrent restore waits and
 * then finds them resumed, so each person is resumed (and told) once.
 */
export async function lockPausedPeople(
  db: Queryable,
  workspaceId: number,
  reason: string,
): Promise<{ prefs: PreferencesRow; platformUserId: string }[]> {
  return db
    .select({ prefs: preferences, platformUserId: users.platformUserId })
    .from(preferences)
    .innerJoin(users, eq(users.id, preferences.userId))
    .where(and(eq(users.workspaceId, workspaceId), eq(preferences.pausedReason, reason)))
    .for('update', { of: preferences });
}

/** The team post the removal paused, locked like the people above. */
export async function lockPausedTeamPost(
  db: Queryable,
  workspaceId: number,
  reason: string,
): Promise<{ timezone: string; localTime: string; days: string[] } | null> {
  const [row] = await db
    .select({ timezone: teamPosts.timezone, localTime: teamPosts.localTime, days: teamPosts.days })
    .from(teamPosts)
    .where(and(eq(teamPosts.workspaceId, workspaceId), eq(teamPosts.pausedReason, reason)))
    .for('update');
  return row ?? null;
}

export async function resumeTeamPost(db: Queryable, workspaceId: number, nextDueAt: Date | null): Promise<void> {
  await db
    .update(teamPosts)
    .set({ pausedReason: null, nextDueAt, updatedAt: sql`now()` })
    .where(eq(teamPosts.workspaceId, workspaceId));
}
