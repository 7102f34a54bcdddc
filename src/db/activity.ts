import { sql } from 'drizzle-orm';
import type { Queryable } from './client.js';
import { activityEvents } from './schema.js';

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
type SessionOutcome = 'completed' | 'stopped' | 'skipped';
type ActivitySource =
  'nudge' | 'breathe' | 'stretch' | 'roll' | 'relax' | 'routine' | 'break' | 'strengthen' | 'habits';

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
      outcome: SessionOutcome;
      source: Exclude<ActivitySource, 'nudge'>;
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

/** Nudge outcomes of many people in one statement (the single-row form is `recordActivity`). */
export async function recordNudgeActivity(
  db: Queryable,
  events: readonly {
    userId: number;
    workspaceId: number;
    outcome: (typeof nudgeOutcomes)[number];
    routineId: string | null;
  }[],
  at: Date,
): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    user_id: e.userId,
    workspace_id: e.workspaceId,
    outcome: e.outcome,
    routine_id: e.routineId,
  }));
  await db.execute(
    sql`insert into activity_events (user_id, workspace_id, kind, outcome, source, routine_id, occurred_at)
        select r.user_id, r.workspace_id, 'nudge', r.outcome, 'nudge', r.routine_id, ${at}
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(user_id bigint, workspace_id bigint, outcome text, routine_id text)`,
  );
}
