import { and, eq } from 'drizzle-orm';
import type { CoreDeps } from '../../command.js';
import type { Platform } from '../../request.js';
import { auditLog, discordGuildSettings, workspaces } from '../../../db/schema.js';
import { ensureWorkspace } from '../../../db/users.js';

/** A workspace's lead role is read on every interaction there; a short cache keeps that off the database. */
const LEAD_ROLE_CACHE_MS = 60_000;

interface LeadRoleChange {
  platform: Platform;
  workspaceExternalId: string;
  workspaceName?: string | undefined;
  /** Platform id of whoever changes it (kept in the setting and the audit log). */
  changedBy: string;
  /** The role whose members count as team leads, or null to clear it. */
  roleId: string | null;
}

export interface LeadRoles {
  /** The role whose members count as team leads in this workspace, if one was chosen. */
  roleOf(platform: Platform, workspaceExternalId: string): Promise<string | null>;
  /** Chooses or clears the role, with an audit log entry, in one transaction. */
  set(change: LeadRoleChange): Promise<void>;
}

/** Workspace settings for who counts as a lead by platform role (Discord servers choose one with `lead-role`). */
export function createLeadRoles(deps: Pick<CoreDeps, 'db'>): LeadRoles {
  const { db } = deps;
  const cache = new Map<string, { roleId: string | null; at: number }>();
  const keyOf = (platform: Platform, externalId: string) => `${platform}:${externalId}`;

  return {
    async roleOf(platform, workspaceExternalId) {
      const key = keyOf(platform, workspaceExternalId);
      const cached = cache.get(key);
      if (cached && Date.now() - cached.at < LEAD_ROLE_CACHE_MS) return cached.roleId;
      const [row] = await db
        .select({ roleId: discordGuildSettings.leadRoleId })
        .from(discordGuildSettings)
        .innerJoin(workspaces, eq(workspaces.id, discordGuildSettings.workspaceId))
        .where(and(eq(workspaces.platform, platform), eq(workspaces.externalId, workspaceExternalId)));
      const roleId = row?.roleId ?? null;
      cache.set(key, { roleId, at: Date.now() });
      return roleId;
    },
    async set(change) {
      const workspace = await ensureWorkspace(db, {
        platform: change.platform,
        externalId: change.workspaceExternalId,
        name: change.workspaceName,
      });
      const { roleId, changedBy } = change;
      await db.transaction(async (tx) => {
        await tx
          .insert(discordGuildSettings)
          .values({ workspaceId: workspace.id, leadRoleId: roleId, updatedBy: changedBy })
          .onConflictDoUpdate({
            target: discordGuildSettings.workspaceId,
            set: { leadRoleId: roleId, updatedBy: changedBy, updatedAt: new Date() },
          });
        await tx.insert(auditLog).values({
          workspaceId: workspace.id,
          actor: changedBy,
          action: roleId ? `${change.platform}.lead_role.set` : `${change.platform}.lead_role.cleared`,
          subject: roleId,
        });
      });
      cache.delete(keyOf(change.platform, change.workspaceExternalId));
    },
  };
}
