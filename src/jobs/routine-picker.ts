import { fallbackRoutineSource, type NudgeRoutine, type NudgeRoutineSource } from '../core/nudge-message.js';
import type { NudgeKind } from '../core/preferences.js';
import type { WorkspaceRoutineSources } from '../core/content/workspace-routines.js';

/** What a team's channel post offers: a stretch everyone can do together. */
export const TEAM_POST_KINDS: readonly NudgeKind[] = ['stretch'];

export interface RoutinePicker {
  /** A routine of these kinds avoiding the recent ones, from the workspace's library; never fails. */
  pick(kinds: readonly NudgeKind[], recentIds: readonly string[], workspaceId: number): NudgeRoutine;
  /** A stored routine id read back: the workspace's own library first, then the built-ins. */
  stored(workspaceId: number, routineId: string): NudgeRoutine | undefined;
  /** The workspace's library alone (its own routines, or the shared one). */
  source(workspaceId: number): NudgeRoutineSource;
}

export function createRoutinePicker(
  routines: NudgeRoutineSource = fallbackRoutineSource,
  workspaceRoutines?: WorkspaceRoutineSources,
): RoutinePicker {
  /** The workspace's own library when it has routines of its own, else the shared one. */
  const source = (workspaceId: number): NudgeRoutineSource => workspaceRoutines?.forWorkspace(workspaceId) ?? routines;
  return {
    source,
    pick: (kinds, recentIds, workspaceId) =>
      source(workspaceId).pickForNudge({ allowed: kinds, recentIds })?.routine ??
      // Nothing short enough among these kinds: a basic nudge beats none.
      fallbackRoutineSource.pickForNudge({ allowed: kinds, recentIds })!.routine,
    stored: (workspaceId, routineId) => source(workspaceId).get(routineId) ?? fallbackRoutineSource.get(routineId),
  };
}
