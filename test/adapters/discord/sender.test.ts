import { REST } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../../adapters/discord/custom-id.js';
import {
  createDiscordSender,
  deliveryNonce,
  DMS_CLOSED_REASON,
  type DiscordSender,
} from '../../../adapters/discord/sender.js';
import { buildNudgeMessage, fallbackRoutineSource } from '../../../src/core/nudge-message.js';
import type { NudgeDelivery } from '../../../src/core/sender.js';
import { startFakeDiscordApi } from '../../support/discord/fake-api.js';
import { APP_ID, BOT_TOKEN, GUILD_ID, USER_ID } from '../../support/discord/payloads.js';
import { captureLogger } from '../../support/log.js';

function delivery(id: number, overrides: Partial<NudgeDelivery> = {}): NudgeDelivery {
  const routine = fallbackRoutineSource.get('nudge-shoulder-rolls')!;
  return {
    deliveryId: id,
    slotAt: new Date('2026-03-03T10:00:00Z'),
    workspace: { id: 1, platform: 'discord', externalId: GUILD_ID },
    user: { id: 1, platformUserId: USER_ID, dmChannelId: null },
    destination: { kind: 'dm' },
    message: buildNudgeMessage(routine, id, new Date()),
    ...overrides,
  };
}

describe('discord sender', () => {
  let api: Awaited<ReturnType<typeof startFakeDiscordApi>>;
  let sender: DiscordSender;
  let rest: REST;
  beforeEach(async () => {
    api = await startFakeDiscordApi();
    rest = new REST({ api: api.api, retries: 0, timeout: 5000 }).setToken(BOT_TOKEN);
    sender = createDiscordSender({ rest, log: captureLogger().log, botUserId: APP_ID });
  });
  afterEach(async () => {
    await api.close();
  });

  const messagePosts = () =>
    api.requests.filter((r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.path));

  it('opens the DM once, caches it, and posts with an enforced nonce carrying the delivery id', async () => {
    const first = await sender.send(delivery(42));
    expect(first.status).toBe('sent');
    const opens = api.requests.filter((r) => r.path === '/users/@me/channels');
    expect(opens.map((r) => r.body)).toEqual([{ recipient_id: USER_ID }]);
    const [post] = messagePosts();
    const body = post!.body as {
      nonce: string;
      enforce_nonce: boolean;
      embeds: unknown[];
      components: { components: { custom_id: string; label: string }[] }[];
    };
    expect(body.nonce).toBe('bc-42');
    expect(body.enforce_nonce).toBe(true);
    expect(body.embeds).toHaveLength(1);
    const buttons = body.components.flatMap((r) => r.components);
    expect(buttons.map((b) => b.label)).toEqual(['Done', 'Snooze 30 min', 'Skip', 'Stop nudges']);
    // In a DM the buttons name the guild and the delivery they belong to.
    for (const b of buttons)
      expect(decodeCustomId(b.custom_id)).toMatchObject({ kind: 'button', ctx: { guildId: GUILD_ID, deliveryId: 42 } });
    if (first.status === 'sent') {
      expect(first.dmChannelId).toBe(post!.path.split('/')[2]);
      expect(first.messageRef).toMatch(new RegExp(`^${first.dmChannelId}/\\d+$`));
    }

    await sender.send(delivery(43));
    expect(api.requests.filter((r) => r.path === '/users/@me/channels')).toHaveLength(1);
    expect(deliveryNonce(43).length).toBeLessThanOrEqual(25);
  });

  it('uses a stored DM channel id without opening one, and posts to a team channel when chosen', async () => {
    await sender.send(delivery(1, { user: { id: 1, platformUserId: USER_ID, dmChannelId: '888888888888888888' } }));
    await sender.send(delivery(2, { destination: { kind: 'channel', channelId: '999999999999999999' } }));
    expect(api.requests.filter((r) => r.path === '/users/@me/channels')).toHaveLength(0);
    expect(messagePosts().map((r) => r.path)).toEqual([
      '/channels/888888888888888888/messages',
      '/channels/999999999999999999/messages',
    ]);
  });

  it('obeys a 429 retry_after (discord.js waits, then retries once with the same nonce)', async () => {
    api.respondOnce((r) => r.method === 'POST' && /\/messages$/.test(r.path), {
      status: 429,
      headers: { 'retry-after': '0.3', 'x-ratelimit-scope': 'user' },
      body: { message: 'You are being rate limited.', retry_after: 0.3, global: false },
    });
    const result = await sender.send(delivery(7));
    expect(result.status).toBe('sent');
    const posts = messagePosts();
    expect(posts).toHaveLength(2);
    expect(posts.map((p) => (p.body as { nonce: string }).nonce)).toEqual(['bc-7', 'bc-7']);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(300);
  });

  it('50007 (DMs closed) is permanent with the reason the scheduler records; 5xx is a retry', async () => {
    api.respondOnce((r) => r.method === 'POST' && /\/messages$/.test(r.path), {
      status: 403,
      body: { message: 'Cannot send messages to this user', code: 50007 },
    });
    expect(await sender.send(delivery(8))).toEqual({ status: 'permanent', reason: DMS_CLOSED_REASON });
    api.respondOnce((r) => r.method === 'POST' && /\/messages$/.test(r.path), {
      status: 502,
      body: { message: 'Bad gateway', code: 0 },
    });
    expect(await sender.send(delivery(9))).toMatchObject({ status: 'retry' });
  });

  it('reconcile finds a message by its nonce (only the bot’s own) and reports absence honestly', async () => {
    await sender.send(delivery(11));
    const dm = messagePosts()[0]!.path.split('/')[2]!;
    api.respondOnce((r) => r.method === 'GET' && r.path === `/channels/${dm}/messages`, {
      status: 200,
      body: [
        { id: '100000000000000001', nonce: 'bc-11', author: { id: USER_ID } },
        { id: '100000000000000002', nonce: 'bc-11', author: { id: APP_ID } },
      ],
    });
    expect(await sender.reconcile(delivery(11))).toEqual({ found: true, messageRef: `${dm}/100000000000000002` });
    expect(await sender.reconcile(delivery(12))).toEqual({ found: false });
  });
});
