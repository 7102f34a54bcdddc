import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/db.js';
import { silentLogger } from '../support/log.js';
import { ask, buildTestCore, testActor, testClock } from '../support/core.js';
import { replyText } from '../../src/core/reply.js';
import { queryRows } from '../../src/db/client.js';
import { createScheduler } from '../../src/jobs/scheduler.js';
import { soloInstance } from '../../src/jobs/instance.js';
import { nextDailyAt } from '../../src/jobs/slots.js';
import { fakeSender } from './support/fixtures.js';

const teamRows = async (db: Parameters<typeof queryRows>[0]) =>
  (await queryRows<unknown>(db, sql`select status, slot_at, message_ref from team_post_deliveries order by id`)).map((r) =>
    z.object({ status: z.string(), slot_at: z.coerce.date(), message_ref: z.string().nullable() }).parse(r),
  );
const nextDue = async (db: Parameters<typeof queryRows>[0]) =>
  z.object({ next_due_at: z.coerce.date().nullable(), paused_reason: z.string().nullable() }).parse((await queryRows<unknown>(db, sql`select next_due_at, paused_reason from team_posts`))[0]);

it('computes the next daily post time in the team’s timezone, across a DST change', () => {
  // 15:00 in London: 15:00Z on Friday 27 March (GMT), 14:00Z on Monday 30 March (BST).
  const days = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
  expect(nextDailyAt('Europe/London', days, '15:00', new Date('2026-03-27T12:00:00Z'))?.toISOString()).toBe('2026-03-27T15:00:00.000Z');
  expect(nextDailyAt('Europe/London', days, '15:00', new Date('2026-03-27T15:00:00Z'))?.toISOString()).toBe('2026-03-30T14:00:00.000Z');
});

describeEachDatabase('team "stretch together" posts', (database) => {
  function setup(sender = fakeSender()) {
    const clock = testClock(new Date('2026-03-02T12:00:00Z'));
    const core = buildTestCore(database().db, { now: clock.now });
    const scheduler = createScheduler({ db: database().db, log: silentLogger(), senders: { console: sender.sender }, instance: soloInstance(1), now: clock.now, sleep: async (ms) => clock.advance(ms) });
    return { clock, core, scheduler, sender };
  }

  it('an admin sets a daily post; it goes to the channel once per day', async () => {
    const { clock, core, scheduler, sender } = setup();
    const saved = await ask(core, '/backcare team-post set 15:00 #backs mon,tue,wed,thu,fri');
    expect(replyText(saved)).toMatch(/backs at 15:00 \(Europe\/London\)/);
    expect((await nextDue(database().db)).next_due_at?.toISOString()).toBe('2026-03-02T15:00:00.000Z');

    clock.set(new Date('2026-03-02T15:00:20Z'));
    await scheduler.tick();
    await scheduler.tick();
    expect(sender.sent).toHaveLength(1);
    expect(sender.sent[0]!.destination).toEqual({ kind: 'channel', channelId: 'backs' });
    expect(sender.sent[0]!.message.summary).toMatch(/^Stretch together/);
    expect((await teamRows(database().db)).map((r) => r.status)).toEqual(['sent']);
    expect((await nextDue(database().db)).next_due_at?.toISOString()).toBe('2026-03-03T15:00:00.000Z');
    expect(replyText(await ask(core, '/backcare team-post'))).toMatch(/Next: Tue 3 Mar, 15:00/);
  });

  it('only admins and leads can change it', async () => {
    const { core } = setup();
    const member = testActor({ isAdmin: false, userExternalId: 'member' });
    expect(replyText(await ask(core, '/backcare team-post set 15:00 #backs', member))).toMatch(/Only workspace admins and team leads/);
    expect(await queryRows(database().db, sql`select 1 from team_posts`)).toHaveLength(0);
    expect(replyText(await ask(core, '/backcare team-post set 25:00 #backs'))).toMatch(/HH:MM/);
  });

  it('pauses the post when the channel cannot be reached, and off removes it', async () => {
    const { clock, core, scheduler } = setup(fakeSender(() => ({ status: 'permanent', reason: 'not in channel' })));
    await ask(core, '/backcare team-post set 15:00 #backs');
    clock.set(new Date('2026-03-02T15:00:20Z'));
    await scheduler.tick();
    expect(await nextDue(database().db)).toEqual({ next_due_at: null, paused_reason: 'not in channel' });
    expect(replyText(await ask(core, '/backcare team-post off'))).toMatch(/is off/);
    expect(await queryRows(database().db, sql`select 1 from team_posts`)).toHaveLength(0);
  });

  it('after a crash, a claimed post found on the platform is confirmed, not posted again', async () => {
    const { clock, core, scheduler, sender } = setup();
    await ask(core, '/backcare team-post set 15:00 #backs');
    const [{ id: wsId } = { id: 0 }] = await queryRows<{ id: number }>(database().db, sql`select id::int as id from workspaces`);
    const [row] = await queryRows<{ id: number }>(
      database().db,
      sql`insert into team_post_deliveries (workspace_id, slot_at, status, routine_id, claimed_at, claimed_by)
          values (${wsId}, ${new Date('2026-03-02T15:00:00Z')}, 'claimed', 'nudge-shoulder-rolls', now(), 99) returning id::int as id`,
    );
    sender.posted.set(row!.id, 'posted-before-crash');
    clock.set(new Date('2026-03-02T15:01:00Z'));
    await scheduler.reconcile();
    expect(sender.reconciled).toEqual([row!.id]);
    expect(sender.sent).toHaveLength(0);
    expect(await teamRows(database().db)).toMatchObject([{ status: 'sent', message_ref: 'posted-before-crash' }]);
  });
});
