import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../support/db.js';
import { silentLogger } from '../support/log.js';
import { ask as askAs, buildTestCore, testActor, testClock } from '../support/core.js';
import { replyText } from '../../src/core/reply.js';
import { queryRows } from '../../src/db/client.js';
import { createScheduler } from '../../src/jobs/scheduler.js';
import { soloInstance } from '../../src/jobs/instance.js';
import { nextDailyAt } from '../../src/core/local-time.js';
import { fakeSender } from './support/fixtures.js';
import type { ChannelMessenger } from '../../src/core/channel-messenger.js';
import type { Platform } from '../../src/core/request.js';
import { slackChannelRef } from '../../adapters/slack/channel-messenger.js';
import { discordChannelRef } from '../../adapters/discord/channel-messenger.js';

/** The platforms' own channel parsers (the ones `invite` uses), without a platform behind them. */
const messenger = (platform: Platform, channelRef: ChannelMessenger['channelRef']): ChannelMessenger => ({
  platform,
  channelRef,
  post: async () => ({ ok: true }),
});
const messengers = [messenger('slack', slackChannelRef), messenger('discord', discordChannelRef)];
const slackAdmin = testActor({ platform: 'slack', workspaceExternalId: 'T0TEAM', userExternalId: 'U0ADMIN' });
const discordAdmin = testActor({
  platform: 'discord',
  workspaceExternalId: '1180000000000000001',
  userExternalId: '1180000000000000002',
});
const storedChannels = async (db: Parameters<typeof queryRows>[0]) =>
  (await queryRows<{ channel_id: string }>(db, sql`select channel_id from team_posts order by workspace_id`)).map(
    (r) => r.channel_id,
  );

const teamRows = async (db: Parameters<typeof queryRows>[0]) =>
  (await queryRows<unknown>(db, sql`select status, slot_at, message_ref from team_post_deliveries order by id`)).map(
    (r) => z.object({ status: z.string(), slot_at: z.coerce.date(), message_ref: z.string().nullable() }).parse(r),
  );
const nextDue = async (db: Parameters<typeof queryRows>[0]) =>
  z
    .object({ next_due_at: z.coerce.date().nullable(), paused_reason: z.string().nullable() })
    .parse((await queryRows<unknown>(db, sql`select next_due_at, paused_reason from team_posts`))[0]);

it('computes the next daily post time in the team’s timezone, across a DST change', () => {
  // 15:00 in London: 15:00Z on Friday 27 March (GMT), 14:00Z on Monday 30 March (BST).
  const days = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
  expect(nextDailyAt('Europe/London', days, '15:00', new Date('2026-03-27T12:00:00Z'))?.toISOString()).toBe(
    '2026-03-27T15:00:00.000Z',
  );
  expect(nextDailyAt('Europe/London', days, '15:00', new Date('2026-03-27T15:00:00Z'))?.toISOString()).toBe(
    '2026-03-30T14:00:00.000Z',
  );
});

describeEachDatabase('team "stretch together" posts', (database) => {
  function setup(sender = fakeSender(undefined, 'slack')) {
    const clock = testClock(new Date('2026-03-02T12:00:00Z'));
    const core = buildTestCore(database().db, { now: clock.now, deps: { channelMessengers: messengers } });
    const scheduler = createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: { slack: sender.sender },
      instance: soloInstance(1),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
    });
    return { clock, core, scheduler, sender };
  }
  const ask = (core: Parameters<typeof askAs>[0], text: string, actor = slackAdmin) => askAs(core, text, actor);

  it('stores the channel id from the escaped mentions Slack and Discord really send, as invite reads them', async () => {
    const { core } = setup();
    // Slack with should_escape: a picked `#backs` arrives as <#C…|backs>, sometimes with the name left empty.
    expect(replyText(await ask(core, '/backcare team-post set 15:00 <#C0123ABC|backs> mon,tue'))).toMatch(/Saved/);
    expect(await storedChannels(database().db)).toEqual(['C0123ABC']);
    expect(replyText(await ask(core, '/backcare team-post set 15:00 <#C0456DEF|>'))).toMatch(/Saved/);
    expect(await storedChannels(database().db)).toEqual(['C0456DEF']);
    // Discord: a channel typed into the text option arrives as <#snowflake>.
    expect(replyText(await ask(core, '/backcare team-post set 15:00 <#1180000000000000123>', discordAdmin))).toMatch(
      /Saved/,
    );
    expect(await storedChannels(database().db)).toEqual(['C0456DEF', '1180000000000000123']);
  });

  it('a bare #name (no id) is refused with how to pick the channel, and nothing unusable is stored', async () => {
    const { core } = setup();
    expect(replyText(await ask(core, '/backcare team-post set 15:00 #team'))).toMatch(
      /pick the channel from Slack's list/,
    );
    expect(replyText(await ask(core, '/backcare team-post set 15:00 #team', discordAdmin))).toMatch(
      /pick the channel from Discord's list/,
    );
    expect(replyText(await ask(core, '/backcare team-post set 15:00 #team', testActor()))).toMatch(/no channels here/);
    expect(await storedChannels(database().db)).toEqual([]);
  });

  it('an admin sets a daily post; it goes to the channel once per day', async () => {
    const { clock, core, scheduler, sender } = setup();
    const saved = await ask(core, '/backcare team-post set 15:00 <#C0BACKS|backs> mon,tue,wed,thu,fri');
    expect(replyText(saved)).toMatch(/C0BACKS at 15:00 \(Europe\/London\)/);
    expect((await nextDue(database().db)).next_due_at?.toISOString()).toBe('2026-03-02T15:00:00.000Z');

    clock.set(new Date('2026-03-02T15:00:20Z'));
    await scheduler.tick();
    await scheduler.tick();
    expect(sender.sent).toHaveLength(1);
    expect(sender.sent[0]!.destination).toEqual({ kind: 'channel', channelId: 'C0BACKS' });
    expect(sender.sent[0]!.message.summary).toMatch(/^Stretch together/);
    expect((await teamRows(database().db)).map((r) => r.status)).toEqual(['sent']);
    expect((await nextDue(database().db)).next_due_at?.toISOString()).toBe('2026-03-03T15:00:00.000Z');
    expect(replyText(await ask(core, '/backcare team-post'))).toMatch(/Next: Tue 3 Mar, 15:00/);
  });

  it('only admins and leads can change it', async () => {
    const { core } = setup();
    const member = testActor({
      platform: 'slack',
      workspaceExternalId: 'T0TEAM',
      isAdmin: false,
      userExternalId: 'member',
    });
    expect(replyText(await ask(core, '/backcare team-post set 15:00 <#C0BACKS|backs>', member))).toMatch(
      /Only workspace admins and team leads/,
    );
    expect(await queryRows(database().db, sql`select 1 from team_posts`)).toHaveLength(0);
    expect(replyText(await ask(core, '/backcare team-post set 25:00 <#C0BACKS|backs>'))).toMatch(/HH:MM/);
  });

  it('pauses the post when the channel cannot be reached, and off removes it', async () => {
    const { clock, core, scheduler } = setup(
      fakeSender(() => ({ status: 'permanent', reason: 'not in channel' }), 'slack'),
    );
    await ask(core, '/backcare team-post set 15:00 <#C0BACKS|backs>');
    clock.set(new Date('2026-03-02T15:00:20Z'));
    await scheduler.tick();
    expect(await nextDue(database().db)).toEqual({ next_due_at: null, paused_reason: 'not in channel' });
    expect(replyText(await ask(core, '/backcare team-post off'))).toMatch(/is off/);
    expect(await queryRows(database().db, sql`select 1 from team_posts`)).toHaveLength(0);
  });

  it('after a crash, a claimed post found on the platform is confirmed, not posted again', async () => {
    const { clock, core, scheduler, sender } = setup();
    await ask(core, '/backcare team-post set 15:00 <#C0BACKS|backs>');
    const [{ id: wsId } = { id: 0 }] = await queryRows<{ id: number }>(
      database().db,
      sql`select id::int as id from workspaces`,
    );
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
