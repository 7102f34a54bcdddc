import type { Queryable } from './client.js';
import { activityEvents } from './schema.js';

export const activityKinds = ['nudge', 'session'] as const;
export const nudgeOutcomes = [
  'delivered',
  'done',
  'snoozed',
  'skipped',
  'ignored',
  'missed',
  'unavailable',
  'stopped',
] as const;
export const sessionOutcomes = ['completed', 'stopped', 'skipped'] as const;
export const activitySources = [
  'nudge',
  'breathe',
  'stretch',
  'roll',
  'relax',
  'routine',
  'break',
  'strengthen',
  'habits',
] as const;

export type ActivityEvent =
  | {
      kind: 'nudge';
      outcome: (typeof nudgeOutcomes)[number];
      source: 'nudge';
      routineId?: string | null;
      durationSeconds?: number | null;
    }
  | {
      kind: 'session';
      outcome: (typeof sessionOutcomes)[number];
      source: Exclude<(typeof activitySources)[number], 'nudge'>;
      routineId?: string | null;
      durationSeconds?: number | null;
    };

/** One row per thing a person did with Backcare; these feed `/backcare me` and the team's aggregates. */
export async function recordActivity(
  db: Queryable,
  who: { userId: number; workspaceId: number },
  event: ActivityEvent,
  at: Date,
): Promise<void> {
  await db.insert(activityEvents).values({
    userId: who.userId,
    workspaceId: who.workspaceId,
    kind: event.kind,
    outcome: event.outcome,
    source: event.source,
    routineId: event.routineId ?? null,
    durationSeconds: event.durationSeconds ?? null,
    occurredAt: at,
  });
}
