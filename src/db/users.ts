import { and, eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { batcherPer, createBatcher } from './batcher.js';
import { queryRows, type Queryable } from './client.js';
import {
  actionRefs,
  discordGuildSettings,
  formDrafts,
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

/** Rows keyed by a workspace's platform and external id (not its row id) that belong to this workspace. */
const sameWorkspace = (table: typeof formDrafts | typeof actionRefs, workspaceId: number): SQL =>
  sql`(${table.platform}, ${table.workspaceExternalId}) in (select platform, external_id from ${workspaces} where id = ${workspaceId})`;

/**
 * Deletes every row about one person in a workspace, in a single transaction: the user row cascades to
 * preferences, deliveries, activity and triage outcomes; lead grants and invitation records are keyed by platform
 * id and go explicitly (so a later channel invitation may reach them once more: their erasure request comes first),
 * and so do forms they were filling in and the button references of messages sent to them.
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
      // Drafts and button references are keyed by platform ids (a form can be open before a user row exists).
      await tx
        .delete(formDrafts)
        .where(and(eq(formDrafts.platformUserId, platformUserId), sameWorkspace(formDrafts, workspaceId)))
        .returning({ id: formDrafts.id }),
      await tx
        .delete(actionRefs)
        .where(and(eq(actionRefs.platformUserId, platformUserId), sameWorkspace(actionRefs, workspaceId)))
        .returning({ id: actionRefs.key }),
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

/** Who a request comes from: the workspace (created if new) and the person in it (created if new). */
export interface IdentityKey extends WorkspaceKey {
  platformUserId: string;
  displayName?: string | undefined;
}

export interface Identity {
  workspace: WorkspaceRow;
  user: UserRow;
}

const identityRowSchema = z.object({
  n: z.coerce.number().int(),
  w_id: z.coerce.number().int(),
  w_platform: z.string(),
  w_external_id: z.string(),
  w_name: z.string().nullable(),
  w_timezone: z.string(),
  w_active: z.boolean(),
  w_created_at: z.coerce.date(),
  u_id: z.coerce.number().int(),
  u_workspace_id: z.coerce.number().int(),
  u_platform_user_id: z.string(),
  u_display_name: z.string().nullable(),
  u_dm_channel_id: z.string().nullable(),
  u_created_at: z.coerce.date(),
});

/**
 * `ensureWorkspace` + `ensureUser` for many requests in ONE statement (one round trip, where the pair took up to
 * four): existing rows are read, missing ones inserted, in data-modifying CTEs. Nothing is written when both
 * rows exist (the steady state), so no lock is taken and no identity value is spent. A row another transaction
 * inserted after this statement's snapshot comes back from neither half; those few requests go round again.
 */
export async function ensureIdentities(db: Queryable, keys: readonly IdentityKey[]): Promise<Identity[]> {
  const found = new Map<number, Identity>();
  for (let attempt = 0; attempt < 3 && found.size < keys.length; attempt += 1) {
    const pending = keys.map((key, n) => ({ key, n })).filter(({ n }) => !found.has(n));
    for (const row of await queryRows<unknown>(db, identityStatement(pending))) {
      const r = identityRowSchema.parse(row);
      found.set(r.n, {
        workspace: {
          id: r.w_id,
          platform: r.w_platform,
          externalId: r.w_external_id,
          name: r.w_name,
          timezone: r.w_timezone,
          active: r.w_active,
          createdAt: r.w_created_at,
        },
        user: {
          id: r.u_id,
          workspaceId: r.u_workspace_id,
          platformUserId: r.u_platform_user_id,
          displayName: r.u_display_name,
          dmChannelId: r.u_dm_channel_id,
          createdAt: r.u_created_at,
        },
      });
    }
  }
  return keys.map((_, n) => {
    const identity = found.get(n);
    if (!identity) throw new Error('workspace or user vanished between insert and select');
    return identity;
  });
}

function identityStatement(pending: { key: IdentityKey; n: number }[]): SQL {
  const wanted = sql.join(
    pending.map(
      ({ key, n }) =>
        sql`(${n}::int, ${key.platform}::text, ${key.externalId}::text, ${key.name ?? null}::text, ${key.platformUserId}::text, ${key.displayName ?? null}::text)`,
    ),
    sql`, `,
  );
  // `distinct on` because two requests of one batch may name the same workspace or person (ON CONFLICT cannot
  // take a row twice in one statement); the rows inserted here are seen only through RETURNING.
  return sql`
    with wanted (n, platform, external_id, name, platform_user_id, display_name) as (values ${wanted}),
    found_ws as (
      select x.* from workspaces x where (x.platform, x.external_id) in (select platform, external_id from wanted)
    ),
    new_ws as (
      insert into workspaces (platform, external_id, name)
      select distinct on (w.platform, w.external_id) w.platform, w.external_id, w.name from wanted w
      where not exists (select 1 from found_ws x where x.platform = w.platform and x.external_id = w.external_id)
      order by w.platform, w.external_id, w.n
      on conflict (platform, external_id) do nothing
      returning *
    ),
    ws as (select * from found_ws union all select * from new_ws),
    pairs as (
      select w.n, ws.id as workspace_id, w.platform_user_id, w.display_name
      from wanted w join ws on ws.platform = w.platform and ws.external_id = w.external_id
    ),
    found_us as (
      select u.* from users u
      where (u.workspace_id, u.platform_user_id) in (select workspace_id, platform_user_id from pairs)
    ),
    new_us as (
      insert into users (workspace_id, platform_user_id, display_name)
      select distinct on (p.workspace_id, p.platform_user_id) p.workspace_id, p.platform_user_id, p.display_name
      from pairs p
      where not exists (
        select 1 from found_us u where u.workspace_id = p.workspace_id and u.platform_user_id = p.platform_user_id
      )
      order by p.workspace_id, p.platform_user_id, p.n
      on conflict (workspace_id, platform_user_id) do nothing
      returning *
    ),
    us as (select * from found_us union all select * from new_us)
    select p.n,
      ws.id as w_id, ws.platform as w_platform, ws.external_id as w_external_id, ws.name as w_name,
      ws.timezone as w_timezone, ws.active as w_active, ws.created_at as w_created_at,
      us.id as u_id, us.workspace_id as u_workspace_id, us.platform_user_id as u_platform_user_id,
      us.display_name as u_display_name, us.dm_channel_id as u_dm_channel_id, us.created_at as u_created_at
    from pairs p
    join ws on ws.id = p.workspace_id
    join us on us.workspace_id = p.workspace_id and us.platform_user_id = p.platform_user_id`;
}

/** ensureIdentities for one request at a time, grouped with whatever other requests ask at the same moment. */
export const identityOf = batcherPer((db: Queryable) =>
  createBatcher<IdentityKey, Identity>({ run: (keys) => ensureIdentities(db, keys) }),
);
