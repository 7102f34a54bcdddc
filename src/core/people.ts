import { and, desc, eq, like, not, sql } from 'drizzle-orm';
import type { CoreDeps } from './command.js';
import type { Preferences } from './preferences.js';
import type { Actor, Platform } from './request.js';
import { loadPreferences } from '../db/preferences.js';
import { preferences, users, workspaces } from '../db/schema.js';
import { findUser, findWorkspace } from '../db/users.js';

/** What Backcare has stored for the person asking, or null when they never saved settings. Reads only. */
export async function storedPreferences(deps: Pick<CoreDeps, 'db'>, actor: Actor): Promise<Preferences | null> {
  const workspace = await findWorkspace(deps.db, { platform: actor.platform, externalId: actor.workspaceExternalId });
  const user = workspace ? await findUser(deps.db, workspace.id, actor.userExternalId) : null;
  return user ? loadPreferences(deps.db, user.id) : null;
}

/**
 * Where a person who writes outside any workspace (a Discord DM) belongs: the active workspace they last saved
 * settings in. Pseudo-workspaces for DMs (`dm-…`) never count.
 */
export async function homeWorkspaceOf(
  deps: Pick<CoreDeps, 'db'>,
  platform: Platform,
  platformUserId: string,
): Promise<string | undefined> {
  const [row] = await deps.db
    .select({ externalId: workspaces.externalId })
    .from(users)
    .innerJoin(workspaces, eq(users.workspaceId, workspaces.id))
    .leftJoin(preferences, eq(preferences.userId, users.id))
    .where(
      and(
        eq(workspaces.platform, platform),
        eq(users.platformUserId, platformUserId),
        eq(workspaces.active, true),
        not(like(workspaces.externalId, 'dm-%')),
      ),
    )
    .orderBy(sql`${preferences.updatedAt} desc nulls last`, desc(users.createdAt))
    .limit(1);
  return row?.externalId;
}

/** Platform ids of everyone Backcare knows in a workspace (the candidates a team resolver checks). */
export async function knownPeople(
  deps: Pick<CoreDeps, 'db'>,
  platform: Platform,
  workspaceExternalId: string,
): Promise<string[]> {
  const rows = await deps.db
    .select({ id: users.platformUserId })
    .from(users)
    .innerJoin(workspaces, eq(users.workspaceId, workspaces.id))
    .where(and(eq(workspaces.platform, platform), eq(workspaces.externalId, workspaceExternalId)));
  return rows.map((r) => r.id);
}
