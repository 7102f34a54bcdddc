import { GatewayIntentBits, Partials } from 'discord.js';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { dmCommandText } from '../../../adapters/discord/parse.js';
import { describeEachDatabase } from '../../support/db.js';
import { APP_ID, nextId, USER_ID } from '../../support/discord/payloads.js';
import { startHarness, type Harness } from './harness.js';

const DM_CHANNEL = '777777777777777777';

/** A MESSAGE_CREATE packet as the gateway sends it for a message typed in a DM with the bot. */
function dmPacket(
  content: string,
  author: Record<string, unknown> = {
    id: USER_ID,
    username: 'alice',
    discriminator: '0',
    global_name: 'Alice',
    avatar: null,
  },
  extra: Record<string, unknown> = {},
) {
  return {
    id: nextId(),
    channel_id: DM_CHANNEL,
    channel_type: 1,
    type: 0,
    content,
    author,
    attachments: [],
    embeds: [],
    mentions: [],
    mention_roles: [],
    pinned: false,
    mention_everyone: false,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    flags: 0,
    components: [],
    ...extra,
  };
}

it('reads a typed DM as the words after an optional /backcare or a mention of the bot', () => {
  expect(dmCommandText(' /backcare breathe ')).toBe('breathe');
  expect(dmCommandText(`<@${APP_ID}> me`)).toBe('me');
  expect(dmCommandText('BACKCARE help')).toBe('help');
  expect(dmCommandText('')).toBe('');
});

describeEachDatabase('discord: messages typed in a DM', (database) => {
  let h: Harness;
  const actions = () =>
    (h.adapter.client as unknown as { actions: { MessageCreate: { handle(data: unknown): unknown } } }).actions;
  const send = async (packet: unknown) => {
    actions().MessageCreate.handle(packet);
    await h.adapter.idle();
  };
  const answers = () =>
    h.api.requests
      .filter((r) => r.method === 'POST' && r.path === `/channels/${DM_CHANNEL}/messages`)
      .map((r) => JSON.stringify(r.body));

  beforeEach(async () => {
    h = await startHarness(database().db);
  });
  afterEach(async () => {
    await h.close();
  });

  it('asks for DMs (DirectMessages intent, partial channels) and nothing privileged', () => {
    const options = h.adapter.client.options;
    expect(options.partials).toContain(Partials.Channel);
    expect(options.intents.has(GatewayIntentBits.DirectMessages)).toBe(true);
    expect(options.intents.has(GatewayIntentBits.MessageContent)).toBe(false);
    expect(options.intents.has(GatewayIntentBits.GuildMembers)).toBe(false);
  });

  it('a typed DM is answered in the DM as a command, with or without /backcare; empty or unknown gets help', async () => {
    await send(dmPacket('privacy'));
    await send(dmPacket('/backcare help'));
    await send(dmPacket('hello there'));
    const replies = answers();
    expect(replies).toHaveLength(3);
    expect(replies[0]).toMatch(/privacy|stored/i);
    expect(replies[1]).toContain('/backcare help');
    expect(replies[2]).toContain('/backcare help');
  });

  it('the same message delivered twice is answered once; bots (Backcare too) and server messages are ignored', async () => {
    const packet = dmPacket('me');
    await send(packet);
    await send(packet);
    await send(dmPacket('help', { id: APP_ID, username: 'Backcare', discriminator: '0', avatar: null, bot: true }));
    await send(dmPacket('help', undefined, { guild_id: '222222222222222222', channel_type: 0 }));
    expect(answers()).toHaveLength(1);
  });

  it('a command that opens a form points to the slash command', async () => {
    await send(dmPacket('settings edit'));
    const replies = answers();
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain('/backcare settings edit');
  });
});
