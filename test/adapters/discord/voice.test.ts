import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { IN_VOICE_REASON } from '../../../adapters/discord/sender.js';
import { defaultPreferences } from '../../../src/core/preferences.js';
import { savePreferences } from '../../../src/db/preferences.js';
import { activityEvents, nudgeDeliveries } from '../../../src/db/schema.js';
import { ensureUser, ensureWorkspace } from '../../../src/db/users.js';
import { soloInstance } from '../../../src/jobs/instance.js';
import { createScheduler } from '../../../src/jobs/scheduler.js';
import { describeEachDatabase } from '../../support/db.js';
import { APP_ID, GUILD_ID, USER_ID } from '../../support/discord/payloads.js';
import { silentLogger } from '../../support/log.js';
import { startHarness, type Harness } from './harness.js';
import { ask, testActor } from '../../support/core.js';
import { replyText } from '../../../src/core/reply.js';

const VOICE_CHANNEL = '1180000000000000099';

/** The gateway's raw packets, fed through discord.js's own packet handlers (as a live shard would). */
function dispatch(h: Harness, t: string, d: unknown) {
  const ws = h.adapter.client.ws as unknown as {
    status: number;
    handlePacket(packet: unknown, shard: unknown): boolean;
  };
  ws.status = 0; // Status.Ready: otherwise discord.js queues non-whitelisted packets until READY
  // READY would have set the bot's own user; the voice handler compares against it.
  const client = h.adapter.client as unknown as { user: { id: string } | null };
  client.user ??= { id: APP_ID };
  ws.handlePacket({ op: 0, t, s: 1, d }, { id: 0 });
}

function voiceState(channelId: string | null) {
  return {
    guild_id: GUILD_ID,
    channel_id: channelId,
    user_id: USER_ID,
    session_id: 'f3b9c2d1e0a8b7c6d5e4f3a2b1c0d9e8',
    deaf: false,
    mute: false,
    self_deaf: false,
    self_mute: true,
    self_video: false,
    suppress: false,
    request_to_speak_timestamp: null,
    member: {
      user: { id: USER_ID, username: 'ada', discriminator: '0', avatar: null, global_name: 'Ada' },
      roles: [],
      joined_at: '2025-01-10T09:00:00.000000+00:00',
      deaf: false,
      mute: false,
      flags: 0,
    },
  };
}

describeEachDatabase('discord: in a voice channel means no nudge', (database) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(database().db);
    dispatch(h, 'GUILD_CREATE', {
      id: GUILD_ID,
      name: 'Desk crew',
      roles: [],
      channels: [],
      members: [],
      emojis: [],
      stickers: [],
      features: [],
      voice_states: [],
      unavailable: false,
      member_count: 2,
    });
  });
  afterEach(async () => {
    await h.close();
  });

  async function seedDue() {
    const db = database().db;
    const workspace = await ensureWorkspace(db, { platform: 'discord', externalId: GUILD_ID });
    const user = await ensureUser(db, workspace.id, USER_ID);
    const prefs = {
      ...defaultPreferences('UTC'),
      optedIn: true,
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as (
        'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'
      )[],
      start: '00:00',
      end: '23:59',
    };
    await savePreferences(db, user.id, prefs, new Date(Date.now() - 60_000), new Date());
    return user.id;
  }

  const scheduler = () =>
    createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: { discord: h.adapter.sender },
      instance: soloInstance(1),
      sleep: async () => undefined,
    });

  it('VOICE_STATE_UPDATE join → the slot is skipped as unavailable with the reason; nothing is posted', async () => {
    const userId = await seedDue();
    dispatch(h, 'VOICE_STATE_UPDATE', voiceState(VOICE_CHANNEL));
    const before = h.api.requests.length;
    expect(await scheduler().tick()).toMatchObject({ unavailable: 1, sent: 0 });
    const rows = await database().db.select().from(nudgeDeliveries).where(eq(nudgeDeliveries.userId, userId));
    expect(rows.map((r) => [r.status, r.lastError])).toEqual([['unavailable', IN_VOICE_REASON]]);
    const events = await database()
      .db.select()
      .from(activityEvents)
      .where(and(eq(activityEvents.userId, userId), eq(activityEvents.outcome, 'unavailable')));
    expect(events).toHaveLength(1);
    expect(h.requestsAfter(before).filter((r) => r.method === 'POST' && /\/messages$/.test(r.path))).toEqual([]);
    // The reason is visible to the person in /backcare me.
    const me = await ask(
      h.core,
      '/backcare me',
      testActor({ platform: 'discord', workspaceExternalId: GUILD_ID, userExternalId: USER_ID }),
    );
    expect(replyText(me)).toMatch(/Last nudge skipped: in a Discord voice channel \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
  });

  it('after leaving (channel_id null) the person is available again', async () => {
    dispatch(h, 'VOICE_STATE_UPDATE', voiceState(VOICE_CHANNEL));
    const delivery = {
      deliveryId: 1,
      slotAt: new Date(),
      workspace: { id: 1, platform: 'discord' as const, externalId: GUILD_ID },
      user: { id: 1, platformUserId: USER_ID, dmChannelId: null },
      destination: { kind: 'dm' as const },
      message: { summary: 'x', blocks: [], actions: [], visibility: 'dm' as const },
    };
    expect(await h.adapter.sender.isAvailable!(delivery)).toEqual({ available: false, reason: IN_VOICE_REASON });
    dispatch(h, 'VOICE_STATE_UPDATE', voiceState(null));
    expect(await h.adapter.sender.isAvailable!(delivery)).toEqual({ available: true });
    // Someone else's call, or a call in another server, does not count.
    dispatch(h, 'VOICE_STATE_UPDATE', {
      ...voiceState(VOICE_CHANNEL),
      user_id: '1180000000000000777',
      member: undefined,
    });
    expect(await h.adapter.sender.isAvailable!(delivery)).toEqual({ available: true });
    expect(
      await h.adapter.sender.isAvailable!({
        ...delivery,
        workspace: { ...delivery.workspace, externalId: '1180000000000000555' },
      }),
    ).toEqual({ available: true });
  });

  it('a voice state already present in GUILD_CREATE counts too (after a reconnect)', async () => {
    dispatch(h, 'GUILD_CREATE', {
      id: '1180000000000000444',
      name: 'Other',
      roles: [],
      channels: [],
      members: [],
      emojis: [],
      stickers: [],
      features: [],
      unavailable: false,
      voice_states: [{ ...voiceState(VOICE_CHANNEL), guild_id: undefined, member: undefined }],
    });
    const delivery = {
      deliveryId: 2,
      slotAt: new Date(),
      workspace: { id: 1, platform: 'discord' as const, externalId: '1180000000000000444' },
      user: { id: 1, platformUserId: USER_ID, dmChannelId: null },
      destination: { kind: 'dm' as const },
      message: { summary: 'x', blocks: [], actions: [], visibility: 'dm' as const },
    };
    expect(await h.adapter.sender.isAvailable!(delivery)).toEqual({ available: false, reason: IN_VOICE_REASON });
  });
});
