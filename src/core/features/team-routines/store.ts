import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Queryable } from '../../../db/client.js';
import { auditLog, teamRoutines, workspaces } from '../../../db/schema.js';
import type { WorkspaceKey } from '../../../db/users.js';
import { validateTeamRoutine, type Routine } from '../../content/team-routine.js';

/** A stored row whose JSON no longer passes the content schema: skipped (and logged by the caller), never shown. */
export interface InvalidTeamRoutine {
  workspaceId: number;
  routineId: string;
  problem: string;
}

export interface TeamRoutinesRead {
  routines: Routine[];
  invalid: InvalidTeamRoutine[];
}

const storedRow = z.object({ workspace_id: z.coerce.number().int(), routine_id: z.string(), routine: z.unknown() });

/** Text that is not JSON stays the text, so the schema check below reports that one row instead of failing them all. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** JSON columns are input like any other: each routine goes back through the content schema (cautions re-added). */
function readRows(
  rows: readonly unknown[],
): { workspaceId: number; routine: Routine | null; invalid?: InvalidTeamRoutine }[] {
  return rows.map((raw) => {
    const row = storedRow.parse(raw);
    const json = typeof row.routine === 'string' ? parseJson(row.routine) : row.routine;
    const checked = validateTeamRoutine(json);
    if (checked.ok && checked.routine.id === row.routine_id)
      return { workspaceId: row.workspace_id, routine: checked.routine };
    const problem = checked.ok
      ? `stored id "${checked.routine.id}" does not match the row`
      : `${checked.issues[0]?.path.join('.') ?? ''}: ${checked.issues[0]?.message ?? 'invalid'}`;
    return {
      workspaceId: row.workspace_id,
      routine: null,
      invalid: { workspaceId: row.workspace_id, routineId: row.routine_id, problem },
    };
  });
}

function collect(rows: readonly unknown[]): TeamRoutinesRead {
  const out: TeamRoutinesRead = { routines: [], invalid: [] };
  for (const r of readRows(rows)) {
    if (r.routine) out.routines.push(r.routine);
    if (r.invalid) out.invalid.push(r.invalid);
  }
  return out;
}

/** The routines of the workspace an actor is in, found by its platform key in one query (none if unknown). */
export async function teamRoutinesByKey(
  db: Queryable,
  key: Pick<WorkspaceKey, 'platform' | 'externalId'>,
): Promise<TeamRoutinesRead> {
  const rows = await queryRows<unknown>(
    db,
    sql`select r.workspace_id, r.routine_id, r.routine
          from ${teamRoutines} r join ${workspaces} w on w.id = r.workspace_id
         where w.platform = ${key.platform} and w.external_id = ${key.externalId}
         order by r.id`,
  );
  return collect(rows);
}

/** Per workspace that has any: how many routines and the newest row id. Rows are only inserted and deleted, so this pair changes whenever the set does. */
export async function teamRoutineVersions(db: Queryable): Promise<Map<number, string>> {
  const rows = await queryRows<{ workspace_id: unknown; n: unknown; newest: unknown }>(
    db,
    sql`select workspace_id, count(*)::int as n, max(id) as newest from ${teamRoutines} group by workspace_id`,
  );
  return new Map(rows.map((r) => [Number(r.workspace_id), `${String(r.n)}:${String(r.newest)}`]));
}

/** The routines of several workspaces at once (the scheduler's refresh), grouped by workspace. */
export async function teamRoutinesOfMany(
  db: Queryable,
  workspaceIds: readonly number[],
): Promise<{ byWorkspace: Map<number, Routine[]>; invalid: InvalidTeamRoutine[] }> {
  const byWorkspace = new Map<number, Routine[]>(workspaceIds.map((id) => [id, []]));
  const invalid: InvalidTeamRoutine[] = [];
  if (workspaceIds.length === 0) return { byWorkspace, invalid };
  const rows = await db
    .select({
      workspace_id: teamRoutines.workspaceId,
      routine_id: teamRoutines.routineId,
      routine: teamRoutines.routine,
    })
    .from(teamRoutines)
    .where(inArray(teamRoutines.workspaceId, [...workspaceIds]))
    .orderBy(asc(teamRoutines.id));
  for (const r of readRows(rows)) {
    if (r.routine) byWorkspace.get(r.workspaceId)?.push(r.routine);
    if (r.invalid) invalid.push(r.invalid);
  }
  return { byWorkspace, invalid };
}

export async function countTeamRoutines(db: Queryable, workspaceId: number): Promise<number> {
  const [row] = await queryRows<{ n: unknown }>(
    db,
    sql`select count(*)::int as n from ${teamRoutines} where workspace_id = ${workspaceId}`,
  );
  return Number(row?.n ?? 0);
}

export class TeamRoutineConflict extends Error {
  override name = 'TeamRoutineConflict';
  constructor(readonly routineIds: string[]) {
    super(`routine ids already used in this workspace: ${routineIds.join(', ')}`);
  }
}

/**
 * Adds routines all or nothing, with one audit row each, in one transaction. An id the workspace already
 * has (even one added a moment ago by someone else: the unique index decides) fails the whole batch.
 */
export async function insertTeamRoutines(
  db: Queryable,
  who: { workspaceId: number; actor: string; via: 'form' | 'yaml' },
  routines: readonly Routine[],
  now: Date,
): Promise<void> {
  await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(teamRoutines)
      .values(
        routines.map((r) => ({
          workspaceId: who.workspaceId,
          routineId: r.id,
          routine: r as unknown as Record<string, unknown>,
          createdAt: now,
        })),
      )
      .onConflictDoNothing()
      .returning({ routineId: teamRoutines.routineId });
    if (inserted.length !== routines.length) {
      const got = new Set(inserted.map((i) => i.routineId));
      throw new TeamRoutineConflict(routines.map((r) => r.id).filter((id) => !got.has(id)));
    }
    await tx.insert(auditLog).values(
      routines.map((r) => ({
        workspaceId: who.workspaceId,
        actor: who.actor,
        action: 'routine.add',
        subject: r.id,
        details: { via: who.via, title: r.title, kind: r.kind },
        at: now,
      })),
    );
  });
}

/** Removes one routine and audits it in the same transaction; false when the workspace has no such routine. */
export async function deleteTeamRoutine(
  db: Queryable,
  who: { workspaceId: number; actor: string },
  routineId: string,
  now: Date,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const deleted = await tx
      .delete(teamRoutines)
      .where(and(eq(teamRoutines.workspaceId, who.workspaceId), eq(teamRoutines.routineId, routineId)))
      .returning({ routineId: teamRoutines.routineId });
    if (deleted.length === 0) return false;
    await tx.insert(auditLog).values({
      workspaceId: who.workspaceId,
      actor: who.actor,
      action: 'routine.remove',
      subject: routineId,
      at: now,
    });
    return true;
  });
}
