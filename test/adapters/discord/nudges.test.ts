import { afterEach, beforeEach, expect, it } from 'vitest';
import { decodeCustomId } from '../../../adapters/discord/custom-id.js';
import { DMS_CLOSED_REASON } from '../../../adapters/discord/sender.js';
import { defaultPreferences } from '../../../src/core/preferences.js';
import { loadPreferences, savePreferences } from '../../../src/db/preferences.js';
import { ensureUser, ensureWorkspace } from '../../../src/db/users.js';
import { soloInstance } from '../../../src/jobs/instance.js';
import { createScheduler } from '../../../src/jobs/scheduler.js';
import { activity, deliveries } from '../../jobs/support/fixtures.js';
import { describeEachDatabase } from '../../support/db.js';
import { buttonPress, GUILD_ID, messageWith, slashCommand, USER_ID } from '../../support/discord/payloads.js';
import { silentLogger } from '../../support/log.js';
import { startHarness, type Harness } from './harness.js';

describeEachDatabase('discord nudges: scheduler → DM → buttons', (database) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(database().db);
  });
  afterEach(async () => {
    await h.close();
  });

  async function seedDue(userId: string) {
    const db = database().db;
    const workspace = await ensureWorkspace(db, { platform: 'discord', externalId: GUILD_ID });
    const user = await ensureUser(db, workspace.id, userId);
    const prefs = {
      ...defaultPreferences('UTC'),
      optedIn: true,
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const,
      start: '00:00',
      end: '23:59',
    };
    await savePreferences(db, user.id, { ...prefs, days: [...prefs.days] }, new Date(Date.now() - 60_000), new Date());
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

  it('a nudge arrives by DM with an enforced nonce; pressing Done twice in the DM records once', async () => {
    await seedDue(USER_ID);
    expect(await scheduler().tick()).toMatchObject({ sent: 1 });
    const [row] = await deliveries(database().db);
    const post = h.api.requests.find((r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.path))!;
    const body = post.body as {
      nonce: string;
      enforce_nonce: boolean;
      components: { components: { custom_id: string; label: string }[] }[];
    };
    expect(body).toMatchObject({ nonce: `bc-${row!.id}`, enforce_nonce: true });
    const done = body.components.flatMap((r) => r.components).find((b) => b.label === 'Done')!;
    expect(decodeCustomId(done.custom_id)).toMatchObject({ ctx: { guildId: GUILD_ID, deliveryId: row!.id } });

    const dmMessage = messageWith(body.components, { channelId: post.path.split('/')[2]! });
    const first = buttonPress(done.custom_id, { kind: 'dm' }, dmMessage);
    await h.emit(first);
    const second = buttonPress(done.custom_id, { kind: 'dm' }, dmMessage);
    await h.emit(second);
    expect(h.callbacks(first.id)[0]).toMatchObject({ type: 7 });
    expect(JSON.stringify(h.callbacks(first.id)[0])).toContain('Nice work');
    expect(JSON.stringify(h.callbacks(second.id)[0])).toContain('already been answered');
    expect((await activity(database().db)).filter((a) => a.outcome === 'done')).toHaveLength(1);
    expect((await deliveries(database().db))[0]!.status).toBe('done');
  });

  it('DMs closed (50007): the person is paused with that reason and told how to fix it at their next command', async () => {
    const userId = await seedDue(USER_ID);
    h.api.respondOnce((r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.path), {
      status: 403,
      body: { message: 'Cannot send messages to this user', code: 50007 },
    });
    expect(await scheduler().tick()).toMatchObject({ failed: 1 });
    expect(await loadPreferences(database().db, userId)).toMatchObject({ pausedReason: DMS_CLOSED_REASON });

    const next = slashCommand('help');
    await h.emit(next);
    const text = JSON.stringify(h.callbacks(next.id)[0]);
    expect(text).toContain('Privacy Settings');
    expect(text).toContain('/backcare settings mode:on');
  });
});
