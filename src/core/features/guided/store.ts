import { and, desc, eq, isNotNull } from 'drizzle-orm';
import type { Queryable } from '../../../db/client.js';
import { activityEvents } from '../../../db/schema.js';

/**
 * The routine ids a person met most recently (sessions and nudges alike), newest first and without repeats:
 * guided sessions avoid repeating the last one, nudges avoid the last five.
 */
export async function recentRoutineIds(db: Queryable, userId: number, limit = 5): Promise<string[]> {
  const rows = await db
    .select({ routineId: activityEvents.routineId })
    .from(activityEvents)
    .where(and(eq(activityEvents.userId, userId), isNotNull(activityEvents.routineId)))
    .orderBy(desc(activityEvents.occurredAt), desc(activityEvents.id))
    // Repeats are dropped below, so read a few more rows than asked for.
    .limit(limit * 4);
  const ids: string[] = [];
  for (const row of rows) {
    if (row.routineId && !ids.includes(row.routineId)) ids.push(row.routineId);
    if (ids.length === limit) break;
  }
  return ids;
}
