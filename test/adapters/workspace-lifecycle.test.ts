import { Events, type Guild } from 'discord.js';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { z } from 'zod';
import { createSlackAdapter } from '../../adapters/slack/adapter.js';
import { REMOVED_REASON } from '../../src/core/ports.js';
import type { Actor, Platform } from '../../src/core/request.js';
import type { Core } from '../../src/core/router.js';
import type { Database } from '../../src/db/client.js';
import { queryRows } from '../../src/db/client.js';
import { preferences, users, workspaces } from '../../src/db/schema.js';
import { describeEachDatabase } from '../support/db.js';
import { GUILD_ID } from '../support/discord/payloads.js';
import { BOT_TOKEN, postJson } from '../support/slack/http.js';
import { appUninstalled, TEAM_ID } from '../support/slack/payloads.js';
import { startHarness, type ClientActions, type Harness as DiscordHarness } from './discord/harness.js';
import { useSlackHarness } from './slack/harness.js';

/**
 * One rule for Backcare leaving a workspace and coming back, driven through each platform's real entry points
 * (Slack: app_uninstalled, then a start with a working token; Discord: guildDelete, then guildCreate).
 */
interface PlatformDriver {
  platform: Platform;
  workspaceId: string;
  /** Four people of the workspace, by platform id. */
  people: { active: [string, string]; optedOut: string; pausedOther: string };
  core(): Core;
  remove(): Promise<void>;
  restore(): Promise<void>;
  /** Platform ids of the people sent the "Backcare is back" note, once per note. */
  told(): string[];
}

const OTHER_REASON = 'the channel chosen for nudges no longer exists';

async function seed(driver: PlatformDriver, database: Database): Promise<void> {
  const actor = (userExternalId: string): Actor => ({
    platform: driver.platform,
    workspaceExternalId: driver.workspaceId,
    userExternalId,
    timezone: 'Europe/London',
  });
  const say = (userId: string, text: string) =>
    driver.core().handle({ actor: actor(userId), input: { kind: 'command', text } });
  const { active, optedOut, pausedOther } = driver.people;
  for (const id of [...active, optedOut, pausedOther]) await say(id, 'settings on');
  await say(optedOut, 'settings off');
  const [other] = await database.db.select().from(users).where(eq(users.platformUserId, pausedOther));
  await database.db
    .update(preferences)
    .set({ pausedReason: OTHER_REASON, nextDueAt: null })
    .where(eq(preferences.userId, other!.id));
  const [workspace] = await database.db.select().from(workspaces).where(eq(workspaces.externalId, driver.workspaceId));
  await database.db.execute(
    sql`insert into team_posts (workspace_id, channel_id, timezone, local_time, days, next_due_at)
        values (${workspace!.id}, 'C0TEAM', 'Europe/London', '11:00', '["mon","tue","wed","thu","fri"]'::jsonb, now() + interval '1 day')`,
  );
}

const stateSchema = z.object({ optedIn: z.boolean(), pausedReason: z.string().nullable(), due: z.boolean() });

async function stateOf(database: Database, platformUserId: string): Promise<z.infer<typeof stateSchema>> {
  const [row] = await database.db
    .select({ prefs: preferences })
    .from(preferences)
    .innerJoin(users, eq(users.id, preferences.userId))
    .where(eq(users.platformUserId, platformUserId));
  return stateSchema.parse({
    optedIn: row?.prefs.optedIn,
    pausedReason: row?.prefs.pausedReason,
    due: row?.prefs.nextDueAt instanceof Date,
  });
}

async function teamPostOf(database: Database): Promise<{ pausedReason: string | null; due: boolean }> {
  const [row] = await queryRows<{ paused_reason: string | null; next_due_at: unknown }>(
    database.db,
    sql`select paused_reason, next_due_at from team_posts`,
  );
  return { pausedReason: row?.paused_reason ?? null, due: row?.next_due_at !== null && row !== undefined };
}

async function activeOf(database: Database, externalId: string): Promise<boolean | undefined> {
  const [row] = await database.db.select().from(workspaces).where(eq(workspaces.externalId, externalId));
  return row?.active;
}

/** The shared behaviour: the same steps and expectations for every platform. */
function workspaceLifecycleBehaviour(database: () => Database, driver: () => PlatformDriver): void {
  it('removal pauses everyone active and the team post; restoring resumes exactly them and tells them once', async () => {
    const d = driver();
    await seed(d, database());
    const [first, second] = d.people.active;
    const before = {
      optedOut: await stateOf(database(), d.people.optedOut),
      pausedOther: await stateOf(database(), d.people.pausedOther),
    };
    expect(before.optedOut).toEqual({ optedIn: false, pausedReason: null, due: false });
    expect(before.pausedOther).toEqual({ optedIn: true, pausedReason: OTHER_REASON, due: false });

    await d.remove();
    expect(await activeOf(database(), d.workspaceId)).toBe(false);
    for (const id of [first, second])
      expect(await stateOf(database(), id)).toEqual({ optedIn: true, pausedReason: REMOVED_REASON, due: false });
    expect(await teamPostOf(database())).toEqual({ pausedReason: REMOVED_REASON, due: false });
    // Someone opted out, or paused for another reason, keeps exactly their state.
    expect(await stateOf(database(), d.people.optedOut)).toEqual(before.optedOut);
    expect(await stateOf(database(), d.people.pausedOther)).toEqual(before.pausedOther);

    await d.restore();
    expect(await activeOf(database(), d.workspaceId)).toBe(true);
    for (const id of [first, second])
      expect(await stateOf(database(), id)).toEqual({ optedIn: true, pausedReason: null, due: true });
    expect(await teamPostOf(database())).toEqual({ pausedReason: null, due: true });
    expect(await stateOf(database(), d.people.optedOut)).toEqual(before.optedOut);
    expect(await stateOf(database(), d.people.pausedOther)).toEqual(before.pausedOther);
    expect(d.told().sort()).toEqual([first, second].sort());

    // Restoring again (a second start, a repeated join event) resumes and tells nobody more.
    await d.restore();
    expect(d.told().sort()).toEqual([first, second].sort());
  });
}

describeEachDatabase('workspace removed and restored: Slack', (database) => {
  const h = useSlackHarness(database);
  let removals = 0;
  workspaceLifecycleBehaviour(database, () => ({
    platform: 'slack',
    workspaceId: TEAM_ID,
    people: { active: ['U0ACTIVE01', 'U0ACTIVE02'], optedOut: 'U0OPTEDOUT', pausedOther: 'U0PAUSED01' },
    core: () => {
      // As src/app.ts does: the adapter's messenger goes to the core (it DMs people that Backcare is back).
      const deps = h().core.deps;
      if (!deps.channelMessengers?.includes(h().adapter.channelMessenger))
        (deps.channelMessengers ??= []).push(h().adapter.channelMessenger);
      h().answer.set('conversations.open', (call) => ({
        body: { ok: true, channel: { id: `D-${String(call.args.users)}` } },
      }));
      return h().core;
    },
    async remove() {
      await postJson(h().adapter.port, '/slack/events', appUninstalled(`Ev0REMOVE${++removals}`));
      await h().adapter.idle();
    },
    async restore() {
      // Single-workspace mode: a start with a working token is how Backcare comes back.
      h().answer.set('auth.test', () => ({ body: { ok: true, team_id: TEAM_ID, user_id: 'U0TESTBOT' } }));
      const again = createSlackAdapter({
        core: h().core,
        log: h().logs.log,
        signingSecret: 'x',
        botToken: BOT_TOKEN,
        port: 0,
        host: '127.0.0.1',
        clientOptions: { retryConfig: { retries: 0 } },
      });
      await again.start();
      await again.stop();
    },
    told: () =>
      h()
        .api.of('chat.postMessage')
        .filter((c) => String(c.args.text).startsWith('Backcare is back'))
        .map((c) => String(c.args.channel).replace(/^D-/, '')),
  }));
});

describeEachDatabase('workspace removed and restored: Discord', (database) => {
  let h: DiscordHarness;
  beforeEach(async () => {
    h = await startHarness(database().db);
    (h.core.deps.channelMessengers ??= []).push(h.adapter.channelMessenger);
  });
  afterEach(async () => {
    await h.close();
  });
  const guildData = { id: GUILD_ID, name: 'Desk crew', roles: [], channels: [], members: [], emojis: [], features: [] };
  const addGuild = () => (h.adapter.client.guilds as unknown as { _add(d: unknown): Guild })._add(guildData);
  workspaceLifecycleBehaviour(database, () => ({
    platform: 'discord',
    workspaceId: GUILD_ID,
    people: {
      active: ['600000000000000001', '600000000000000002'],
      optedOut: '600000000000000003',
      pausedOther: '600000000000000004',
    },
    core: () => h.core,
    async remove() {
      addGuild();
      (h.adapter.client as unknown as { actions: ClientActions }).actions.GuildDelete.handle({ id: GUILD_ID });
      await h.adapter.idle();
    },
    async restore() {
      // What discord.js's GUILD_CREATE handler does for a guild the bot joins.
      h.adapter.client.emit(Events.GuildCreate, addGuild());
      await h.adapter.idle();
    },
    told: () =>
      h.api.requests
        .filter((r) => r.method === 'POST' && /^\/channels\/7\d+\/messages$/.test(r.path))
        .filter((r) => JSON.stringify(r.body).includes('Backcare is back'))
        .map((r) => `6${/^\/channels\/7(\d+)\/messages$/.exec(r.path)![1]}`),
  }));
});
