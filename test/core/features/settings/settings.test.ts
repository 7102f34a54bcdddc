import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import {
  activityEvents,
  inviteDms,
  leadGrants,
  nudgeDeliveries,
  preferences,
  triageRecords,
  users,
} from '../../../../src/db/schema.js';
import { loadPreferences } from '../../../../src/db/preferences.js';
import { findUser, findWorkspace } from '../../../../src/db/users.js';
import { ask, buildTestCore, button, testActor, testClock } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';
import type { ChannelMessenger } from '../../../../src/core/channel-messenger.js';
import { slackChannelRef } from '../../../../adapters/slack/channel-messenger.js';
import { discordChannelRef } from '../../../../adapters/discord/channel-messenger.js';

const validForm = {
  optedIn: 'yes',
  timezone: 'europe/london',
  days: ['mon', 'wed', 'fri'],
  start: '08:30',
  end: '16:00',
  everyMinutes: '45',
  kinds: ['breathing', 'stretch'],
  delivery: 'dm',
  channelId: '',
  pause: 'keep',
};

describeEachDatabase('settings and forget-me', (database) => {
  it('starts opted out and stores nothing until someone uses settings', async () => {
    const core = buildTestCore(database().db);
    const me = await ask(core, '/backcare me');
    expect(me.summary).toBe('Backcare stores nothing about you.');
    expect(await database().db.select().from(users)).toHaveLength(0);

    const shown = await ask(core, '/backcare settings');
    expect(shown.blocks).toContainEqual(
      expect.objectContaining({ type: 'fields', fields: expect.arrayContaining([{ label: 'Nudges', value: 'off' }]) }),
    );
    expect(shown.actions.map((a) => a.actionId)).toEqual(['settings.edit', 'settings.nudges', 'forget.ask']);
  });

  it('saves a valid form in one go, canonicalising the timezone and ordering days and kinds', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const saved = await ask(core, { kind: 'submit', formId: 'settings', values: validForm });
    expect(saved.formErrors).toBeUndefined();
    const workspace = await findWorkspace(database().db, { platform: 'console', externalId: 'local' });
    const user = await findUser(database().db, workspace!.id, 'you');
    const prefs = await loadPreferences(database().db, user!.id);
    expect(prefs).toMatchObject({
      optedIn: true,
      timezone: 'Europe/London',
      days: ['mon', 'wed', 'fri'],
      start: '08:30',
      end: '16:00',
      everyMinutes: 45,
      kinds: ['stretch', 'breathing'],
      delivery: 'dm',
      channelId: null,
    });
  });

  it('rejects a bad form field by field and leaves the stored settings untouched', async () => {
    const core = buildTestCore(database().db);
    await ask(core, { kind: 'submit', formId: 'settings', values: validForm });
    const bad = await ask(core, {
      kind: 'submit',
      formId: 'settings',
      values: { ...validForm, timezone: 'Mars/Olympus', everyMinutes: '5', start: '25:00', days: [] },
    });
    expect(Object.keys(bad.formErrors ?? {}).sort()).toEqual(['days', 'everyMinutes', 'start', 'timezone']);
    expect(bad.formErrors?.timezone).toMatch(/Mars\/Olympus/);
    expect(bad.formErrors?.everyMinutes).toMatch(/at least 10/);
    const rows = await database().db.select().from(preferences);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ timezone: 'Europe/London', everyMinutes: 45, startTime: '08:30' });
  });

  it('reports every problem of the form at once: a bad minutes value no longer hides the timezone, the start and the channel', async () => {
    // Slack has channels (a messenger); only its presence matters here.
    const slackChannels = {
      platform: 'slack',
      channelRef: () => ({ ok: false, message: '' }),
      post: async () => ({ ok: false }),
    } as unknown as ChannelMessenger;
    const core = buildTestCore(database().db, { deps: { channelMessengers: [slackChannels] } });
    const slack = testActor({ platform: 'slack', workspaceExternalId: 'T1', userExternalId: 'U1' });
    const bad = await ask(
      core,
      {
        kind: 'submit',
        formId: 'settings',
        values: {
          ...validForm,
          everyMinutes: 'ten',
          timezone: 'Mars/Olympus',
          start: '25:00',
          delivery: 'channel',
          channelId: '',
        },
      },
      slack,
    );
    expect(Object.keys(bad.formErrors ?? {}).sort()).toEqual(['channelId', 'everyMinutes', 'start', 'timezone']);
    // The console names them by label; nothing is "highlighted" there.
    expect(bad.summary).not.toMatch(/highlighted/);
    expect(bad.summary).toContain('Minutes between nudges: interval must be a whole number of minutes');
    expect(bad.summary).toContain('Team channel (if posting to a channel): name the team channel');
    expect(bad.summary).not.toMatch(/everyMinutes|channelId/);
    expect(await database().db.select().from(preferences)).toHaveLength(0);
  });

  it('the team channel goes through the platform channel parser: an escaped Slack mention stores its id, a bare name is a field error', async () => {
    const slackChannels: ChannelMessenger = {
      platform: 'slack',
      channelRef: slackChannelRef,
      post: async () => ({ ok: true }),
    };
    const core = buildTestCore(database().db, { deps: { channelMessengers: [slackChannels] } });
    const slack = testActor({ platform: 'slack', workspaceExternalId: 'T1', userExternalId: 'U1' });

    const named = await ask(
      core,
      { kind: 'submit', formId: 'settings', values: { ...validForm, delivery: 'channel', channelId: '#team' } },
      slack,
    );
    expect(Object.keys(named.formErrors ?? {})).toEqual(['channelId']);
    expect(named.formErrors?.channelId).toMatch(/only the name #team/);
    expect(named.summary).toContain('Team channel (if posting to a channel): Slack sent only the name #team');
    expect(await database().db.select().from(preferences)).toHaveLength(0);

    const saved = await ask(
      core,
      {
        kind: 'submit',
        formId: 'settings',
        values: { ...validForm, delivery: 'channel', channelId: '<#C0123ABC|team>' },
      },
      slack,
    );
    expect(saved.formErrors).toBeUndefined();
    const rows = await database().db.select().from(preferences);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ delivery: 'channel', channelId: 'C0123ABC' });
  });

  it('on Discord the team channel mention is stored as the bare channel id', async () => {
    const discordChannels: ChannelMessenger = {
      platform: 'discord',
      channelRef: discordChannelRef,
      post: async () => ({ ok: true }),
    };
    const core = buildTestCore(database().db, { deps: { channelMessengers: [discordChannels] } });
    const discord = testActor({
      platform: 'discord',
      workspaceExternalId: '123456789012345678',
      userExternalId: '323456789012345678',
    });
    const saved = await ask(
      core,
      {
        kind: 'submit',
        formId: 'settings',
        values: { ...validForm, delivery: 'channel', channelId: '<#223456789012345678>' },
      },
      discord,
    );
    expect(saved.formErrors).toBeUndefined();
    expect((await database().db.select().from(preferences))[0]).toMatchObject({
      delivery: 'channel',
      channelId: '223456789012345678',
    });
  });

  it('the hours form reports bad hours and a bad daily maximum together', async () => {
    const core = buildTestCore(database().db);
    const bad = await ask(core, { kind: 'submit', formId: 'hours', values: { hours: 'fri 9 to 5', maxPerDay: '99' } });
    expect(Object.keys(bad.formErrors ?? {}).sort()).toEqual(['hours', 'maxPerDay']);
    expect(bad.summary).toContain('Most nudges a day: the daily maximum must be at most 48');
    expect(bad.summary).not.toMatch(/highlighted|maxPerDay/);
  });

  it('turns nudges on and off with the quick commands', async () => {
    const core = buildTestCore(database().db);
    const on = await ask(core, '/backcare settings on');
    expect(on.summary).toMatch(/^Nudges are on/);
    expect((await database().db.select().from(preferences))[0]?.optedIn).toBe(true);
    const off = await ask(core, { kind: 'action', ...button(on, 'settings.nudges') });
    expect(off.summary).toMatch(/^Nudges are off/);
    expect((await database().db.select().from(preferences))[0]?.optedIn).toBe(false);
  });

  it('forget-me asks first, then deletes every row about that user and no one else', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const other = testActor({ userExternalId: 'colleague' });
    await ask(core, { kind: 'submit', formId: 'settings', values: validForm });
    await ask(core, { kind: 'submit', formId: 'settings', values: validForm }, other);
    const workspace = await findWorkspace(database().db, { platform: 'console', externalId: 'local' });
    const me = await findUser(database().db, workspace!.id, 'you');
    await database()
      .db.insert(activityEvents)
      .values({ userId: me!.id, workspaceId: workspace!.id, kind: 'session', outcome: 'completed', source: 'breathe' });
    await database()
      .db.insert(nudgeDeliveries)
      .values({ userId: me!.id, slotAt: new Date('2026-03-02T10:00:00Z'), status: 'sent' });
    await database().db.insert(triageRecords).values({ userId: me!.id, outcome: 'self_care' });
    // Rows keyed by platform id rather than by a foreign key go too.
    await database()
      .db.insert(leadGrants)
      .values({ workspaceId: workspace!.id, platformUserId: 'you', grantedBy: 'admin' });
    await database()
      .db.insert(inviteDms)
      .values([
        { workspaceId: workspace!.id, platformUserId: 'you', status: 'declined' },
        { workspaceId: workspace!.id, platformUserId: 'colleague', status: 'sent' },
      ]);

    const confirm = await ask(core, '/backcare forget-me');
    expect(await database().db.select().from(users)).toHaveLength(2);
    const done = await ask(core, { kind: 'action', ...button(confirm, 'forget.confirm') });
    expect(done.summary).toMatch(/has been deleted/);
    expect(done.replaceOriginal).toBe(true);

    const remaining = await database().db.select().from(users);
    expect(remaining.map((u) => u.platformUserId)).toEqual(['colleague']);
    expect(await database().db.select().from(activityEvents)).toHaveLength(0);
    expect(await database().db.select().from(nudgeDeliveries)).toHaveLength(0);
    expect(await database().db.select().from(triageRecords)).toHaveLength(0);
    expect(await database().db.select().from(leadGrants)).toHaveLength(0);
    expect((await database().db.select().from(inviteDms)).map((r) => r.platformUserId)).toEqual(['colleague']);
    expect(await database().db.select().from(preferences).where(eq(preferences.userId, remaining[0]!.id))).toHaveLength(
      1,
    );
  });

  it('a forget-me button older than ten minutes has expired and deletes nothing', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    await ask(core, '/backcare settings on');
    const confirm = await ask(core, '/backcare forget-me');
    clock.advance(11 * 60 * 1000);
    const late = await ask(core, { kind: 'action', ...button(confirm, 'forget.confirm') });
    expect(late.summary).toMatch(/expired/);
    expect(await database().db.select().from(users)).toHaveLength(1);
  });
});
