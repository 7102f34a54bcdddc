import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { NextSlotFn } from '../../src/core/settings-service.js';
import { storePreferences } from '../../src/core/settings-service.js';
import type { Db } from '../../src/db/client.js';
import { preferencesFromRow } from '../../src/db/preferences.js';
import { preferences, slackInstallations, users, workspaces } from '../../src/db/schema.js';

/** Why nudges stopped when the app left a workspace; shown to the person in settings. */
export const UNINSTALLED_REASON = 'Backcare was removed from this Slack workspace';

/** What we rely on when reading an installation back; everything else Bolt stored is passed through. */
const storedInstallationSchema = z.looseObject({
  team: z.looseObject({ id: z.string() }).optional(),
  enterprise: z.looseObject({ id: z.string() }).optional(),
  isEnterpriseInstall: z.boolean().optional(),
  bot: z
    .looseObject({ token: z.string().startsWith('xoxb-'), id: z.string().optional(), userId: z.string().optional() })
    .optional(),
});

function keyFor(query: {
  teamId?: string | undefined;
  enterpriseId?: string | undefined;
  isEnterpriseInstall?: boolean | undefined;
}): string {
  if (query.isEnterpriseInstall && query.enterpriseId) return `E:${query.enterpriseId}`;
  if (query.teamId) return `T:${query.teamId}`;
  if (query.enterpriseId) return `E:${query.enterpriseId}`;
  throw new Error('an installation needs a team or an enterprise id');
}

/**
 * Bolt's installation store, in Postgres through drizzle. Installing (again) re-activates the workspace;
 * removal goes through `uninstallWorkspace`, which also stops every nudge there.
 */
export function createInstallationStore(
  db: Db,
  log: Logger,
  hooks: { onInstalled?: (teamId: string) => Promise<void> } = {},
): InstallationStore {
  return {
    async storeInstallation(installation) {
      const teamId = installation.team?.id;
      const enterpriseId = installation.enterprise?.id;
      const isEnterpriseInstall = Boolean(installation.isEnterpriseInstall);
      const installKey = keyFor({ teamId, enterpriseId, isEnterpriseInstall });
      const json = JSON.parse(JSON.stringify(installation)) as Record<string, unknown>;
      await db
        .insert(slackInstallations)
        .values({
          installKey,
          teamId: teamId ?? null,
          enterpriseId: enterpriseId ?? null,
          isEnterpriseInstall,
          installation: json,
        })
        .onConflictDoUpdate({
          target: slackInstallations.installKey,
          set: { installation: json, updatedAt: sql`now()` },
        });
      if (teamId) {
        await db
          .update(workspaces)
          .set({ active: true })
          .where(and(eq(workspaces.platform, 'slack'), eq(workspaces.externalId, teamId)));
        await hooks.onInstalled?.(teamId);
      }
      log.info({ event: 'slack.installed', teamId, enterpriseId, isEnterpriseInstall }, 'Slack installation stored');
    },

    async fetchInstallation(query: InstallationQuery<boolean>) {
      const [row] = await db
        .select()
        .from(slackInstallations)
        .where(eq(slackInstallations.installKey, keyFor(query)));
      if (!row) throw new Error(`no Slack installation for ${keyFor(query)}`);
      const parsed = storedInstallationSchema.safeParse(row.installation);
      if (!parsed.success) throw new Error(`stored Slack installation ${row.installKey} is malformed`);
      return parsed.data as unknown as Installation<'v2', boolean>;
    },

    async deleteInstallation(query: InstallationQuery<boolean>) {
      await db.delete(slackInstallations).where(eq(slackInstallations.installKey, keyFor(query)));
    },
  };
}

/** The bot token for a workspace in OAuth mode, or null when the app is not installed there. */
export async function botTokenFor(
  store: InstallationStore,
  teamId: string,
  enterpriseId?: string,
): Promise<{ botToken: string; botUserId?: string; botId?: string } | null> {
  try {
    const installation = await store.fetchInstallation({ teamId, enterpriseId, isEnterpriseInstall: false });
    const token = installation.bot?.token;
    if (!token) return null;
    return {
      botToken: token,
      ...(installation.bot?.userId ? { botUserId: installation.bot.userId } : {}),
      ...(installation.bot?.id ? { botId: installation.bot.id } : {}),
    };
  } catch {
    return null;
  }
}

/**
 * The app left a workspace (`app_uninstalled`, or its bot token revoked): forget the installation, mark the
 * workspace inactive and pause every nudge there, with a reason the person sees. Idempotent.
 */
export async function uninstallWorkspace(db: Db, teamId: string, log: Logger): Promise<{ pausedUsers: number }> {
  return db.transaction(async (tx) => {
    await tx.delete(slackInstallations).where(eq(slackInstallations.installKey, `T:${teamId}`));
    const [workspace] = await tx
      .update(workspaces)
      .set({ active: false })
      .where(and(eq(workspaces.platform, 'slack'), eq(workspaces.externalId, teamId)))
      .returning({ id: workspaces.id });
    if (!workspace) return { pausedUsers: 0 };
    const members = tx.select({ id: users.id }).from(users).where(eq(users.workspaceId, workspace.id));
    const paused = await tx
      .update(preferences)
      .set({ nextDueAt: null, pausedReason: UNINSTALLED_REASON, updatedAt: sql`now()` })
      .where(inArray(preferences.userId, members))
      .returning({ userId: preferences.userId });
    log.info(
      { event: 'slack.uninstalled', teamId, pausedUsers: paused.length },
      'Slack workspace removed: nudges stopped',
    );
    return { pausedUsers: paused.length };
  });
}

/**
 * The app came back (reinstall): people whose nudges stopped only because it had been removed get them
 * back, with their next slot recomputed. Anyone who paused for another reason stays paused.
 */
export async function resumeWorkspace(
  db: Db,
  teamId: string,
  now: Date,
  nextSlot: NextSlotFn | undefined,
  log: Logger,
): Promise<number> {
  const rows = await db
    .select({ prefs: preferences })
    .from(preferences)
    .innerJoin(users, eq(users.id, preferences.userId))
    .innerJoin(workspaces, eq(workspaces.id, users.workspaceId))
    .where(
      and(
        eq(workspaces.platform, 'slack'),
        eq(workspaces.externalId, teamId),
        eq(preferences.pausedReason, UNINSTALLED_REASON),
      ),
    );
  for (const { prefs } of rows) {
    await storePreferences(db, prefs.userId, { ...preferencesFromRow(prefs), pausedReason: null }, now, nextSlot);
  }
  if (rows.length > 0)
    log.info({ event: 'slack.reinstalled', teamId, resumedUsers: rows.length }, 'Slack workspace back: nudges resumed');
  return rows.length;
}

/** Single-workspace mode has no install callback: a start with a working token marks the workspace installed again. */
export async function reactivateWorkspace(
  db: Db,
  teamId: string,
  now: Date,
  nextSlot: NextSlotFn | undefined,
  log: Logger,
): Promise<void> {
  const reactivated = await db
    .update(workspaces)
    .set({ active: true })
    .where(and(eq(workspaces.platform, 'slack'), eq(workspaces.externalId, teamId), eq(workspaces.active, false)))
    .returning({ id: workspaces.id });
  if (reactivated.length > 0) await resumeWorkspace(db, teamId, now, nextSlot, log);
}
