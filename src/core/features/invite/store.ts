import { and, eq, inArray } from 'drizzle-orm';
import type { Queryable } from '../../../db/client.js';
import { inviteDms, preferences, users } from '../../../db/schema.js';

/**
 * Claims the one DM invite for this person: true only for the first caller ever (the unique key decides, so two
 * leads inviting overlapping channels at once still send one DM). A refusal already stored makes it false.
 */
export async function claimInviteDm(
  db: Queryable,
  workspaceId: number,
  platformUserId: string,
  at: Date,
): Promise<boolean> {
  const inserted = await db
    .insert(inviteDms)
    .values({ workspaceId, platformUserId, status: 'sent', createdAt: at, updatedAt: at })
    .onConflictDoNothing({ target: [inviteDms.workspaceId, inviteDms.platformUserId] })
    .returning({ id: inviteDms.id });
  return inserted.length > 0;
}

/** The DM could not be delivered; the row stays so the invite is not retried (no spam by retry). */
export async function markInviteDmFailed(
  db: Queryable,
  workspaceId: number,
  platformUserId: string,
  at: Date,
): Promise<void> {
  await db
    .update(inviteDms)
    .set({ status: 'failed', updatedAt: at })
    .where(
      and(
        eq(inviteDms.workspaceId, workspaceId),
        eq(inviteDms.platformUserId, platformUserId),
        eq(inviteDms.status, 'sent'),
      ),
    );
}

/**
 * The DM was not sent this time (rate limit, platform trouble): the claim is given back so a later run invites the
 * person, still once. Only our own unanswered claim is removed; a "no thanks" stored meanwhile stays.
 */
export async function releaseInviteDm(db: Queryable, workspaceId: number, platformUserId: string): Promise<void> {
  await db
    .delete(inviteDms)
    .where(
      and(
        eq(inviteDms.workspaceId, workspaceId),
        eq(inviteDms.platformUserId, platformUserId),
        eq(inviteDms.status, 'sent'),
      ),
    );
}

/** "No thanks": stored whether or not a DM was ever sent, so none will be. */
export async function recordInviteDeclined(
  db: Queryable,
  workspaceId: number,
  platformUserId: string,
  at: Date,
): Promise<void> {
  await db
    .insert(inviteDms)
    .values({ workspaceId, platformUserId, status: 'declined', createdAt: at, updatedAt: at })
    .onConflictDoUpdate({
      target: [inviteDms.workspaceId, inviteDms.platformUserId],
      set: { status: 'declined', updatedAt: at },
    });
}

/** Of these people, the ones who already have Backcare settings (they need no invite). */
export async function usersWithSettings(
  db: Queryable,
  workspaceId: number,
  platformUserIds: readonly string[],
): Promise<Set<string>> {
  if (platformUserIds.length === 0) return new Set();
  const rows = await db
    .select({ platformUserId: users.platformUserId })
    .from(users)
    .innerJoin(preferences, eq(preferences.userId, users.id))
    .where(and(eq(users.workspaceId, workspaceId), inArray(users.platformUserId, [...platformUserIds])));
  return new Set(rows.map((r) => r.platformUserId));
}
