import { afterEach, beforeEach, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { describeEachDatabase } from '../../support/db.js';
import { buttonPress, GUILD_ID, slashCommand, messageWith } from '../../support/discord/payloads.js';

describeEachDatabase('discord adapter: slash commands', (database) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(database().db);
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers /backcare help in a guild with one ephemeral embed (callback type 4, flags 64)', async () => {
    const payload = slashCommand('help');
    await h.emit(payload);
    const calls = h.api.requests.filter((r) => r.path.startsWith(`/interactions/${payload.id}/`));
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /interactions/${payload.id}/${payload.token}/callback`]);
    const [callback] = h.callbacks(payload.id);
    expect(callback!.type).toBe(4);
    expect(callback!.data!.flags).toBe(64);
    const embeds = callback!.data!.embeds as { title?: string; description?: string }[];
    expect(embeds).toHaveLength(1);
    expect(embeds[0]!.description).toContain('**/backcare settings');
    expect(embeds[0]!.description).toContain('not medical advice');
  });
});
