import type { CoreDeps } from './command.js';
import { batcherPer, createBatcher } from '../db/batcher.js';
import type { Queryable } from '../db/client.js';
import { processedEvents } from '../db/schema.js';

/**
 * Records many keys in one statement; true for each key this statement inserted. A key given twice in one group
 * is new only the first time.
 */
async function recordKeys(db: Queryable, keys: readonly string[]): Promise<boolean[]> {
  const unique = [...new Set(keys)];
  const inserted = await db
    .insert(processedEvents)
    .values(unique.map((key) => ({ key })))
    .onConflictDoNothing()
    .returning({ key: processedEvents.key });
  const fresh = new Set(inserted.map((r) => r.key));
  return keys.map((key) => fresh.delete(key));
}

const recorder = batcherPer((db: Queryable) =>
  createBatcher<string, boolean>({ run: (keys) => recordKeys(db, keys), maxBatch: 500 }),
);

/**
 * True the first time a platform event key is seen, false for a re-delivery (a Slack retry, a Discord gateway
 * resume). Kept in the database so every replica and restart agrees; the retention job removes keys after a week.
 * Keys asked for at the same moment (a burst of requests) are recorded together in one statement.
 */
export function firstSeen(deps: Pick<CoreDeps, 'db'>, key: string): Promise<boolean> {
  return recorder(deps.db)(key);
}
