import { desc, eq, sql } from 'drizzle-orm';
import type { CoreDeps } from './command.js';
import { slackInstallations } from '../db/schema.js';

/** One OAuth installation as the platform's SDK hands it over; the adapter validates it when read back. */
export interface InstallationRecord {
  installKey: string;
  teamId: string | null;
  enterpriseId: string | null;
  isEnterpriseInstall: boolean;
  installation: Record<string, unknown>;
}

/**
 * Where OAuth installations (and so bot tokens) are kept, so every replica finds them. Storage only: what an
 * install or a removal means for the workspace is the lifecycle's business (workspace-lifecycle.ts).
 */
export interface InstallationRecords {
  save(record: InstallationRecord): Promise<void>;
  /** The stored installation object, or null when none is stored under the key. */
  load(installKey: string): Promise<unknown>;
  remove(installKey: string): Promise<void>;
  /** The most recently updated installations (to warm a cache at start); optional for stores that cannot list. */
  recent?(limit: number): Promise<InstallationRecord[]>;
}

export function createInstallationRecords(deps: Pick<CoreDeps, 'db'>): InstallationRecords {
  const { db } = deps;
  return {
    async save(record) {
      await db
        .insert(slackInstallations)
        .values(record)
        .onConflictDoUpdate({
          target: slackInstallations.installKey,
          set: { installation: record.installation, updatedAt: sql`now()` },
        });
    },
    async load(installKey) {
      const [row] = await db.select().from(slackInstallations).where(eq(slackInstallations.installKey, installKey));
      return row ? row.installation : null;
    },
    async remove(installKey) {
      await db.delete(slackInstallations).where(eq(slackInstallations.installKey, installKey));
    },
    async recent(limit) {
      const rows = await db.select().from(slackInstallations).orderBy(desc(slackInstallations.updatedAt)).limit(limit);
      return rows.map((row) => ({
        installKey: row.installKey,
        teamId: row.teamId,
        enterpriseId: row.enterpriseId,
        isEnterpriseInstall: row.isEnterpriseInstall,
        installation: row.installation,
      }));
    },
  };
}
