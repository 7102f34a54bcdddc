import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { defineAction, defineCommand, encodeActionValue, type CommandContext, type Feature } from '../../command.js';
import {
  buildNudgeMessage,
  fewerInterval,
  NUDGE_ACTIONS,
  NUDGE_BUTTON_TTL_SECONDS,
  SNOOZE_MINUTES,
  type NudgeRoutine,
  type NudgeRoutineSource,
} from '../../nudge-message.js';
import { nudgeSourceFor, type WorkspaceContext } from '../../content/workspace-routines.js';
import { clockTimeSchema, describeDays, describeInterval, type NudgeKind, type Weekday } from '../../preferences.js';
import { context, reply, text, type Reply } from '../../reply.js';
import { resolveChannel } from '../../channel-messenger.js';
import { currentPreferences, storePreferences } from '../../settings-service.js';
import { queryRows } from '../../../db/client.js';
import { recordActivity } from '../../../db/activity.js';
import {
  answerNudge,
  insertSentNudge,
  recentRoutineIds,
  undoStopAnswer,
  type NudgeAnswer,
} from '../../../db/deliveries.js';
import { deleteTeamPost, loadTeamPost, saveTeamPost, teamPostSettingsSchema } from '../../../db/team-posts.js';

/** Chooses the routine for a nudge the way the content library rotates them, from the person's workspace's library. */
export async function chooseNudgeRoutine(
  ctx: WorkspaceContext,
  userId: number,
  kinds: readonly NudgeKind[],
  given?: NudgeRoutineSource,
): Promise<NudgeRoutine> {
  const source = given ?? (await nudgeSourceFor(ctx));
  const picked = source.pickForNudge({
    allowed: kinds,
    recentIds: await recentRoutineIds(ctx.db, { kind: 'person', userId }),
  });
  if (picked) return picked.routine;
  // The person's kinds have no short routines at all: any nudge beats none.
  const anyKind = source.pickForNudge({ allowed: ['stretch', 'breathing'], recentIds: [] });
  if (!anyKind) throw new Error('the content library has no routine short enough for a nudge');
  return anyKind.routine;
}

/**
 * `/backcare nudge now`: the next nudge, straight away, on whatever platform the person is on (the
 * console's way to try the flow without waiting). It is stored like a scheduled one, so its buttons work the same.
 */
const nudgeNow = defineCommand({
  name: 'nudge',
  summary: 'get a desk-break nudge right now',
  usage: '/backcare nudge now',
  options: [
    {
      type: 'string',
      name: 'when',
      description: 'get your next nudge now',
      required: true,
      choices: [{ value: 'now' }],
    },
  ],
  examples: ['/backcare nudge now'],
  args: z
    .array(z.string())
    .max(1, 'nudge takes one word: now')
    .transform((t) => t[0]?.toLowerCase() ?? 'now')
    .pipe(z.literal('now', { error: 'nudge takes one word: now' })),
  async run(ctx) {
    const { workspace, user } = await ctx.ensureUser();
    const prefs = await currentPreferences(ctx.db, user.id, ctx.actor.timezone);
    const now = ctx.now();
    const routine = await chooseNudgeRoutine(ctx, user.id, prefs.kinds);
    const deliveryId = await insertSentNudge(ctx.db, user.id, now, routine.id, now);
    if (deliveryId === null)
      return reply('One nudge at a time, please.', [text('You just asked for one; give it a moment.')]);
    await recordActivity(
      ctx.db,
      { userId: user.id, workspaceId: workspace.id },
      { kind: 'nudge', outcome: 'delivered', source: 'nudge', routineId: routine.id },
      now,
    );
    const message = buildNudgeMessage(routine, deliveryId, now);
    return { ...message, visibility: 'ephemeral' };
  },
});

const deliveryValue = z.object({ d: z.number().int().positive() });

/**
 * Records the person's answer to one nudge. Only the first answer counts (a second press, or a press on
 * someone else's nudge, changes nothing). Returns the routine id, or null when nothing changed.
 */
async function answer(
  ctx: CommandContext,
  deliveryId: number,
  response: NudgeAnswer,
): Promise<{ routineId: string | null; userId: number; workspaceId: number } | null> {
  const found = await ctx.findUser();
  if (!found) return null;
  const now = ctx.now();
  const row = await answerNudge(ctx.db, deliveryId, found.user.id, response, now);
  if (!row) return null;
  const routine = row.routineId ? (await nudgeSourceFor(ctx)).get(row.routineId) : undefined;
  await recordActivity(
    ctx.db,
    { userId: found.user.id, workspaceId: found.workspace.id },
    {
      kind: 'nudge',
      outcome: response,
      source: 'nudge',
      routineId: row.routineId,
      durationSeconds: response === 'done' && routine ? routine.minutes * 60 : null,
    },
    now,
  );
  return { routineId: row.routineId, userId: found.user.id, workspaceId: found.workspace.id };
}

const alreadyAnswered = (): Reply =>
  reply('Already noted.', [text('That nudge has already been answered.')], { replaceOriginal: true });

const done = defineAction({
  actionId: NUDGE_ACTIONS.done,
  value: deliveryValue,
  async run(ctx, { d }) {
    if (!(await answer(ctx, d, 'done'))) return alreadyAnswered();
    return reply('Nice work.', [text('*Nice work.* Your upper back thanks you.')], { replaceOriginal: true });
  },
});

const skip = defineAction({
  actionId: NUDGE_ACTIONS.skip,
  value: deliveryValue,
  async run(ctx, { d }) {
    if (!(await answer(ctx, d, 'skipped'))) return alreadyAnswered();
    return reply('Skipped.', [text('Skipped. See you at the next break.')], { replaceOriginal: true });
  },
});

const snooze = defineAction({
  actionId: NUDGE_ACTIONS.snooze,
  value: deliveryValue,
  async run(ctx, { d }) {
    const answered = await answer(ctx, d, 'snoozed');
    if (!answered) return alreadyAnswered();
    const at = new Date(ctx.now().getTime() + SNOOZE_MINUTES * 60_000);
    // One extra nudge: bring next_due_at forward to the snooze time unless a regular slot already comes sooner.
    // Afterwards the scheduler's slot maths resumes the normal grid from that instant.
    await ctx.db.execute(
      sql`update preferences set next_due_at = least(coalesce(next_due_at, ${at}), ${at})
           where user_id = ${answered.userId} and opted_in and paused_reason is null`,
    );
    return reply(
      `Snoozed for ${SNOOZE_MINUTES} minutes.`,
      [text(`Snoozed. I'll nudge you again in ${SNOOZE_MINUTES} minutes.`)],
      { replaceOriginal: true },
    );
  },
});

async function setOptedIn(ctx: CommandContext, on: boolean): Promise<void> {
  const { user } = await ctx.ensureUser();
  const prefs = await currentPreferences(ctx.db, user.id, ctx.actor.timezone);
  await storePreferences(
    ctx.db,
    user.id,
    { ...prefs, optedIn: on, pausedReason: on ? null : prefs.pausedReason },
    ctx.now(),
    ctx.deps.nextSlot,
  );
}

const stop = defineAction({
  actionId: NUDGE_ACTIONS.stop,
  value: deliveryValue,
  async run(ctx, { d }) {
    if (!(await answer(ctx, d, 'stopped'))) return alreadyAnswered();
    await setOptedIn(ctx, false);
    return reply(
      'Nudges are off.',
      [
        text('Nudges are off. You will not get any until you turn them back on.'),
        context('`/backcare settings on` also turns them back on.'),
      ],
      {
        replaceOriginal: true,
        actions: [
          {
            type: 'button',
            actionId: NUDGE_ACTIONS.undoStop,
            label: 'Undo',
            value: encodeActionValue({ d }, { ttlSeconds: NUDGE_BUTTON_TTL_SECONDS, now: ctx.now() }),
            style: 'primary',
          },
        ],
      },
    );
  },
});

const undoStop = defineAction({
  actionId: NUDGE_ACTIONS.undoStop,
  value: deliveryValue,
  async run(ctx, { d }) {
    const found = await ctx.findUser();
    if (!found) return alreadyAnswered();
    // Only the nudge that stopped them can undo it, and only once.
    if (!(await undoStopAnswer(ctx.db, d, found.user.id))) return alreadyAnswered();
    await setOptedIn(ctx, true);
    return reply('Nudges are back on.', [text('Nudges are back on. See you at the next break.')], {
      replaceOriginal: true,
    });
  },
});

/**
 * The answer to "send fewer or pause for the week?". Only the person it was asked of, only once
 * (the question row's answer is set compare-and-set), and only on the nudge that asked it.
 */
async function answerQuestion(
  ctx: CommandContext,
  deliveryId: number,
  answer: 'fewer' | 'pause',
): Promise<{ userId: number } | null> {
  const found = await ctx.findUser();
  if (!found) return null;
  const [row] = await queryRows<{ delivery_id: unknown }>(
    ctx.db,
    sql`update nudge_questions set answer = ${answer}, answered_at = ${ctx.now()}
         where delivery_id = ${deliveryId} and user_id = ${found.user.id} and answer is null
     returning delivery_id`,
  );
  return row ? { userId: found.user.id } : null;
}

const questionAnswered = (): Reply =>
  reply('Already answered.', [text('You already answered that one; your settings are as you left them.')]);

const fewer = defineAction({
  actionId: NUDGE_ACTIONS.fewer,
  value: deliveryValue,
  async run(ctx, { d }) {
    const answered = await answerQuestion(ctx, d, 'fewer');
    if (!answered) return questionAnswered();
    const prefs = await currentPreferences(ctx.db, answered.userId, ctx.actor.timezone);
    const everyMinutes = fewerInterval(prefs.everyMinutes);
    await storePreferences(ctx.db, answered.userId, { ...prefs, everyMinutes }, ctx.now(), ctx.deps.nextSlot);
    return reply(`Fewer nudges: ${describeInterval(everyMinutes)}.`, [
      text(`Done: nudges now come ${describeInterval(everyMinutes)}.`),
      context('Change it any time with `/backcare settings`.'),
    ]);
  },
});

const PAUSE_WEEK_MS = 7 * 24 * 60 * 60 * 1000;

const pauseWeek = defineAction({
  actionId: NUDGE_ACTIONS.pauseWeek,
  value: deliveryValue,
  async run(ctx, { d }) {
    const answered = await answerQuestion(ctx, d, 'pause');
    if (!answered) return questionAnswered();
    const prefs = await currentPreferences(ctx.db, answered.userId, ctx.actor.timezone);
    const until = new Date(ctx.now().getTime() + PAUSE_WEEK_MS);
    await storePreferences(ctx.db, answered.userId, { ...prefs, snoozedUntil: until }, ctx.now(), ctx.deps.nextSlot);
    const when = new Intl.DateTimeFormat('en-GB', {
      timeZone: prefs.timezone,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
    }).format(until);
    return reply('Nudges paused for a week.', [
      text(`Nudges are paused until ${when}. They start again by themselves.`),
      context('`/backcare settings` ends the pause early.'),
    ]);
  },
});

type TeamPostArgs = { mode: 'show' } | { mode: 'off' } | { mode: 'set'; time: string; channel: string; days: string };

// Read word by word so a wrong argument gets its own message (a union of shapes only ever said "Invalid input").
const teamPostArgs = z.array(z.string()).transform((tokens, issue): TeamPostArgs => {
  const [verb, ...rest] = tokens;
  const fail = (message: string) => {
    issue.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  switch (verb?.toLowerCase()) {
    case undefined:
      return { mode: 'show' };
    case 'show':
    case 'off':
      return rest.length === 0
        ? { mode: verb.toLowerCase() as 'show' | 'off' }
        : fail(`\`team-post ${verb.toLowerCase()}\` takes nothing after it`);
    case 'set': {
      const [time, channel, ...days] = rest;
      if (time === undefined || channel === undefined) return fail('use: team-post set HH:MM <channel> [mon,tue,…]');
      const parsed = clockTimeSchema.safeParse(time);
      if (!parsed.success) return fail('the time must be 24-hour HH:MM, from 00:00 to 23:59');
      if (channel.length > 100) return fail('that channel name is too long');
      return { mode: 'set', time: parsed.data, channel, days: days.join(',') };
    }
    default:
      return fail('use `team-post`, `team-post set HH:MM <channel> [days]` or `team-post off`');
  }
});

function describeTeamPost(post: {
  channelId: string;
  localTime: string;
  days: Weekday[];
  timezone: string;
  nextDueAt: Date | null;
  pausedReason: string | null;
}): string {
  const next = post.nextDueAt
    ? new Intl.DateTimeFormat('en-GB', {
        timeZone: post.timezone,
        weekday: 'short',
        day: 'numeric',
        month: 'short',
        hour: '2-digit',
        minute: '2-digit',
      }).format(post.nextDueAt)
    : 'none';
  const paused = post.pausedReason ? ` Paused: ${post.pausedReason}.` : '';
  return `Daily "stretch together" post in ${post.channelId} at ${post.localTime} (${post.timezone}), ${describeDays(post.days)}. Next: ${next}.${paused}`;
}

/** `/backcare team-post`: one daily "stretch together" post in a team channel, set by an admin or team lead. */
const teamPost = defineCommand({
  name: 'team-post',
  summary: 'a daily "stretch together" post in a team channel (admins and leads)',
  usage: '/backcare team-post [set HH:MM <channel> [days] | off]',
  examples: ['/backcare team-post set 15:00 #team mon,tue,wed,thu,fri', '/backcare team-post off'],
  // Showing it is for everyone; changing it is for admins and leads (granted leads too).
  precondition: (args) => (args.mode === 'show' ? 'everyone' : 'lead'),
  args: teamPostArgs,
  async run(ctx, args) {
    const { workspace, user } = await ctx.ensureUser();
    if (args.mode === 'show') {
      const post = await loadTeamPost(ctx.db, workspace.id);
      return reply('Team post', [
        text(
          post
            ? describeTeamPost(post)
            : 'No daily team post is set. An admin or lead can add one with `/backcare team-post set 15:00 #channel`.',
        ),
      ]);
    }
    if (args.mode === 'off') {
      const removed = await deleteTeamPost(ctx.db, workspace.id);
      return reply('Team post off.', [
        text(removed ? 'The daily team post is off.' : 'There was no daily team post to turn off.'),
      ]);
    }
    // The same reading of a channel mention as `invite`: Slack's `<#C…|name>` and Discord's `<#…>` become the id.
    const channel = resolveChannel(ctx.deps.channelMessengers, ctx.actor, args.channel);
    if (!channel.ok) return reply(channel.message, [text(channel.message)]);
    const parsed = teamPostSettingsSchema.safeParse({
      channelId: channel.channelId,
      timezone: ctx.actor.timezone ?? workspace.timezone,
      localTime: args.time,
      days: args.days ? args.days.split(',').map((d) => d.trim().toLowerCase()) : ['mon', 'tue', 'wed', 'thu', 'fri'],
    });
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? 'those settings are not valid';
      return reply(message, [
        text(`${message}. Usage: \`/backcare team-post set 15:00 #channel mon,tue,wed,thu,fri\``),
      ]);
    }
    const nextDueAt = await saveTeamPost(ctx.db, workspace.id, user.id, parsed.data, ctx.now());
    return reply('Team post saved.', [
      text(`Saved. ${describeTeamPost({ ...parsed.data, nextDueAt, pausedReason: null })}`),
      context('Backcare needs to be in that channel to post there.'),
    ]);
  },
});

export const nudgesFeature: Feature = {
  commands: [nudgeNow, teamPost],
  actions: [done, snooze, skip, stop, undoStop, fewer, pauseWeek],
};
