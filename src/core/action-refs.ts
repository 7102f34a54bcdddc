import { and, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import type { CoreDeps } from './command.js';
import { actionRefs } from '../db/schema.js';

/** A core action kept under a short key, and where its message is (the adapter validates `context` on reading). */
export interface ActionRef {
  key: string;
  actionId: string;
  value: string;
  context: Record<string, unknown>;
  /** Who the message was for, so `forget-me` deletes it; absent for a message in a channel. */
  owner?: { workspaceExternalId: string; userId: string } | undefined;
}

export interface ActionRefStore {
  /** Stores references in one statement; they expire after the store's time to live. */
  save(refs: readonly ActionRef[]): Promise<void>;
  /** The reference, or null when unknown or expired. */
  load(key: string): Promise<Omit<ActionRef, 'owner'> | null>;
}

const rowSchema = z.object({
  key: z.string(),
  actionId: z.string().min(1).max(100),
  value: z.string().max(2000),
  context: z.record(z.string(), z.unknown()),
});

/**
 * Component ids are short on some platforms (Discord: 100 characters), so a longer action waits here under a key
 * and the component carries the key. In the database so a button pressed after a restart, or on another replica,
 * still works; a day is the longest any such button is offered, and the retention job deletes expired rows.
 */
export function createActionRefStore(
  deps: Pick<CoreDeps, 'db' | 'now'>,
  options: { platform: string; ttlMs?: number },
): ActionRefStore {
  const { db } = deps;
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  return {
    async save(refs) {
      if (refs.length === 0) return;
      const expiresAt = new Date(deps.now().getTime() + ttlMs);
      await db.insert(actionRefs).values(
        refs.map((r) => ({
          key: r.key,
          platform: options.platform,
          actionId: r.actionId,
          value: r.value,
          context: r.context,
          workspaceExternalId: r.owner?.workspaceExternalId ?? null,
          platformUserId: r.owner?.userId ?? null,
          expiresAt,
        })),
      );
    },
    async load(key) {
      const [row] = await db
        .select()
        .from(actionRefs)
        .where(
          and(eq(actionRefs.key, key), eq(actionRefs.platform, options.platform), gt(actionRefs.expiresAt, deps.now())),
        );
      const parsed = rowSchema.safeParse(row);
      return parsed.success ? parsed.data : null;
    },
  };
}
