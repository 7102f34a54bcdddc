import type { Logger } from '../../config/logger.js';
import type { Queryable } from '../../db/client.js';
import {
  teamRoutinesByKey,
  teamRoutinesOfMany,
  teamRoutineVersions,
  type InvalidTeamRoutine,
} from '../features/team-routines/store.js';
import type { CommandContext } from '../command.js';
import { routineSourceOf, type NudgeRoutineSource } from '../nudge-message.js';
import { RoutineLibrary } from './library.js';
import type { Routine } from './schema.js';

/**
 * The workspace-aware layer over the global, read-only library: built-ins plus that workspace's own routines.
 * The built-in library is untouched; a workspace with no routines of its own gets the built-in one as is.
 */
export class WorkspaceRoutineLibrary extends RoutineLibrary {
  readonly #team: ReadonlySet<string>;

  constructor(builtins: RoutineLibrary, team: readonly Routine[]) {
    super([...builtins.all(), ...team]);
    this.#team = new Set(team.map((r) => r.id));
  }

  /** Was this routine written by the workspace's team (not shipped with Backcare)? */
  isTeamRoutine(id: string): boolean {
    return this.#team.has(id.toLowerCase());
  }

  teamRoutines(): Routine[] {
    return this.all().filter((r) => this.#team.has(r.id));
  }
}

export function isTeamRoutine(library: RoutineLibrary, id: string): boolean {
  return library instanceof WorkspaceRoutineLibrary && library.isTeamRoutine(id);
}

/**
 * Built-ins plus the team's routines. A team routine whose id a later content release took for a built-in
 * is left out (built-ins cannot be shadowed), and reported so it can be logged.
 */
export function mergeLibrary(
  builtins: RoutineLibrary,
  team: readonly Routine[],
): { library: RoutineLibrary; shadowed: string[] } {
  const shadowed = team.filter((r) => builtins.get(r.id)).map((r) => r.id);
  const own = team.filter((r) => !builtins.get(r.id));
  return { library: own.length === 0 ? builtins : new WorkspaceRoutineLibrary(builtins, own), shadowed };
}

function logProblems(
  log: Logger,
  invalid: readonly InvalidTeamRoutine[],
  shadowed: readonly string[],
  workspaceId?: number,
): void {
  for (const bad of invalid)
    log.error({ event: 'team_routines.invalid_row', ...bad }, 'stored team routine fails the content schema; skipped');
  if (shadowed.length > 0)
    log.warn(
      { event: 'team_routines.shadowed', workspaceId, routineIds: shadowed },
      'team routines hidden by built-ins of the same id',
    );
}

/** What finding a workspace's routines needs from a handler's context (a transaction will do for `db`). */
export type WorkspaceContext = Pick<CommandContext, 'actor' | 'deps' | 'log'> & { db: Queryable };

/**
 * The library for the asking person's workspace: one indexed query per call, so a routine added or removed
 * on another replica is seen at once. Null when the core has no library at all.
 */
export async function libraryFor(ctx: WorkspaceContext): Promise<RoutineLibrary | null> {
  const builtins = ctx.deps.library;
  if (!builtins) return null;
  const read = await teamRoutinesByKey(ctx.db, {
    platform: ctx.actor.platform,
    externalId: ctx.actor.workspaceExternalId,
  });
  const { library, shadowed } = mergeLibrary(builtins, read.routines);
  logProblems(ctx.log, read.invalid, shadowed);
  return library;
}

/**
 * What the scheduler needs: a routine source per workspace, kept in memory and refreshed once per pass
 * (claims pick routines synchronously, inside their transaction).
 */
export interface WorkspaceRoutineSources {
  refresh(): Promise<void>;
  /** The workspace's merged library, or undefined when it has no routines of its own (use the built-ins). */
  forWorkspace(workspaceId: number): NudgeRoutineSource | undefined;
}

/**
 * Refreshing reads one small summary row per workspace that has routines, and reloads only workspaces whose
 * (count, newest id) changed since the last pass: a quiet minute costs one aggregate query.
 */
export function createWorkspaceRoutineSources(
  db: Queryable,
  builtins: RoutineLibrary,
  log: Logger,
): WorkspaceRoutineSources {
  let versions = new Map<number, string>();
  const libraries = new Map<number, RoutineLibrary>();
  return {
    async refresh() {
      const latest = await teamRoutineVersions(db);
      const changed = [...latest].filter(([id, version]) => versions.get(id) !== version).map(([id]) => id);
      for (const id of libraries.keys()) if (!latest.has(id)) libraries.delete(id);
      const { byWorkspace, invalid } = await teamRoutinesOfMany(db, changed);
      for (const [workspaceId, team] of byWorkspace) {
        const { library, shadowed } = mergeLibrary(builtins, team);
        libraries.set(workspaceId, library);
        logProblems(log, [], shadowed, workspaceId);
      }
      logProblems(log, invalid, []);
      versions = latest;
    },
    forWorkspace: (workspaceId) => libraries.get(workspaceId),
  };
}

/** Where `nudge now` and nudge buttons find routines: the workspace's library, or the nudge fallback without one. */
export async function nudgeSourceFor(ctx: WorkspaceContext): Promise<NudgeRoutineSource> {
  return (await libraryFor(ctx)) ?? routineSourceOf(ctx.deps);
}
