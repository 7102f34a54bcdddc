import { and, eq } from 'drizzle-orm';
import type { Queryable } from './client.js';
import { inviteDms, leadGrants, users, workspaces, type UserRow, type WorkspaceRow } from './schema.js';

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
 * Deletes every row about one person in a single transaction: the user row cascades to preferences,
 * deliveries, activity and triage outcomes; lead grants and invitation records are keyed by platform id and go
 * explicitly (so a later channel invitation may reach them once more: their erasure request comes first).
 * Returns false when there was nothing stored.
 */
export async function deleteUserData(db: Queryable, user: Pick<UserRow, 'id' | 'workspaceId' | 'platformUserId'>): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx
      .delete(leadGrants)
      .where(and(eq(leadGrants.workspaceId, user.workspaceId), eq(leadGrants.platformUserId, user.platformUserId)));
    await tx
      .delete(inviteDms)
      .where(and(eq(inviteDms.workspaceId, user.workspaceId), eq(inviteDms.platformUserId, user.platformUserId)));
    const deleted = await tx.delete(users).where(eq(users.id, user.id)).returning({ id: users.id });
    return deleted.length > 0;
  });
}
