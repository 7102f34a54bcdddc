import { and, eq, sql } from 'drizzle-orm';
import type { Queryable } from './client.js';
import {
  discordGuildSettings,
  inviteDms,
  leadGrants,
  users,
  workspaces,
  type UserRow,
  type WorkspaceRow,
} from './schema.js';

export interface WorkspaceKey {
  platform: string;
  externalId: string;
  name?: string | undefined;
}

/** Finds or creates a workspace; concurrent callers converge on one row thanks to the unique key. */
export async function ensureWorkspace(db: Queryable, key: WorkspaceKey): Promise<WorkspaceRow> {
  const [inserted] = await db
    .insert(workspaces)
    .values({ platform: key.platform, externalId: key.externalId, name: key.name ?? null })
    .onConflictDoNothing({ target: [workspaces.platform, workspaces.externalId] })
    .returning();
  if (inserted) return inserted;
  const existing = await findWorkspace(db, key);
  if (!existing) throw new Error('workspace vanished between insert and select');
  return existing;
}

export async function findWorkspace(db: Queryable, key: WorkspaceKey): Promise<WorkspaceRow | null> {
  const [row] = await db
    .select()
    .from(workspaces)
    .where(and(eq(workspaces.platform, key.platform), eq(workspaces.externalId, key.externalId)));
  return row ?? null;
}

export async function ensureUser(
  db: Queryable,
  workspaceId: number,
  platformUserId: string,
  displayName?: string,
): Promise<UserRow> {
  const [inserted] = await db
    .insert(users)
    .values({ workspaceId, platformUserId, displayName: displayName ?? null })
    .onConflictDoNothing({ target: [users.workspaceId, users.platformUserId] })
    .returning();
  if (inserted) return inserted;
  const existing = await findUser(db, workspaceId, platformUserId);
  if (!existing) throw new Error('user vanished between insert and select');
  return existing;
}

export async function findUser(db: Queryable, workspaceId: number, platformUserId: string): Promise<UserRow | null> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.workspaceId, workspaceId), eq(users.platformUserId, platformUserId)));
  return row ?? null;
}

/**
 * Deletes every row about one person in a workspace, in a single transaction: the user row cascades to
 * preferences, deliveries, activity and triage outcomes; lead grants and invitation records are keyed by platform
 * id and go explicitly (so a later channel invitation may reach them once more: their erasure request comes first).
 * Workspace data the person set up stays and loses the link to them: the team post (its foreign key sets null),
 * lead grants they gave others and the Discord lead role they chose (their platform id is cleared here). The
 * audit log keeps platform ids on purpose (see PRIVACY.md). Works whether or not Backcare has a user row for
 * them (an admin who only granted leads has none). Returns false when nothing was stored.
 */
export async function forgetPerson(
  db: Queryable,
  who: { workspaceId: number; platformUserId: string },
): Promise<boolean> {
  const { workspaceId, platformUserId } = who;
  return db.transaction(async (tx) => {
    const changed = [
      await tx
        .delete(leadGrants)
        .where(and(eq(leadGrants.workspaceId, workspaceId), eq(leadGrants.platformUserId, platformUserId)))
        .returning({ id: leadGrants.platformUserId }),
      await tx
        .delete(inviteDms)
        .where(and(eq(inviteDms.workspaceId, workspaceId), eq(inviteDms.platformUserId, platformUserId)))
        .returning({ id: inviteDms.id }),
      await tx
        .update(leadGrants)
        .set({ grantedBy: null })
        .where(and(eq(leadGrants.workspaceId, workspaceId), eq(leadGrants.grantedBy, platformUserId)))
        .returning({ id: leadGrants.platformUserId }),
      await tx
        .update(discordGuildSettings)
        .set({ updatedBy: null })
        .where(
          and(eq(discordGuildSettings.workspaceId, workspaceId), eq(discordGuildSettings.updatedBy, platformUserId)),
        )
        .returning({ id: discordGuildSettings.workspaceId }),
      await tx
        .delete(users)
        .where(and(eq(users.workspaceId, workspaceId), eq(users.platformUserId, platformUserId)))
        .returning({ id: users.id }),
    ];
    return changed.some((rows) => rows.length > 0);
  });
}

/** The DM channel a platform opened for a person, kept so the next nudge need not open it again. */
export async function rememberDmChannel(db: Queryable, userId: number, dmChannelId: string): Promise<void> {
  await db.execute(
    sql`update users set dm_channel_id = ${dmChannelId} where id = ${userId} and dm_channel_id is distinct from ${dmChannelId}`,
  );
}
