import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq, getTableName, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { defineAction, defineCommand, encodeActionValue, type CommandContext, type Feature } from '../../command.js';
import { context, header, reply, text, type Reply } from '../../reply.js';
import { queryRows, type Queryable } from '../../../db/client.js';
import {
  actionRefs,
  auditLog,
  formDrafts,
  discordGuildSettings,
  inviteDms,
  leadGrants,
  type UserRow,
  type WorkspaceRow,
} from '../../../db/schema.js';
import { findUser, findWorkspace, forgetPerson } from '../../../db/users.js';
import { deleteExportFiles, writeExportFile } from '../../export-files.js';

/**
 * Data rights: `/backcare me export` (a JSON file of everything stored about the person) and
 * `/backcare admin forget @user` (a workspace admin deletes a departed person's data, audited).
 */

const EXPORT_FORMAT = 'backcare-export/1';

interface UserExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  workspace: { platform: string; externalId: string; name: string | null };
  user: { platformUserId: string; displayName: string | null; dmChannelId: string | null; createdAt: string };
  /** Every row of every table that points at this person (found from the foreign keys, so new tables are included). */
  tables: Record<string, Record<string, unknown>[]>;
  /** Team-lead rights granted to this person. */
  leadGrants: { grantedAt: string }[];
  /** The one-time invitation by direct message, if a lead sent one: sent, failed or declined. */
  invitations: { status: string; at: string }[];
  /** Audit entries where this person acted or was acted upon; the other party is not named. */
  audit: { action: string; role: 'actor' | 'subject'; at: string; details: Record<string, unknown> | null }[];
  /** Workspace settings this person last changed (e.g. the Discord lead role). */
  settingsChanged: { setting: string; value: string | null; at: string }[];
}

const userForeignKeysSchema = z.array(
  z.object({ table_name: z.string().regex(/^[a-z_][a-z0-9_]*$/), column_name: z.string().regex(/^[a-z_][a-z0-9_]*$/) }),
);

/** Tables and columns holding a foreign key to users.id, read from the catalogue (works on PGlite and PostgreSQL). */
async function userForeignKeys(db: Queryable): Promise<{ table_name: string; column_name: string }[]> {
  const rows = await queryRows<unknown>(
    db,
    sql`select cl.relname as table_name, a.attname as column_name
        from pg_constraint c
        join pg_class cl on cl.oid = c.conrelid
        join pg_namespace n on n.oid = cl.relnamespace
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
        where c.contype = 'f' and c.confrelid = 'public.users'::regclass and n.nspname = 'public'
        order by cl.relname, a.attname`,
  );
  return userForeignKeysSchema.parse(rows);
}

const jsonRowsSchema = z.array(z.record(z.string(), z.unknown()));

/** Gathers everything stored about one person, and only about them. */
async function collectUserData(db: Queryable, workspace: WorkspaceRow, user: UserRow, now: Date): Promise<UserExport> {
  const tables: Record<string, Record<string, unknown>[]> = {};
  for (const { table_name, column_name } of await userForeignKeys(db)) {
    // Identifiers come from the catalogue and match a strict pattern; the id is a bound parameter.
    const [row] = await queryRows<{ rows: unknown }>(
      db,
      sql`select coalesce(json_agg(t), '[]'::json) as rows from ${sql.identifier(table_name)} t where ${sql.identifier(column_name)} = ${user.id}`,
    );
    const parsed = jsonRowsSchema.parse(typeof row?.rows === 'string' ? JSON.parse(row.rows) : (row?.rows ?? []));
    const key = tables[table_name] ? `${table_name}.${column_name}` : table_name;
    tables[key] = parsed;
  }

  // Kept by platform ids rather than a foreign key (a form can be open before the user row exists).
  for (const table of [formDrafts, actionRefs]) {
    const owned = await db
      .select()
      .from(table)
      .where(
        and(
          eq(table.platform, workspace.platform),
          eq(table.workspaceExternalId, workspace.externalId),
          eq(table.platformUserId, user.platformUserId),
        ),
      );
    if (owned.length > 0) tables[getTableName(table)] = owned;
  }

  const grants = await db
    .select({ grantedAt: leadGrants.grantedAt })
    .from(leadGrants)
    .where(and(eq(leadGrants.workspaceId, workspace.id), eq(leadGrants.platformUserId, user.platformUserId)));
  const invitations = await db
    .select({ status: inviteDms.status, at: inviteDms.updatedAt })
    .from(inviteDms)
    .where(and(eq(inviteDms.workspaceId, workspace.id), eq(inviteDms.platformUserId, user.platformUserId)));
  const audits = await db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.workspaceId, workspace.id),
        or(eq(auditLog.actor, user.platformUserId), eq(auditLog.subject, user.platformUserId)),
      ),
    )
    .orderBy(auditLog.at);
  const guildSettings = await db
    .select()
    .from(discordGuildSettings)
    .where(
      and(eq(discordGuildSettings.workspaceId, workspace.id), eq(discordGuildSettings.updatedBy, user.platformUserId)),
    );

  return {
    format: EXPORT_FORMAT,
    exportedAt: now.toISOString(),
    workspace: { platform: workspace.platform, externalId: workspace.externalId, name: workspace.name },
    user: {
      platformUserId: user.platformUserId,
      displayName: user.displayName,
      dmChannelId: user.dmChannelId,
      createdAt: user.createdAt.toISOString(),
    },
    tables,
    leadGrants: grants.map((g) => ({ grantedAt: g.grantedAt.toISOString() })),
    invitations: invitations.map((i) => ({ status: i.status, at: i.at.toISOString() })),
    // When the person only appears as the subject, the entry's details describe someone else's action: left out.
    audit: audits.map((a) => {
      const role = a.actor === user.platformUserId ? 'actor' : 'subject';
      return { action: a.action, role, at: a.at.toISOString(), details: role === 'actor' ? (a.details ?? null) : null };
    }),
    settingsChanged: guildSettings.map((g) => ({
      setting: 'discord lead role',
      value: g.leadRoleId,
      at: g.updatedAt.toISOString(),
    })),
  };
}

export const defaultExportDir = () => path.join(tmpdir(), 'backcare-exports');

/**
 * Deletes a forgotten person's export files, after their rows are gone. A failure is logged and reported to the
 * caller (the daily clean-up still removes the files within a day); it never undoes the deletion.
 */
export async function forgetExportFiles(
  ctx: Pick<CommandContext, 'deps' | 'log'>,
  userId: number | null,
): Promise<boolean> {
  if (userId === null) return true;
  try {
    const removed = await deleteExportFiles(ctx.deps.exportDir ?? defaultExportDir(), userId);
    if (removed > 0)
      ctx.log.info({ event: 'data.exports_deleted', files: removed }, 'export files deleted with the person');
    return true;
  } catch (error) {
    ctx.log.error({ event: 'data.exports_delete_failed', err: error }, 'export files could not be deleted');
    return false;
  }
}

export const EXPORTS_LEFT_NOTE =
  'An earlier export file could not be removed just now; the daily clean-up removes it within a day.';

/** `/backcare me export`: called by the `me` command. */
export async function exportMe(ctx: CommandContext): Promise<Reply> {
  const found = await ctx.findUser();
  if (!found) {
    return reply('Backcare stores nothing about you.', [
      text('Backcare stores nothing about you, so there is nothing to export.'),
    ]);
  }
  const now = ctx.now();
  const data = await collectUserData(ctx.db, found.workspace, found.user, now);
  const file = await writeExportFile(ctx.deps.exportDir ?? defaultExportDir(), found.user.id, data);
  const rows =
    Object.values(data.tables).reduce((n, t) => n + t.length, 0) +
    data.leadGrants.length +
    data.invitations.length +
    data.audit.length;
  ctx.log.info({ event: 'data.exported', rows }, 'data export written');
  const filename = `backcare-export-${now.toISOString().slice(0, 10)}.json`;
  return reply(
    'Your Backcare data export',
    [
      header('Your Backcare data'),
      text(`Everything Backcare stores about you (${rows} records besides your profile), as JSON.`),
      { type: 'file', path: file, filename, alt: 'Your Backcare data export (JSON)' },
      context(
        'It holds personal data: keep it somewhere safe. `/backcare forget-me` deletes everything Backcare stores about you.',
      ),
    ],
    { visibility: 'dm' },
  );
}

/** Slack `<@U123|name>`, Discord `<@123>` / `<@!123>`, or a plain `@name` / `name` (console). */
export function parseMention(token: string): string | null {
  const platformMention = /^<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>$/.exec(token);
  if (platformMention) return platformMention[1]!;
  const plain = /^@?([A-Za-z0-9._-]{1,100})$/.exec(token);
  return plain ? plain[1]! : null;
}

const mentionSchema = z.string().transform((token, ctx) => {
  const id = parseMention(token);
  if (!id) {
    ctx.addIssue({ code: 'custom', message: `"${token}" is not a person: mention them, like @name` });
    return z.NEVER;
  }
  return id;
});

const adminArgs = z
  .array(z.string())
  .refine((t) => t[0]?.toLowerCase() === 'forget', 'the admin command knows `forget @user`')
  .refine((t) => t.length === 2, 'name exactly one person: `/backcare admin forget @user`')
  .transform((t) => t[1]!)
  .pipe(mentionSchema);

const FORGET_TTL_SECONDS = 10 * 60;

const admin = defineCommand({
  name: 'admin',
  summary: 'workspace admins: delete a departed person’s data (asks first, audited)',
  usage: '/backcare admin forget @user',
  examples: ['/backcare admin forget @sam'],
  precondition: 'admin',
  options: [
    {
      type: 'string',
      name: 'action',
      description: 'what to do',
      required: true,
      choices: [{ value: 'forget', label: 'forget a person (delete their data)' }],
    },
    { type: 'person', name: 'person', description: 'whose data', required: true },
  ],
  args: adminArgs,
  async run(ctx, target) {
    return reply(
      `Delete everything Backcare stores about ${target}?`,
      [
        text(
          `*Delete everything Backcare stores about <@${target}>?* Their settings, nudge history, activity and any triage outcomes they kept will be gone for good. This is recorded in the audit log.`,
        ),
      ],
      {
        actions: [
          {
            type: 'button',
            actionId: 'admin.forget.confirm',
            label: 'Yes, delete their data',
            style: 'danger',
            value: encodeActionValue({ u: target }, { ttlSeconds: FORGET_TTL_SECONDS, now: ctx.now() }),
          },
          { type: 'button', actionId: 'admin.forget.cancel', label: 'Cancel', value: encodeActionValue({}) },
        ],
      },
    );
  },
});

/**
 * Deletes one person's data in the admin's workspace and writes the audit row in the same transaction; `userId` is
 * the internal id they had (their export files are found by it), null when Backcare had no user row for them.
 */
async function adminForget(
  db: Queryable,
  who: { workspace: WorkspaceRow; adminPlatformUserId: string; targetPlatformUserId: string },
  now: Date,
): Promise<{ deleted: boolean; userId: number | null }> {
  return db.transaction(async (tx) => {
    const target = await findUser(tx, who.workspace.id, who.targetPlatformUserId);
    const deleted = await forgetPerson(tx, { workspaceId: who.workspace.id, platformUserId: who.targetPlatformUserId });
    await tx.insert(auditLog).values({
      workspaceId: who.workspace.id,
      actor: who.adminPlatformUserId,
      action: 'admin.forget',
      subject: who.targetPlatformUserId,
      details: { deleted },
      at: now,
    });
    return { deleted, userId: target?.id ?? null };
  });
}

const forgetConfirm = defineAction({
  actionId: 'admin.forget.confirm',
  value: z.object({ u: z.string().min(1).max(100) }),
  // The button could be forwarded or replayed: admin rights are checked again when it is pressed.
  precondition: 'admin',
  async run(ctx, { u: target }) {
    const workspace = await findWorkspace(ctx.db, {
      platform: ctx.actor.platform,
      externalId: ctx.actor.workspaceExternalId,
    });
    const { deleted, userId } = workspace
      ? await adminForget(
          ctx.db,
          { workspace, adminPlatformUserId: ctx.actor.userExternalId, targetPlatformUserId: target },
          ctx.now(),
        )
      : { deleted: false, userId: null };
    const filesGone = await forgetExportFiles(ctx, userId);
    ctx.log.info({ event: 'admin.forget', deleted }, 'admin forget');
    const message = deleted
      ? `Done: everything Backcare stored about <@${target}> has been deleted.${filesGone ? ' Any data export files of theirs went too.' : ` ${EXPORTS_LEFT_NOTE}`} The deletion is recorded in the audit log.`
      : `Backcare stored nothing about <@${target}>, so there was nothing to delete.`;
    return reply(message, [text(message)], { replaceOriginal: true });
  },
});

const forgetCancel = defineAction({
  actionId: 'admin.forget.cancel',
  value: z.object({}),
  run: async () => reply('Nothing was deleted.', [text('Nothing was deleted.')], { replaceOriginal: true }),
});

export const dataRightsFeature: Feature = { commands: [admin], actions: [forgetConfirm, forgetCancel] };
