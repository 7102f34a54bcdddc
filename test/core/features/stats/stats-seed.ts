import { DateTime } from 'luxon';
import { activityEvents, nudgeDeliveries, preferences, users, workspaces } from '../../../../src/db/schema.js';
import type { Db } from '../../../../src/db/client.js';

export const TEAM_TZ = 'America/New_York';
/** Wednesday 11 March 2026, noon in New York: three days after the US spring-forward (Sunday 8 March). */
export const NOW = new Date('2026-03-11T16:00:00Z');

/** A New York wall-clock time as an instant (EST before 8 March, EDT after). */
export const ny = (local: string): Date => DateTime.fromISO(local, { zone: TEAM_TZ }).toJSDate();

export interface Seeded {
  workspaceId: number;
  ids: Record<string, number>;
}

export async function seedWorkspace(db: Db, timezone = TEAM_TZ): Promise<number> {
  const [ws] = await db
    .insert(workspaces)
    .values({ platform: 'console', externalId: 'local', name: 'Local', timezone })
    .returning();
  return ws!.id;
}

export async function addPerson(
  db: Db,
  workspaceId: number,
  platformUserId: string,
  options: { optedIn?: boolean; days?: string[]; createdAt?: Date; displayName?: string } = {},
): Promise<number> {
  const [user] = await db
    .insert(users)
    .values({
      workspaceId,
      platformUserId,
      displayName: options.displayName ?? null,
      createdAt: options.createdAt ?? new Date('2026-01-01T00:00:00Z'),
    })
    .returning();
  if (options.optedIn !== undefined || options.days) {
    await db.insert(preferences).values({
      userId: user!.id,
      optedIn: options.optedIn ?? false,
      days: options.days ?? ['mon', 'tue', 'wed', 'thu', 'fri'],
      kinds: ['stretch'],
    });
  }
  return user!.id;
}

export async function did(
  db: Db,
  workspaceId: number,
  userId: number,
  local: string,
  kind: 'session' | 'nudge' = 'session',
): Promise<void> {
  await db.insert(activityEvents).values({
    userId,
    workspaceId,
    kind,
    outcome: kind === 'session' ? 'completed' : 'done',
    source: kind === 'session' ? 'breathe' : 'nudge',
    routineId: 'box-breathing',
    occurredAt: ny(local),
  });
}

async function delivery(db: Db, userId: number, local: string, status: string): Promise<void> {
  const slotAt = ny(local);
  await db.insert(nudgeDeliveries).values({
    userId,
    slotAt,
    status,
    sentAt: ['missed', 'unavailable', 'claimed', 'failed'].includes(status) ? null : slotAt,
  });
}

/**
 * The hand-computed team (see the expectations in stats.test.ts). Six people in New York; p1–p5 work
 * Mon–Fri and have nudges on, p6 works weekends with nudges off.
 */
export async function seedTeam(db: Db): Promise<Seeded> {
  const workspaceId = await seedWorkspace(db);
  const ids: Record<string, number> = {};
  for (const p of ['p1', 'p2', 'p3', 'p4', 'p5'])
    ids[p] = await addPerson(db, workspaceId, `U_${p}`, { optedIn: true, displayName: `Secret ${p.toUpperCase()}` });
  ids.p6 = await addPerson(db, workspaceId, 'U_p6', { optedIn: false, days: ['sat', 'sun'], displayName: 'Secret P6' });
  const at = async (p: string, local: string, kind: 'session' | 'nudge' = 'session') =>
    did(db, workspaceId, ids[p]!, local, kind);

  // W09 (23 Feb – 1 Mar): only p5 and p6 do anything.
  await at('p5', '2026-02-26T10:00');
  await at('p5', '2026-02-27T10:00');
  // Sunday 23:30 in New York is already Monday in UTC: it belongs to W09 here.
  await at('p5', '2026-03-01T23:30');
  await at('p6', '2026-02-28T11:00');
  await at('p6', '2026-03-01T11:00');

  // W10 (2–8 Mar, the clocks change on Sunday 8 March).
  for (const day of ['02', '03']) await at('p1', `2026-03-${day}T10:00`, 'nudge');
  for (const day of ['04', '05', '06']) await at('p1', `2026-03-${day}T10:00`);
  await at('p2', '2026-03-04T10:00', 'nudge');
  await at('p2', '2026-03-05T10:00');
  await at('p2', '2026-03-06T10:00');
  await at('p3', '2026-03-06T15:00');
  await at('p4', '2026-03-02T10:00');
  await at('p4', '2026-03-03T10:00');
  await at('p5', '2026-03-02T10:00');
  await at('p6', '2026-03-07T11:00');
  // 23:30 EDT on Sunday 8 March is 03:30 UTC on Monday: still W10 in New York.
  await at('p6', '2026-03-08T23:30');

  // W11 (9–15 Mar, today is Wednesday 11th at noon).
  await at('p1', '2026-03-09T10:00');
  await at('p1', '2026-03-10T10:00');
  await at('p3', '2026-03-09T10:00');
  await at('p4', '2026-03-11T09:00');

  // Things that are not "doing something": they must not count as sessions or activity.
  await db.insert(activityEvents).values([
    {
      userId: ids.p6!,
      workspaceId,
      kind: 'session',
      outcome: 'stopped',
      source: 'stretch',
      occurredAt: ny('2026-03-04T10:00'),
    },
    {
      userId: ids.p6!,
      workspaceId,
      kind: 'nudge',
      outcome: 'skipped',
      source: 'nudge',
      occurredAt: ny('2026-03-04T11:00'),
    },
  ]);

  // Nudges: W10.
  await delivery(db, ids.p1!, '2026-03-02T11:00', 'done');
  await delivery(db, ids.p1!, '2026-03-03T11:00', 'done');
  await delivery(db, ids.p1!, '2026-03-08T23:30', 'done');
  await delivery(db, ids.p2!, '2026-03-02T11:00', 'done');
  await delivery(db, ids.p2!, '2026-03-03T11:00', 'snoozed');
  await delivery(db, ids.p3!, '2026-03-02T11:00', 'done');
  await delivery(db, ids.p3!, '2026-03-03T11:00', 'skipped');
  await delivery(db, ids.p4!, '2026-03-02T11:00', 'done');
  await delivery(db, ids.p4!, '2026-03-03T11:00', 'ignored');
  await delivery(db, ids.p5!, '2026-03-02T11:00', 'done');
  await delivery(db, ids.p5!, '2026-03-03T11:00', 'stopped');
  await delivery(db, ids.p6!, '2026-03-02T11:00', 'missed');
  await delivery(db, ids.p6!, '2026-03-03T11:00', 'unavailable');
  // Nudges: W11.
  for (const p of ['p1', 'p2', 'p3', 'p4', 'p5']) await delivery(db, ids[p]!, '2026-03-09T11:00', 'done');
  await delivery(db, ids.p1!, '2026-03-11T10:00', 'sent');
  return { workspaceId, ids };
}
