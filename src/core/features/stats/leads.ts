import { and, eq } from 'drizzle-orm';
import type { CommandContext } from '../../command.js';
import { leadGrants } from '../../../db/schema.js';
import { findWorkspace } from '../../../db/users.js';

/**
 * A team lead is a workspace admin (Slack admins and owners, Discord Manage Server, the console's local
 * user), someone the adapter knows as a lead (a Discord lead role), or someone granted it in `lead_grants`.
 */
export async function isLead(ctx: Pick<CommandContext, 'actor' | 'db'>): Promise<boolean> {
  const { actor } = ctx;
  if (actor.isAdmin === true || actor.isLead === true) return true;
  const workspace = await findWorkspace(ctx.db, { platform: actor.platform, externalId: actor.workspaceExternalId });
  if (!workspace) return false;
  const [grant] = await ctx.db
    .select({ userId: leadGrants.platformUserId })
    .from(leadGrants)
    .where(and(eq(leadGrants.workspaceId, workspace.id), eq(leadGrants.platformUserId, actor.userExternalId)))
    .limit(1);
  return grant !== undefined;
}
