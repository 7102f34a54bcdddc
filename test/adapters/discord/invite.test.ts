import { afterEach, beforeEach, expect, it } from 'vitest';
import { inviteDms, preferences } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { MANAGE_GUILD_PERMISSIONS, slashCommand } from '../../support/discord/payloads.js';
import { startHarness, type Harness } from './harness.js';

const ANNOUNCE_CHANNEL = '1180000000000000123';

describeEachDatabase('discord: /backcare invite', (database) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(database().db);
    // As src/app.ts does: the adapter's channel messenger goes to the core.
    h.core.deps.channelMessengers = [h.adapter.channelMessenger];
  });
  afterEach(async () => {
    await h.close();
  });

  it('posts the announcement in the named channel; `dm` is explained away (no privileged members intent); nothing stored', async () => {
    const payload = slashCommand('invite', [{ name: 'args', type: 3, value: `<#${ANNOUNCE_CHANNEL}> dm` }], {
      kind: 'guild',
      permissions: MANAGE_GUILD_PERMISSIONS,
    });
    await h.emit(payload);
    const posts = h.api.requests.filter(
      (r) => r.method === 'POST' && r.path === `/channels/${ANNOUNCE_CHANNEL}/messages`,
    );
    expect(posts).toHaveLength(1);
    const body = posts[0]!.body as {
      embeds: { description?: string; title?: string }[];
      components: { components: { label: string; custom_id: string }[] }[];
    };
    expect(body.components.flatMap((r) => r.components.map((c) => c.label))).toEqual(['Join', 'No thanks']);
    expect(JSON.stringify(body.embeds)).toContain('not medical advice');
    const reply = JSON.stringify(
      h.callbacks(payload.id).at(-1) ?? h.api.requests.filter((r) => r.path.includes('/webhooks/')).at(-1)?.body,
    );
    expect(reply).toContain('Posted one announcement');
    expect(reply).toContain('privileged Server Members intent');
    // No DM channel opened, nobody opted in.
    expect(h.api.requests.filter((r) => r.path === '/users/@me/channels')).toEqual([]);
    expect(await database().db.select().from(inviteDms)).toEqual([]);
    expect(await database().db.select().from(preferences)).toEqual([]);
  });

  it('an ordinary member cannot invite', async () => {
    const payload = slashCommand('invite', [{ name: 'args', type: 3, value: `<#${ANNOUNCE_CHANNEL}>` }]);
    await h.emit(payload);
    expect(h.api.requests.filter((r) => r.path === `/channels/${ANNOUNCE_CHANNEL}/messages`)).toEqual([]);
    expect(JSON.stringify(h.callbacks(payload.id))).toContain('Only workspace admins and team leads');
  });
});
