import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { InstallationRecords, WorkspaceLifecycle } from '../../src/core/ports.js';

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
 * Bolt's installation store, kept by the core's installation records. Installing (again) restores the workspace
 * through the core's lifecycle (what the removal paused resumes); removal goes through `uninstallWorkspace`.
 */
export function createInstallationStore(
  records: InstallationRecords,
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
      await records.save({
        installKey,
        teamId: teamId ?? null,
        enterpriseId: enterpriseId ?? null,
        isEnterpriseInstall,
        installation: json,
      });
      if (teamId) await hooks.onInstalled?.(teamId);
      log.info({ event: 'slack.installed', teamId, enterpriseId, isEnterpriseInstall }, 'Slack installation stored');
    },

    async fetchInstallation(query: InstallationQuery<boolean>) {
      const stored = await records.load(keyFor(query));
      if (stored === null) throw new Error(`no Slack installation for ${keyFor(query)}`);
      const parsed = storedInstallationSchema.safeParse(stored);
      if (!parsed.success) throw new Error(`stored Slack installation ${keyFor(query)} is malformed`);
      return parsed.data as unknown as Installation<'v2', boolean>;
    },

    async deleteInstallation(query: InstallationQuery<boolean>) {
      await records.remove(keyFor(query));
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
 * The app left a workspace (`app_uninstalled`, or its bot token revoked): forget the installation, then the core's
 * lifecycle marks the workspace inactive and pauses what ran there. Idempotent.
 */
export async function uninstallWorkspace(
  records: InstallationRecords,
  lifecycle: WorkspaceLifecycle,
  teamId: string,
): Promise<{ pausedUsers: number }> {
  await records.remove(`T:${teamId}`);
  const { pausedUsers } = await lifecycle.removed({ platform: 'slack', externalId: teamId });
  return { pausedUsers };
}
