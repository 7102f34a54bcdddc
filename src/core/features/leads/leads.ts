import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { defineCommand, type CommandContext, type Feature } from '../../command.js';
import { bullets, context, reply, text, type Reply } from '../../reply.js';
import { auditLog, leadGrants } from '../../../db/schema.js';
import { findWorkspace } from '../../../db/users.js';

/**
 * `/backcare lead add|remove|list @person`: workspace admins grant team-lead rights (which open the team
 * stats) to people who are not admins themselves. Every change is written to the audit log.
 * Adapters hand mentions over as `<@platform-user-id>` (Slack `<@U…|name>` is normalised by the adapter).
 */

const platformUserId = z
  .string()
  .trim()
  .transform(
    (raw) => /^<@!?([A-Za-z0-9._-]{1,100})>$/.exec(raw)?.[1] ?? /^@?([A-Za-z0-9._-]{1,100})$/.exec(raw)?.[1] ?? '',
  )
  .pipe(z.string().min(1, 'name the person with an @mention'));

const leadArgs = z.union(
  [
    z.tuple([z.enum(['add', 'remove']), platformUserId]).transform(([verb, user]) => ({ verb, user })),
    z.tuple([z.literal('list')]).transform(() => ({ verb: 'list' as const, user: null })),
  ],
  { error: 'use `lead add @person`, `lead remove @person` or `lead list`' },
);

const mention = (id: string) => `<@${id}>`;

async function grant(ctx: CommandContext, user: string): Promise<Reply> {
  const { workspace } = await ctx.ensureUser();
  const added = await ctx.db.transaction(async (tx) => {
    const inserted = await tx
      .insert(leadGrants)
      .values({
        workspaceId: workspace.id,
        platformUserId: user,
        grantedBy: ctx.actor.userExternalId,
        grantedAt: ctx.now(),
      })
      .onConflictDoNothing()
      .returning({ user: leadGrants.platformUserId });
    if (inserted.length === 0) return false;
    await tx.insert(auditLog).values({
      workspaceId: workspace.id,
      actor: ctx.actor.userExternalId,
      action: 'lead.grant',
      subject: user,
      at: ctx.now(),
    });
    return true;
  });
  ctx.log.info({ event: 'lead.grant', changed: added }, 'lead grant');
  const message = added
    ? `${mention(user)} is now a team lead and can see the team's anonymous figures.`
    : `${mention(user)} is already a team lead.`;
  return reply(message, [
    text(message),
    context('Team leads see only team-level figures for groups large enough to stay anonymous.'),
  ]);
}

async function revoke(ctx: CommandContext, user: string): Promise<Reply> {
  const workspace = await findWorkspace(ctx.db, {
    platform: ctx.actor.platform,
    externalId: ctx.actor.workspaceExternalId,
  });
  const removed = workspace
    ? await ctx.db.transaction(async (tx) => {
        const deleted = await tx
          .delete(leadGrants)
          .where(and(eq(leadGrants.workspaceId, workspace.id), eq(leadGrants.platformUserId, user)))
          .returning({ user: leadGrants.platformUserId });
        if (deleted.length === 0) return false;
        await tx.insert(auditLog).values({
          workspaceId: workspace.id,
          actor: ctx.actor.userExternalId,
          action: 'lead.revoke',
          subject: user,
          at: ctx.now(),
        });
        return true;
      })
    : false;
  ctx.log.info({ event: 'lead.revoke', changed: removed }, 'lead revoke');
  const message = removed
    ? `${mention(user)} is no longer a team lead.`
    : `${mention(user)} was not granted team-lead rights, so there was nothing to remove. (Workspace admins and owners are always leads.)`;
  return reply(message, [text(message)]);
}

async function list(ctx: CommandContext): Promise<Reply> {
  const workspace = await findWorkspace(ctx.db, {
    platform: ctx.actor.platform,
    externalId: ctx.actor.workspaceExternalId,
  });
  const rows = workspace
    ? await ctx.db
        .select()
        .from(leadGrants)
        .where(eq(leadGrants.workspaceId, workspace.id))
        .orderBy(asc(leadGrants.grantedAt))
    : [];
  const note = context('Workspace admins and owners are team leads without a grant.');
  if (rows.length === 0)
    return reply('No one has been granted team-lead rights.', [
      text('No one has been granted team-lead rights.'),
      note,
    ]);
  return reply(`Team leads granted: ${rows.length}`, [
    text('*Team leads granted by an admin*'),
    bullets(
      rows.map(
        (r) =>
          `${mention(r.platformUserId)}, granted by ${r.grantedBy ? mention(r.grantedBy) : 'an admin whose data has since been deleted'} on ${r.grantedAt.toISOString().slice(0, 10)}`,
      ),
    ),
    note,
  ]);
}

const lead = defineCommand({
  name: 'lead',
  aliases: ['leads'],
  summary: 'admins: grant or remove team-lead rights (team stats), or list who has them',
  usage: '/backcare lead add|remove|list [@person]',
  examples: ['/backcare lead add @sam', '/backcare lead remove @sam', '/backcare lead list'],
  precondition: 'admin',
  options: [
    {
      type: 'string',
      name: 'action',
      description: 'list (default), add or remove',
      choices: [{ value: 'list' }, { value: 'add' }, { value: 'remove' }],
    },
    { type: 'person', name: 'person', description: 'who (for add and remove)' },
  ],
  args: z
    .array(z.string())
    .transform((tokens) => (tokens.length === 0 ? ['list'] : [tokens[0]!.toLowerCase(), ...tokens.slice(1)]))
    .pipe(leadArgs),
  async run(ctx, args) {
    if (args.verb === 'list') return list(ctx);
    return args.verb === 'add' ? grant(ctx, args.user) : revoke(ctx, args.user);
  },
});

export const leadsFeature: Feature = { commands: [lead] };
