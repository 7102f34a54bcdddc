import { and, count, desc, eq, gte } from 'drizzle-orm';
import { z } from 'zod';
import { defineAction, defineCommand, encodeActionValue, type Feature } from '../../command.js';
import { bullets, context, header, reply, text, type Reply } from '../../reply.js';
import { activityEvents, triageRecords } from '../../../db/schema.js';
import { countNudges, lastUnavailable } from '../../../db/deliveries.js';
import { findUser, findWorkspace, forgetPerson } from '../../../db/users.js';
import { loadPreferences } from '../../../db/preferences.js';
import { describePreferences } from '../settings/settings.js';
import { EXPORTS_LEFT_NOTE, exportMe, forgetExportFiles } from '../data-rights/data-rights.js';
import { triageRules } from '../triage/load.js';
import { defaultPreferences } from '../../preferences.js';
import { personalFields, personalFigures } from '../stats/personal.js';

/** A stored outcome code as people read it ("self-care", not `self_care`), from the triage rules' own names. */
function outcomeName(code: string): string {
  const outcomes: Record<string, { name: string }> = triageRules().outcomes;
  return Object.hasOwn(outcomes, code) ? outcomes[code]!.name : code.replace(/_/g, '-');
}

const me = defineCommand({
  name: 'me',
  summary: 'what Backcare stores about you',
  usage: '/backcare me [export]',
  options: [
    {
      type: 'string',
      name: 'export',
      description: 'download everything stored about you',
      choices: [{ value: 'export', label: 'export my data' }],
    },
  ],
  args: z
    .array(z.string())
    .max(1, '`me` takes at most one word: export')
    .refine((t) => t.length === 0 || t[0]!.toLowerCase() === 'export', '`me` takes only `export`'),
  async run(ctx, args) {
    if (args.length === 1) return exportMe(ctx);
    const found = await ctx.findUser();
    if (!found) {
      return reply('Backcare stores nothing about you.', [
        text(
          'Backcare stores nothing about you yet. Settings, activity and (only if you agree) triage outcomes are kept once you use them.',
        ),
      ]);
    }
    const { user } = found;
    const now = ctx.now();
    const weekAgo = new Date(now.getTime() - 7 * 24 * 60 * 60 * 1000);
    const prefs = await loadPreferences(ctx.db, user.id);
    const [[activityAll], [activityWeek], nudgeCount, triage, lastSkip] = await Promise.all([
      ctx.db.select({ n: count() }).from(activityEvents).where(eq(activityEvents.userId, user.id)),
      ctx.db
        .select({ n: count() })
        .from(activityEvents)
        .where(and(eq(activityEvents.userId, user.id), gte(activityEvents.occurredAt, weekAgo))),
      countNudges(ctx.db, user.id),
      ctx.db
        .select({ outcome: triageRecords.outcome, at: triageRecords.recordedAt })
        .from(triageRecords)
        .where(eq(triageRecords.userId, user.id))
        .orderBy(desc(triageRecords.recordedAt))
        .limit(5),
      // The last slot skipped because the person was busy (meeting, huddle, call), within the week: says why no nudge came.
      lastUnavailable(ctx.db, user.id, weekAgo),
    ]);
    const blocks: Reply['blocks'] = [header('What Backcare stores about you')];
    blocks.push(
      prefs ? { type: 'fields', fields: describePreferences(prefs, now) } : text('No settings saved: nudges are off.'),
    );
    // The person's own figures: only ever shown to them (team leads see aggregates only).
    const figures = await personalFigures(ctx.db, {
      userId: user.id,
      timezone: (prefs ?? defaultPreferences(ctx.actor.timezone)).timezone,
      workingDays: (prefs ?? defaultPreferences()).days,
      now,
    });
    blocks.push(text('*Your figures*'), {
      type: 'fields',
      fields: personalFields(figures, (id) => ctx.deps.library?.get(id)?.title),
    });
    blocks.push(
      bullets([
        `Activity records: ${activityAll?.n ?? 0} (${activityWeek?.n ?? 0} in the last 7 days)`,
        `Nudges recorded: ${nudgeCount}`,
        ...(lastSkip
          ? [
              `Last nudge skipped: ${lastSkip.reason ?? 'you were busy'} (${lastSkip.at.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
            ]
          : []),
        triage.length === 0
          ? 'Triage outcomes kept: none'
          : `Triage outcomes kept (only with your consent): ${triage.map((t) => `${outcomeName(t.outcome)} on ${t.at.toISOString().slice(0, 10)}`).join(', ')}`,
      ]),
      context('Only you can see this. `/backcare forget-me` deletes all of it.'),
    );
    return reply('What Backcare stores about you', blocks);
  },
});

const FORGET_TTL_SECONDS = 10 * 60;

function confirmForget(now: Date): Reply {
  return reply(
    'Delete everything Backcare stores about you?',
    [
      text(
        '*Delete everything Backcare stores about you?* Your settings, nudge history, activity and any triage outcomes you chose to keep will be gone for good.',
      ),
    ],
    {
      actions: [
        {
          type: 'button',
          actionId: 'forget.confirm',
          label: 'Yes, delete my data',
          style: 'danger',
          value: encodeActionValue({}, { ttlSeconds: FORGET_TTL_SECONDS, now }),
        },
        { type: 'button', actionId: 'forget.cancel', label: 'Cancel', value: encodeActionValue({}) },
      ],
    },
  );
}

const forgetMe = defineCommand({
  name: 'forget-me',
  summary: 'delete everything Backcare stores about you (asks first)',
  usage: '/backcare forget-me',
  options: [],
  args: z.array(z.string()).max(0, '`forget-me` takes no arguments'),
  run: async (ctx) => confirmForget(ctx.now()),
});

const forgetAsk = defineAction({
  actionId: 'forget.ask',
  value: z.object({}),
  run: async (ctx) => confirmForget(ctx.now()),
});

const forgetConfirm = defineAction({
  actionId: 'forget.confirm',
  value: z.object({}),
  async run(ctx) {
    const workspace = await findWorkspace(ctx.db, {
      platform: ctx.actor.platform,
      externalId: ctx.actor.workspaceExternalId,
    });
    // The internal id names the person's export directory: read it before the row goes.
    const user = workspace ? await findUser(ctx.db, workspace.id, ctx.actor.userExternalId) : null;
    const deleted = workspace
      ? await forgetPerson(ctx.db, { workspaceId: workspace.id, platformUserId: ctx.actor.userExternalId })
      : false;
    const filesGone = await forgetExportFiles(ctx, user?.id ?? null);
    ctx.log.info({ event: 'user.forgotten', deleted }, 'forget-me');
    const message = deleted
      ? `Done: everything Backcare stored about you has been deleted.${filesGone ? ' Any data export files you made went too.' : ` ${EXPORTS_LEFT_NOTE}`} Nudges are off.`
      : 'There was nothing stored about you, so there was nothing to delete.';
    return reply(message, [text(message)], { replaceOriginal: true });
  },
});

const forgetCancel = defineAction({
  actionId: 'forget.cancel',
  value: z.object({}),
  run: async () => reply('Nothing was deleted.', [text('Nothing was deleted.')], { replaceOriginal: true }),
});

export const meFeature: Feature = { commands: [me, forgetMe], actions: [forgetAsk, forgetConfirm, forgetCancel] };
