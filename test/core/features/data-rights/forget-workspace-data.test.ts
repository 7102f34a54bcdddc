import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { replyText } from '../../../../src/core/reply.js';
import type { ChannelMessenger } from '../../../../src/core/channel-messenger.js';
import { queryRows, type Db } from '../../../../src/db/client.js';
import { discordGuildSettings, leadGrants, users } from '../../../../src/db/schema.js';
import { ensureWorkspace } from '../../../../src/db/users.js';
import { createScheduler } from '../../../../src/jobs/scheduler.js';
import { soloInstance } from '../../../../src/jobs/instance.js';
import { slackChannelRef } from '../../../../adapters/slack/channel-messenger.js';
import { ask, buildTestCore, button, testActor, testClock } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';
import { silentLogger } from '../../../support/log.js';
import { fakeSender } from '../../../jobs/support/fixtures.js';

const slack: ChannelMessenger = { platform: 'slack', channelRef: slackChannelRef, post: async () => ({ ok: true }) };
const admin = testActor({ platform: 'slack', workspaceExternalId: 'T0TEAM', userExternalId: 'U0ADMIN', isAdmin: true });
const otherAdmin = testActor({
  platform: 'slack',
  workspaceExternalId: 'T0TEAM',
  userExternalId: 'U0OTHER',
  isAdmin: true,
});

const teamPost = async (db: Db) =>
  z
    .array(z.object({ channel_id: z.string(), created_by_user_id: z.coerce.number().nullable() }))
    .parse(await queryRows<unknown>(db, sql`select channel_id, created_by_user_id from team_posts`));

describeEachDatabase('forget-me keeps the workspace’s own data and only drops the link to the person', (database) => {
  function setup() {
    const clock = testClock(new Date('2026-03-02T12:00:00Z'));
    const core = buildTestCore(database().db, { now: clock.now, deps: { channelMessengers: [slack] } });
    return { clock, core };
  }

  /** The admin sets up the team post and makes Sam a lead; both belong to the workspace. */
  async function adminSetsUp(core: ReturnType<typeof setup>['core']) {
    expect(
      replyText(await ask(core, '/backcare team-post set 15:00 <#C0BACKS|backs> mon,tue,wed,thu,fri', admin)),
    ).toMatch(/Saved/);
    expect(replyText(await ask(core, '/backcare lead add <@U0SAM>', admin))).toMatch(/U0SAM/);
    const [post] = await teamPost(database().db);
    expect(post?.created_by_user_id).toEqual(expect.any(Number));
  }

  it('forget-me of the admin who set the team post keeps the post (created by: nobody) and the lead grants (granted by: nobody)', async () => {
    const { clock, core } = setup();
    await adminSetsUp(core);
    const asked = await ask(core, 'forget-me', admin);
    const done = await ask(core, { kind: 'action', ...button(asked, 'forget.confirm') }, admin);
    expect(done.summary).toMatch(/^Done: everything Backcare stored about you has been deleted/);

    expect(await database().db.select().from(users)).toEqual([]);
    expect(await teamPost(database().db)).toEqual([{ channel_id: 'C0BACKS', created_by_user_id: null }]);
    expect(
      await database()
        .db.select({ platformUserId: leadGrants.platformUserId, grantedBy: leadGrants.grantedBy })
        .from(leadGrants),
    ).toEqual([{ platformUserId: 'U0SAM', grantedBy: null }]);
    expect(replyText(await ask(core, '/backcare lead list', otherAdmin))).toMatch(
      /U0SAM.*granted by an admin whose data has since been deleted/,
    );
    expect(replyText(await ask(core, '/backcare team-post', otherAdmin))).toMatch(/C0BACKS/);

    // And the post still goes out at its time.
    const sender = fakeSender(undefined, 'slack');
    const scheduler = createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: { slack: sender.sender },
      instance: soloInstance(1),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
    });
    clock.set(new Date('2026-03-02T15:00:20Z'));
    await scheduler.tick();
    expect(sender.sent.map((s) => s.destination)).toEqual([{ kind: 'channel', channelId: 'C0BACKS' }]);
  });

  it('admin forget of that admin keeps them too', async () => {
    const { core } = setup();
    await adminSetsUp(core);
    const asked = await ask(core, 'admin forget <@U0ADMIN>', otherAdmin);
    expect((await ask(core, { kind: 'action', ...button(asked, 'admin.forget.confirm') }, otherAdmin)).summary).toMatch(
      /^Done/,
    );
    expect(await teamPost(database().db)).toEqual([{ channel_id: 'C0BACKS', created_by_user_id: null }]);
    expect((await database().db.select().from(leadGrants)).map((g) => [g.platformUserId, g.grantedBy])).toEqual([
      ['U0SAM', null],
    ]);
  });

  it('an admin Backcare has no user row for, who only granted leads and chose the Discord lead role, is unlinked too', async () => {
    const { core } = setup();
    const workspace = await ensureWorkspace(database().db, { platform: 'slack', externalId: 'T0TEAM' });
    await database()
      .db.insert(leadGrants)
      .values({ workspaceId: workspace.id, platformUserId: 'U0SAM', grantedBy: 'U0ADMIN' });
    await database()
      .db.insert(discordGuildSettings)
      .values({ workspaceId: workspace.id, leadRoleId: 'R1', updatedBy: 'U0ADMIN' });
    const asked = await ask(core, 'forget-me', admin);
    expect((await ask(core, { kind: 'action', ...button(asked, 'forget.confirm') }, admin)).summary).toMatch(/^Done/);
    expect((await database().db.select().from(leadGrants)).map((g) => [g.platformUserId, g.grantedBy])).toEqual([
      ['U0SAM', null],
    ]);
    expect((await database().db.select().from(discordGuildSettings)).map((s) => [s.leadRoleId, s.updatedBy])).toEqual([
      ['R1', null],
    ]);
  });
});
