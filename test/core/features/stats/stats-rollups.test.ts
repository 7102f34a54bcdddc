import { sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { expect, it } from 'vitest';
import { queryRows, type Db } from '../../../../src/db/client.js';
import { activityEvents, nudgeDeliveries, preferences, users, workspaces } from '../../../../src/db/schema.js';
import {
  queryTeamWeeksFromEvents,
  type TeamScope,
  type TeamWeeksInput,
} from '../../../../src/core/features/stats/query.js';
import { queryTeamWeeks, teamWeeksRollupQuery } from '../../../../src/core/features/stats/rollups.js';
import { weekWindow } from '../../../../src/core/features/stats/weeks.js';
import { describeEachDatabase } from '../../../support/db.js';
import { prng } from '../../../support/prng.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const PERSON_ZONES = ['America/New_York', 'Europe/London', 'Asia/Kolkata', 'Pacific/Auckland', 'UTC'];
const EVENT_KINDS = [
  ['nudge', 'done', 'nudge'],
  ['nudge', 'done', 'nudge'],
  ['nudge', 'delivered', 'nudge'],
  ['nudge', 'snoozed', 'nudge'],
  ['nudge', 'skipped', 'nudge'],
  ['session', 'completed', 'breathe'],
  ['session', 'completed', 'stretch'],
  ['session', 'stopped', 'relax'],
  ['session', 'skipped', 'routine'],
] as const;
const STATUSES = ['sent', 'done', 'done', 'snoozed', 'skipped', 'stopped', 'ignored', 'claimed', 'missed', 'failed'];
/** From autumn (clocks back in New York on 2 Nov 2025, in London on 26 Oct) to spring (8 and 29 March 2026). */
const FROM = DateTime.fromISO('2025-09-01T00:00', { zone: 'UTC' });
const DAYS = 230;

type Pick = <T>(items: readonly T[]) => T;

/**
 * A local wall-clock instant in the workspace's zone, often right at the edges that matter: around midnight
 * (a day and, on Sunday night, a week boundary) and in the small hours of the days the clocks change.
 */
function randomInstant(random: () => number, zone: string): Date {
  const day = FROM.plus({ days: Math.floor(random() * DAYS) }).setZone(zone, { keepLocalTime: true });
  const r = random();
  const minutes =
    r < 0.3 ? 23 * 60 + Math.floor(random() * 60) : r < 0.5 ? Math.floor(random() * 240) : Math.floor(random() * 1440);
  return day.startOf('day').plus({ minutes }).toJSDate();
}

async function seedRandom(db: Db, seed: number, zone: string): Promise<{ workspaceId: number; platformIds: string[] }> {
  const random = prng(seed);
  const pick: Pick = (items) => items[Math.floor(random() * items.length)]!;
  const [ws] = await db
    .insert(workspaces)
    .values({ platform: 'slack', externalId: `T${seed}`, timezone: zone })
    .returning();
  const workspaceId = ws!.id;
  const people = await db
    .insert(users)
    .values(
      Array.from({ length: 14 }, (_, i) => ({
        workspaceId,
        platformUserId: `U${i}`,
        createdAt: FROM.plus({ days: Math.floor(random() * DAYS * 0.8) - 30 }).toJSDate(),
      })),
    )
    .returning();
  // Most people have settings (own working days, nudges on or off, their own timezone); a few never opened them.
  await db.insert(preferences).values(
    people
      .filter(() => random() < 0.8)
      .map((p) => ({
        userId: p.id,
        optedIn: random() < 0.7,
        timezone: pick(PERSON_ZONES),
        days: WEEKDAYS.filter(() => random() < 0.7),
        kinds: ['stretch'],
      })),
  );
  const events = Array.from({ length: 900 }, () => {
    const [kind, outcome, source] = pick(EVENT_KINDS);
    return { userId: pick(people).id, workspaceId, kind, outcome, source, occurredAt: randomInstant(random, zone) };
  });
  // Several statements of several sizes: the rollups see bulk writes and single ones.
  await db.insert(activityEvents).values(events.slice(0, 600));
  for (const event of events.slice(600, 640)) await db.insert(activityEvents).values(event);
  await db.insert(activityEvents).values(events.slice(640));
  const slots = new Map<string, { userId: number; slotAt: Date; status: string }>();
  for (let i = 0; i < 500; i += 1) {
    const userId = pick(people).id;
    const slotAt = randomInstant(random, zone);
    slots.set(`${userId}:${slotAt.getTime()}`, { userId, slotAt, status: pick(STATUSES) });
  }
  await db.insert(nudgeDeliveries).values([...slots.values()]);
  // People who joined exactly at a local week boundary (Monday midnight) or a moment before it, in clock-change
  // weeks too: "members" counts those joined before a week's end, which the rollup view works out in one pass.
  const joiners = [];
  for (
    let monday = FROM.setZone(zone).startOf('week');
    monday < FROM.plus({ days: DAYS });
    monday = monday.plus({ weeks: 2 })
  )
    for (const createdAt of [monday.toJSDate(), monday.minus({ milliseconds: 1 }).toJSDate()])
      joiners.push({ workspaceId, platformUserId: `J${joiners.length}`, createdAt });
  const joined = await db.insert(users).values(joiners).returning();
  await db
    .insert(preferences)
    .values(
      joined
        .filter((_, i) => i % 3 === 0)
        .map((p) => ({ userId: p.id, optedIn: true, days: ['mon', 'tue', 'wed', 'thu', 'fri'], kinds: ['stretch'] })),
    );
  return { workspaceId, platformIds: [...people, ...joined].map((p) => p.platformUserId) };
}

/** What happens to the rows after they were written: answers, late writes, deletions, changed settings. */
async function changeThings(db: Db, workspaceId: number, seed: number, zone: string): Promise<void> {
  const random = prng(seed * 7 + 1);
  // Nudges move on: claimed ones get sent, sent ones answered.
  await db.execute(sql`update nudge_deliveries set status = 'sent' where status = 'claimed' and id % 2 = 0`);
  await db.execute(sql`update nudge_deliveries set status = 'done' where status = 'sent' and id % 3 = 0`);
  // Late writes for weeks long past.
  const [someone] = await queryRows<{ id: number }>(
    db,
    sql`select id::int as id from users where workspace_id = ${workspaceId} limit 1`,
  );
  for (let i = 0; i < 5; i += 1)
    await db.insert(activityEvents).values({
      userId: someone!.id,
      workspaceId,
      kind: 'session',
      outcome: 'completed',
      source: 'breathe',
      occurredAt: randomInstant(random, zone),
    });
  // Retention (the oldest events and deliveries go), a few single deletions, and one person forgotten.
  await db.execute(sql`delete from activity_events where occurred_at < ${FROM.plus({ days: 20 }).toJSDate()}`);
  await db.execute(
    sql`delete from nudge_deliveries where slot_at < ${FROM.plus({ days: 20 }).toJSDate()} and status <> 'claimed'`,
  );
  await db.execute(sql`delete from activity_events where id % 17 = 0`);
  await db.execute(
    sql`delete from users where id = (select max(user_id) from activity_events where workspace_id = ${workspaceId})`,
  );
  // Someone changes their working days: streaks are worked out with today's settings, for every week.
  await db.execute(sql`update preferences set days = '["mon","wed","fri"]'::jsonb where user_id = ${someone!.id}`);
}

async function expectSameFigures(db: Db, workspaceId: number, zone: string, platformIds: string[]): Promise<number> {
  const scopes: TeamScope[] = [
    { kind: 'workspace' },
    { kind: 'members', platformUserIds: platformIds.filter((_, i) => i % 3 !== 0) },
  ];
  // A view across each change of the clocks, one in the week of the change, and a long one over both.
  const nows = ['2025-11-05T17:00:00Z', '2025-11-02T12:00:00Z', '2026-03-09T04:30:00Z', '2026-03-31T12:00:00Z'];
  let compared = 0;
  for (const now of nows)
    for (const weeks of [1, 4, 12])
      for (const scope of scopes) {
        const input: TeamWeeksInput = { workspaceId, scope, window: weekWindow(new Date(now), zone, weeks) };
        const [first] = await queryRows<{ sameZone: boolean }>(db, teamWeeksRollupQuery(input));
        expect(first!.sameZone).toBe(true); // the rollups, not the fallback to events
        const fromEvents = await queryTeamWeeksFromEvents(db, input);
        expect({ now, weeks, scope: scope.kind, rows: await queryTeamWeeks(db, input) }).toEqual({
          now,
          weeks,
          scope: scope.kind,
          rows: fromEvents,
        });
        compared += fromEvents.filter((row) => row.active > 0 || row.delivered > 0).length;
      }
  return compared;
}

describeEachDatabase('team stats from rollups', (database) => {
  for (const [seed, zone] of [
    [1, 'America/New_York'],
    [2, 'Europe/London'],
  ] as const) {
    it(`give the event-scanning query's figures on random data across the clock changes (${zone}, seed ${seed})`, async () => {
      const { db } = database();
      const { workspaceId, platformIds } = await seedRandom(db, seed, zone);
      // The comparison is not vacuous: most views have weeks with activity and nudges in them.
      expect(await expectSameFigures(db, workspaceId, zone, platformIds)).toBeGreaterThan(50);
      await changeThings(db, workspaceId, seed, zone);
      await expectSameFigures(db, workspaceId, zone, platformIds);
    }, 240_000);
  }

  it('follow a workspace that changes its timezone, and read the events when the view asks for another zone', async () => {
    const { db } = database();
    const { workspaceId, platformIds } = await seedRandom(db, 3, 'America/New_York');
    await db.execute(sql`update workspaces set timezone = 'Asia/Kolkata' where id = ${workspaceId}`);
    await expectSameFigures(db, workspaceId, 'Asia/Kolkata', platformIds);
    // A spelling PostgreSQL reads but the rollups were not kept in: exact figures all the same.
    const input: TeamWeeksInput = {
      workspaceId,
      scope: { kind: 'workspace' },
      window: weekWindow(new Date('2026-03-11T12:00:00Z'), 'Asia/Calcutta', 4),
    };
    const [first] = await queryRows<{ sameZone: boolean }>(db, teamWeeksRollupQuery(input));
    expect(first!.sameZone).toBe(false);
    expect(await queryTeamWeeks(db, input)).toEqual(await queryTeamWeeksFromEvents(db, input));
  }, 240_000);

  it('leave no rollup row behind once a person is forgotten or their rows are past retention', async () => {
    const { db } = database();
    const { workspaceId } = await seedRandom(db, 4, 'Europe/London');
    const count = async () =>
      (
        await queryRows<{ n: number }>(
          db,
          sql`select ((select count(*) from activity_week_rollups) + (select count(*) from nudge_week_rollups))::int as n`,
        )
      )[0]!.n;
    expect(await count()).toBeGreaterThan(0);
    await db.execute(sql`delete from users where id = (select min(id) from users where workspace_id = ${workspaceId})`);
    await db.execute(sql`delete from activity_events`);
    await db.execute(sql`delete from nudge_deliveries`);
    expect(await count()).toBe(0);
  });
});
