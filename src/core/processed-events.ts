import type { CoreDeps } from './command.js';
import { processedEvents } from '../db/schema.js';

/**
 * True the first time a platform event key is seen, false for a re-delivery (a Slack retry, a Discord gateway
 * resume). Kept in the database so every replica and restart agrees; the retention job removes keys after a week.
 */
export async function firstSeen(deps: Pick<CoreDeps, 'db'>, key: string): Promise<boolean> {
  const inserted = await deps.db
    .insert(processedEvents)
    .values({ key })
    .onConflictDoNothing()
    .returning({ key: processedEvents.key });
  return inserted.length > 0;
}
