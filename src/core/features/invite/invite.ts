import { z } from 'zod';
import { defineAction, defineCommand, encodeActionValue, type CommandContext, type Feature } from '../../command.js';
import { bullets, context, header, reply, text, type Reply } from '../../reply.js';
import { defaultPreferences, type Preferences } from '../../preferences.js';
import { settingsForm } from '../settings/settings.js';
import { DISCLAIMER } from '../guided/session.js';
import { loadPreferences } from '../../../db/preferences.js';
import { ensureWorkspace } from '../../../db/users.js';
import {
  claimInviteDm,
  markInviteDmFailed,
  recordInviteDeclined,
  releaseInviteDm,
  usersWithSettings,
} from './store.js';

export const INVITE_ACTIONS = { join: 'invite.join', decline: 'invite.decline' } as const;
/** One run DMs at most this many people: DMs are opened one by one (Slack rate-limits that); run again for the rest. */
export const MAX_INVITE_DMS_PER_RUN = 100;

/**
 * What Join opens: the settings form with the person's own timezone (where the platform knows it), 09:00–17:00 on
 * weekdays, every 60 minutes, stretch + breathing, and "yes" preselected. Nothing is stored until they submit it.
 */
function joinDefaults(timezone: string | undefined): Preferences {
  return { ...defaultPreferences(timezone), optedIn: true };
}

function announcement(): Reply {
  return reply(
    'Backcare: short desk breaks for your upper back',
    [
      header('Backcare: short desk breaks for your upper back'),
      text(
        'Backcare sends a gentle nudge during *your* working hours: a two-minute stretch or a breathing exercise, in a direct message. You choose the hours, how often and what kind; snooze, skip or stop any time.',
      ),
      bullets([
        'Only you can sign yourself up: nobody else can turn nudges on for you.',
        'Leads and admins only ever see team totals, never what one person did.',
        '`/backcare me` shows what is stored about you; `/backcare forget-me` deletes it.',
      ]),
      context(DISCLAIMER),
    ],
    {
      visibility: 'public',
      actions: [
        {
          type: 'button',
          actionId: INVITE_ACTIONS.join,
          label: 'Join',
          value: encodeActionValue({}),
          style: 'primary',
        },
        { type: 'button', actionId: INVITE_ACTIONS.decline, label: 'No thanks', value: encodeActionValue({}) },
      ],
    },
  );
}

function dmInvite(inviterName: string | undefined): Reply {
  const who = inviterName ? `${inviterName} invited you to Backcare` : 'You are invited to Backcare';
  return reply(
    `${who}: short desk breaks for your upper back`,
    [
      text(`*${who}*: short desk breaks for your upper back, during your working hours only, in a direct message.`),
      context(`This is the only invitation you will get. Nothing happens unless you join. ${DISCLAIMER}`),
    ],
    {
      visibility: 'dm',
      actions: [
        {
          type: 'button',
          actionId: INVITE_ACTIONS.join,
          label: 'Join',
          value: encodeActionValue({}),
          style: 'primary',
        },
        { type: 'button', actionId: INVITE_ACTIONS.decline, label: 'No thanks', value: encodeActionValue({ dm: 1 }) },
      ],
    },
  );
}

const argsSchema = z
  .array(z.string())
  .min(1, 'name the channel: `/backcare invite #channel` (add `dm` to also invite its members once by direct message)')
  .max(2, '`invite` takes a channel and optionally `dm`')
  .refine((t) => t.length < 2 || t[1]?.toLowerCase() === 'dm', 'the only word after the channel is `dm`')
  .transform((t) => ({ channel: t[0]!, dm: t.length === 2 }));

async function inviteMembers(ctx: CommandContext, channelId: string, workspaceId: number): Promise<string> {
  const messenger = ctx.deps.channelMessengers?.find((m) => m.platform === ctx.actor.platform);
  if (!messenger?.listMembers || !messenger.sendDm) {
    return ctx.actor.platform === 'discord'
      ? 'Direct-message invites are not available on Discord: listing a channel’s members needs the privileged Server Members intent, which Backcare does not ask for. The announcement is all there is.'
      : 'Direct-message invites are not available here: Backcare cannot list that channel’s members.';
  }
  const listed = await messenger.listMembers(ctx.actor, channelId);
  if (!listed.ok) return `No direct-message invites were sent: ${listed.message}`;
  const members = [...new Set(listed.platformUserIds)].filter((id) => id !== ctx.actor.userExternalId);
  const already = await usersWithSettings(ctx.db, workspaceId, members);
  let sent = 0;
  let failed = 0;
  let skipped = 0;
  let left = 0;
  /** Set when the platform keeps refusing for now: the rest wait for the next run rather than hammering it. */
  let stoppedBecause: string | undefined;
  for (const member of members) {
    if (already.has(member)) {
      skipped += 1;
      continue;
    }
    if (stoppedBecause !== undefined || sent + failed >= MAX_INVITE_DMS_PER_RUN) {
      left += 1;
      continue;
    }
    // The claim comes first: a person already invited, or who said no, is never messaged again.
    if (!(await claimInviteDm(ctx.db, workspaceId, member, ctx.now()))) {
      skipped += 1;
      continue;
    }
    const outcome = await messenger.sendDm(ctx.actor, member, dmInvite(ctx.actor.displayName));
    if (outcome.status === 'sent') sent += 1;
    else if (outcome.status === 'unreachable') {
      failed += 1;
      await markInviteDmFailed(ctx.db, workspaceId, member, ctx.now());
    } else {
      // Not this time: the claim goes back so the next run reaches this person (once), and the run stops here.
      await releaseInviteDm(ctx.db, workspaceId, member);
      stoppedBecause = outcome.reason;
      left += 1;
    }
  }
  ctx.log.info({ event: 'invite.dms', sent, failed, skipped, left, stoppedBecause }, 'invite DMs');
  const parts = [`Invited ${sent} ${sent === 1 ? 'person' : 'people'} by direct message`];
  if (skipped > 0) parts.push(`${skipped} skipped (already invited, said no, or already using Backcare)`);
  if (failed > 0) parts.push(`${failed} could not be reached`);
  if (left > 0) {
    parts.push(
      stoppedBecause !== undefined
        ? `${left} not yet (${stoppedBecause}): run it again in a few minutes for the rest; nobody gets two invitations`
        : `${left} not yet: at most ${MAX_INVITE_DMS_PER_RUN} per run, run it again for the rest`,
    );
  }
  return `${parts.join('; ')}.`;
}

/** `/backcare invite #channel [dm]`: one announcement with Join, and optionally one DM per member, ever. */
const invite = defineCommand({
  name: 'invite',
  summary: 'announce Backcare in a channel with a Join button (admins and leads)',
  usage: '/backcare invite #channel [dm]',
  examples: ['/backcare invite #design', '/backcare invite #design dm'],
  precondition: 'lead',
  args: argsSchema,
  async run(ctx, args) {
    const messenger = ctx.deps.channelMessengers?.find((m) => m.platform === ctx.actor.platform);
    if (!messenger) {
      return reply('Invitations need Slack or Discord.', [
        text('There are no channels here to post an invitation in; `/backcare invite` works on Slack and Discord.'),
      ]);
    }
    const channel = messenger.channelRef(args.channel);
    if (!channel.ok) return reply(channel.message, [text(channel.message)]);
    const channelId = channel.channelId;
    const posted = await messenger.post(ctx.actor, channelId, announcement());
    if (!posted.ok)
      return reply('The invitation was not posted.', [text(`The invitation was not posted: ${posted.message}`)]);
    ctx.log.info({ event: 'invite.posted', dm: args.dm }, 'invite announcement posted');
    const lines = ['Posted one announcement with a Join button. Nobody is signed up until they join themselves.'];
    if (args.dm) {
      const workspace = await ensureWorkspace(ctx.db, {
        platform: ctx.actor.platform,
        externalId: ctx.actor.workspaceExternalId,
        name: ctx.actor.workspaceName,
      });
      lines.push(await inviteMembers(ctx, channelId, workspace.id));
    }
    return reply(lines[0]!, lines.map(text));
  },
});

const join = defineAction({
  actionId: INVITE_ACTIONS.join,
  value: z.object({}),
  async run(ctx) {
    // Someone already set up sees their own settings; nothing is written either way until they submit.
    const found = await ctx.findUser();
    const current = found ? await loadPreferences(ctx.db, found.user.id) : null;
    const prefs = current ?? joinDefaults(ctx.actor.timezone);
    return { ...reply('Join Backcare', []), form: settingsForm(prefs) };
  },
});

const decline = defineAction({
  actionId: INVITE_ACTIONS.decline,
  value: z.object({ dm: z.literal(1).optional() }),
  async run(ctx, value) {
    const workspace = await ensureWorkspace(ctx.db, {
      platform: ctx.actor.platform,
      externalId: ctx.actor.workspaceExternalId,
      name: ctx.actor.workspaceName,
    });
    await recordInviteDeclined(ctx.db, workspace.id, ctx.actor.userExternalId, ctx.now());
    ctx.log.info({ event: 'invite.declined' }, 'invite declined');
    const message =
      'Understood: Backcare will not invite you again. If you change your mind, `/backcare settings` is always there.';
    // In the DM the invitation itself is replaced; on the shared announcement only the person sees the answer.
    return reply(message, [text(message)], value.dm === 1 ? { replaceOriginal: true } : {});
  },
});

export const inviteFeature: Feature = { commands: [invite], actions: [join, decline] };
