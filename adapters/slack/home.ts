import { and, count, eq, gte } from 'drizzle-orm';
import { DISCLAIMER } from '../../src/core/disclaimer.js';
import { DateTime } from 'luxon';
import { encodeActionValue } from '../../src/core/command.js';
import { describePreferences } from '../../src/core/features/settings.js';
import { defaultPreferences } from '../../src/core/preferences.js';
import type { Action, Block } from '../../src/core/reply.js';
import type { Actor } from '../../src/core/request.js';
import type { Core } from '../../src/core/router.js';
import { loadPreferences } from '../../src/db/preferences.js';
import { activityEvents } from '../../src/db/schema.js';
import { findUser, findWorkspace } from '../../src/db/users.js';
import { HOME_COMMAND_ACTION } from './parse.js';
import { renderBlocks, slackLimits, type SlackView } from './render.js';

/** Quick starts on App Home: shown only for commands this build of the core actually has. */
const quickStarts = [
  { command: 'breathe', label: 'Breathe 2 min', value: 'breathe 2' },
  { command: 'stretch', label: 'Stretch', value: 'stretch' },
  { command: 'roll', label: 'Roll', value: 'roll' },
] as const;

async function sessionCounts(
  core: Core,
  userId: number,
  timezone: string,
  now: Date,
): Promise<{ today: number; week: number }> {
  const local = DateTime.fromJSDate(now).setZone(timezone);
  const startOfDay = local.startOf('day').toJSDate();
  const startOfWeek = local.startOf('week').toJSDate(); // ISO week: Monday
  const since = async (from: Date) => {
    const [row] = await core.deps.db
      .select({ n: count() })
      .from(activityEvents)
      .where(
        and(
          eq(activityEvents.userId, userId),
          eq(activityEvents.kind, 'session'),
          eq(activityEvents.outcome, 'completed'),
          gte(activityEvents.occurredAt, from),
        ),
      );
    return Number(row?.n ?? 0);
  };
  return { today: await since(startOfDay), week: await since(startOfWeek) };
}

/**
 * The App Home tab: settings at a glance with Edit and the opt-in switch, today's and this week's sessions,
 * quick-start buttons. Viewing it stores nothing (it reads; the buttons go through the core like any other).
 */
export async function buildHomeView(core: Core, actor: Actor): Promise<SlackView> {
  const now = core.deps.now();
  const workspace = await findWorkspace(core.deps.db, {
    platform: actor.platform,
    externalId: actor.workspaceExternalId,
  });
  const user = workspace ? await findUser(core.deps.db, workspace.id, actor.userExternalId) : null;
  const prefs = (user ? await loadPreferences(core.deps.db, user.id) : null) ?? defaultPreferences(actor.timezone);
  const counts = user ? await sessionCounts(core, user.id, prefs.timezone, now) : { today: 0, week: 0 };

  const blocks: Block[] = [
    { type: 'header', text: 'Backcare' },
    {
      type: 'text',
      text: 'Short breaks for your upper back at the desk: guided breathing, stretches and foam rolling, and gentle nudges if you want them.',
    },
    { type: 'divider' },
    { type: 'header', text: 'Your settings' },
    { type: 'fields', fields: describePreferences(prefs, now) },
  ];
  const settingsActions: Action[] = [
    {
      type: 'button',
      actionId: 'settings.edit',
      label: 'Edit settings',
      value: encodeActionValue({}),
      style: 'primary',
    },
    prefs.optedIn
      ? {
          type: 'button',
          actionId: 'settings.nudges',
          label: 'Turn nudges off',
          value: encodeActionValue({ on: false }),
        }
      : {
          type: 'button',
          actionId: 'settings.nudges',
          label: 'Turn nudges on',
          value: encodeActionValue({ on: true }),
        },
  ];
  const known = new Set(core.commands.flatMap((c) => [c.name, ...c.aliases]));
  const starts: Action[] = quickStarts
    .filter((q) => known.has(q.command))
    .map((q) => ({ type: 'button', actionId: HOME_COMMAND_ACTION, label: q.label, value: q.value }));

  const activity: Block[] = [
    { type: 'divider' },
    { type: 'header', text: 'Your sessions' },
    {
      type: 'fields',
      fields: [
        { label: 'Today', value: String(counts.today) },
        { label: 'This week', value: String(counts.week) },
      ],
    },
  ];
  const footer: Block[] = [
    {
      type: 'context',
      text: `${DISCLAIMER} If you have severe or worsening pain, numbness, or chest pain, seek medical help.`,
    },
  ];

  return {
    type: 'home',
    blocks: [
      ...renderBlocks(blocks, settingsActions, slackLimits.homeBlocks),
      ...renderBlocks(activity, starts, slackLimits.homeBlocks),
      ...renderBlocks(footer, [], slackLimits.homeBlocks),
    ].slice(0, slackLimits.homeBlocks),
  };
}
