import { and, count, eq, gte } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { CoreDeps, RegisteredCommand } from './command.js';
import { DISCLAIMER } from './disclaimer.js';
import { describePreferences, settingsActions } from './features/settings/settings.js';
import { defaultPreferences } from './preferences.js';
import type { Action, Block } from './reply.js';
import type { Actor } from './request.js';
import { loadPreferences } from '../db/preferences.js';
import { activityEvents } from '../db/schema.js';
import { findUser, findWorkspace } from '../db/users.js';

/**
 * The "home" view (Slack's App Home tab) as the core sees it: sections of blocks and actions, each kept together
 * by the renderer, plus quick starts (a command each) that the platform turns into buttons.
 */
export interface HomeView {
  sections: { blocks: Block[]; actions: Action[] }[];
  /** Shown as buttons under the activity section; pressing one runs `command` like a typed command. */
  quickStarts: { label: string; command: string }[];
  footer: Block[];
}

/** Quick starts: shown only for commands this build of the core actually has. */
const quickStarts = [
  { command: 'breathe', label: 'Breathe 2 min', value: 'breathe 2' },
  { command: 'stretch', label: 'Stretch', value: 'stretch' },
  { command: 'roll', label: 'Roll', value: 'roll' },
] as const;

async function sessionCounts(
  deps: Pick<CoreDeps, 'db'>,
  userId: number,
  timezone: string,
  now: Date,
): Promise<{ today: number; week: number }> {
  const local = DateTime.fromJSDate(now).setZone(timezone);
  const startOfDay = local.startOf('day').toJSDate();
  const startOfWeek = local.startOf('week').toJSDate(); // ISO week: Monday
  const since = async (from: Date) => {
    const [row] = await deps.db
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
 * Settings at a glance with Edit and the opt-in switch, today's and this week's sessions, quick starts.
 * Viewing it stores nothing (it reads; the buttons go through the core like any other).
 */
export async function buildHomeView(
  deps: Pick<CoreDeps, 'db' | 'now'>,
  commands: readonly RegisteredCommand[],
  actor: Actor,
): Promise<HomeView> {
  const now = deps.now();
  const workspace = await findWorkspace(deps.db, { platform: actor.platform, externalId: actor.workspaceExternalId });
  const user = workspace ? await findUser(deps.db, workspace.id, actor.userExternalId) : null;
  const prefs = (user ? await loadPreferences(deps.db, user.id) : null) ?? defaultPreferences(actor.timezone);
  const counts = user ? await sessionCounts(deps, user.id, prefs.timezone, now) : { today: 0, week: 0 };
  const known = new Set(commands.flatMap((c) => [c.name, ...c.aliases]));

  return {
    sections: [
      {
        blocks: [
          { type: 'header', text: 'Backcare' },
          {
            type: 'text',
            text: 'Short breaks for your upper back at the desk: guided breathing, stretches and foam rolling, and gentle nudges if you want them.',
          },
          { type: 'divider' },
          { type: 'header', text: 'Your settings' },
          { type: 'fields', fields: describePreferences(prefs, now) },
        ],
        actions: settingsActions(prefs.optedIn),
      },
      {
        blocks: [
          { type: 'divider' },
          { type: 'header', text: 'Your sessions' },
          {
            type: 'fields',
            fields: [
              { label: 'Today', value: String(counts.today) },
              { label: 'This week', value: String(counts.week) },
            ],
          },
        ],
        actions: [],
      },
    ],
    quickStarts: quickStarts.filter((q) => known.has(q.command)).map((q) => ({ label: q.label, command: q.value })),
    footer: [
      {
        type: 'context',
        text: `${DISCLAIMER} If you have severe or worsening pain, numbness, or chest pain, seek medical help.`,
      },
    ],
  };
}
