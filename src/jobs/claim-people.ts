import type { Db } from '../db/client.js';
import { recordNudgeActivity } from '../db/activity.js';
import {
  advanceSchedules,
  askSkipQuestion,
  countDeliveredOnDays,
  insertDeliveries,
  lockDuePeople,
  markIgnoredBefore,
  recentRoutinesFor,
  type ClaimedNudge,
  type DuePerson,
  type NewDelivery,
} from '../db/deliveries.js';
import { localDayBounds } from '../core/local-time.js';
import { DEFAULT_MAX_PER_DAY, type Preferences } from '../core/preferences.js';
import type { Platform } from '../core/request.js';
import { LATE_LIMIT_MS } from './late.js';

export interface ClaimBatch {
  claimed: ClaimedNudge[];
  missed: { userId: number; workspaceId: number; slotAt: Date }[];
  /** Earlier nudges nobody answered before this slot came round. */
  ignored: { userId: number; workspaceId: number; routineId: string | null }[];
  /** Users whose stored preferences no longer validate: their schedule is stopped, not crashed on. */
  invalid: { userId: number; error: string }[];
  /** Slots not sent because the person already had their daily maximum; next_due_at moves to the next day. */
  capped: { userId: number; slotAt: Date }[];
  /** Rows locked in this batch (claimed, missed or skipped): 0 means nothing more is due. */
  locked: number;
}

export interface ClaimOptions {
  now: Date;
  holder: number;
  platforms: readonly Platform[];
  batchSize: number;
  nextSlot: (prefs: Preferences, after: Date) => Date | null;
  /** The routine for this person's nudge, given their latest routine ids (newest first). */
  pickRoutine: (prefs: Preferences, recentIds: readonly string[], workspaceId: number) => string;
}

type ValidPerson = DuePerson & { prefs: Preferences };

/** What the claim does with each locked person, decided before any row is written. */
interface SlotPlan {
  inserts: (NewDelivery & { person: ValidPerson })[];
  advances: { key: number; nextDueAt: Date | null }[];
}

/**
 * One claiming transaction: lock up to `batchSize` due people (SKIP LOCKED, so replicas share the work), insert one
 * delivery row per person and slot, and advance each person's next_due_at, all or nothing. A crash after the commit
 * leaves rows `claimed`, which reconciliation resolves; a crash before leaves nothing.
 */
export async function claimDueBatch(db: Db, options: ClaimOptions): Promise<ClaimBatch> {
  return db.transaction(async (tx) => {
    const due = await lockDuePeople(tx, { now: options.now, platforms: options.platforms, limit: options.batchSize });
    const batch: ClaimBatch = { claimed: [], missed: [], ignored: [], invalid: [], capped: [], locked: due.length };
    if (due.length === 0) return batch;
    const valid: ValidPerson[] = [];
    for (const person of due) {
      if ('invalid' in person.prefs) batch.invalid.push({ userId: person.userId, error: person.prefs.invalid });
      else valid.push(person as ValidPerson);
    }
    const deliveredToday = await countDeliveredOnDays(tx, dayBoundsOf(valid));
    const plan = planSlots(valid, deliveredToday, options, batch);
    if (plan.inserts.length > 0) {
      // The routine is chosen here, in the claim, so a resend after a crash shows the same one; one query for the batch.
      const recent = await recentRoutinesFor(
        tx,
        'person',
        plan.inserts.map((i) => i.key),
      );
      for (const insert of plan.inserts)
        if (insert.status === 'claimed')
          insert.routineId = options.pickRoutine(
            insert.person.prefs,
            recent.get(insert.key) ?? [],
            insert.person.workspaceId,
          );
      const byUser = new Map(valid.map((p) => [p.userId, p]));
      for (const i of await markIgnoredBefore(
        tx,
        plan.inserts.map((p) => ({ userId: p.key, slotAt: p.slotAt })),
      ))
        batch.ignored.push({
          userId: i.userId,
          workspaceId: byUser.get(i.userId)!.workspaceId,
          routineId: i.routineId,
        });
      const inserted = await insertDeliveries(tx, 'person', plan.inserts, options.now, options.holder);
      const claimed = inserted.filter((i) => i.status === 'claimed');
      const asking = await askSkipQuestion(
        tx,
        claimed.map((i) => ({ deliveryId: i.deliveryId, userId: i.key, slotAt: i.slotAt })),
      );
      for (const ins of inserted) {
        const person = byUser.get(ins.key)!;
        if (ins.status === 'missed')
          batch.missed.push({ userId: person.userId, workspaceId: person.workspaceId, slotAt: ins.slotAt });
        else batch.claimed.push(claimedNudge(person, ins, asking.has(ins.deliveryId)));
      }
    }
    await advanceSchedules(tx, 'person', plan.advances);
    await recordNudgeActivity(
      tx,
      [
        ...batch.missed.map((m) => ({ ...m, outcome: 'missed' as const, routineId: null })),
        ...batch.ignored.map((i) => ({ ...i, outcome: 'ignored' as const })),
      ],
      options.now,
    );
    return batch;
  });
}

/** The local calendar day of each person's due slot: the daily cap counts the nudges already sent on it. */
function dayBoundsOf(people: readonly ValidPerson[]): { userId: number; dayStart: Date; dayEnd: Date }[] {
  return people.map((p) => {
    const bounds = localDayBounds(p.prefs.timezone, p.slotAt);
    return { userId: p.userId, dayStart: new Date(bounds.start), dayEnd: new Date(bounds.end) };
  });
}

/**
 * Per person: stopped (invalid preferences), capped (daily maximum reached: the rest of the day is skipped), or a
 * delivery row, `missed` when the slot is found too late, with the next slot to advance to.
 */
function planSlots(
  people: readonly ValidPerson[],
  deliveredToday: ReadonlyMap<number, number>,
  options: ClaimOptions,
  batch: ClaimBatch,
): SlotPlan {
  const plan: SlotPlan = { inserts: [], advances: [] };
  for (const bad of batch.invalid) plan.advances.push({ key: bad.userId, nextDueAt: null });
  for (const person of people) {
    const { prefs, slotAt } = person;
    const late = options.now.getTime() - slotAt.getTime() > LATE_LIMIT_MS;
    const today = deliveredToday.get(person.userId) ?? 0;
    if (!late && today >= (prefs.maxPerDay ?? DEFAULT_MAX_PER_DAY)) {
      // Daily cap reached: this slot and the rest of the day's are skipped, not sent.
      batch.capped.push({ userId: person.userId, slotAt });
      const dayEnd = localDayBounds(prefs.timezone, slotAt).end;
      plan.advances.push({ key: person.userId, nextDueAt: options.nextSlot(prefs, new Date(dayEnd - 1)) });
      continue;
    }
    plan.inserts.push({ key: person.userId, slotAt, status: late ? 'missed' : 'claimed', routineId: null, person });
    // After an outage, jump past every stale slot at once: one "missed" row, not a burst of them.
    const from = late ? new Date(options.now.getTime() - LATE_LIMIT_MS) : slotAt;
    plan.advances.push({ key: person.userId, nextDueAt: options.nextSlot(prefs, from) });
  }
  return plan;
}

function claimedNudge(person: ValidPerson, ins: NewDelivery & { deliveryId: number }, question: boolean): ClaimedNudge {
  return {
    kind: 'person',
    deliveryId: ins.deliveryId,
    slotAt: ins.slotAt,
    userId: person.userId,
    workspaceId: person.workspaceId,
    platform: person.platform,
    workspaceExternalId: person.workspaceExternalId,
    platformUserId: person.platformUserId,
    dmChannelId: person.dmChannelId,
    prefs: person.prefs,
    routineId: ins.routineId,
    question,
  };
}
