import { afterEach, describe, expect, it } from 'vitest';
import { createSlackSender } from '../../../adapters/slack/sender.js';
import { createClientPool, defaultClientOptions } from '../../../adapters/slack/slack-api.js';
import type { NudgeDelivery } from '../../../src/core/sender.js';
import { silentLogger } from '../../support/log.js';
import { BOT_TOKEN, interceptSlack, type ApiCall } from '../../support/slack/http.js';
import { TEAM_ID, USER_ID } from '../../support/slack/payloads.js';
import { describeEachDatabase } from '../../support/db.js';
import { ask, buildTestCore, testActor, testClock, testLibrary } from '../../support/core.js';
import { deliveries, seedUser } from '../../jobs/support/fixtures.js';
import { createScheduler } from '../../../src/jobs/scheduler.js';
import { soloInstance } from '../../../src/jobs/instance.js';
import { replyText } from '../../../src/core/reply.js';

const now = new Date('2026-03-02T10:00:30Z');
const nowSeconds = now.getTime() / 1000;

const nudge: NudgeDelivery = {
  deliveryId: 77,
  slotAt: new Date('2026-03-02T10:00:00Z'),
  workspace: { id: 1, platform: 'slack', externalId: TEAM_ID },
  user: { id: 7, platformUserId: USER_ID, dmChannelId: null },
  destination: { kind: 'dm' },
  message: { summary: 'Stretch', blocks: [], actions: [], visibility: 'dm' },
};

/** `dnd.teamInfo` answers for every user asked, keyed by id. */
const dndOff = (call: ApiCall) => ({
  ok: true,
  users: Object.fromEntries(
    String(call.args.users)
      .split(',')
      .map((u) => [u, { dnd_enabled: false }]),
  ),
});

/** A users.profile.get answer shaped like Slack's (fields trimmed to those that matter plus a few neighbours). */
function profile(fields: Record<string, unknown>) {
  return {
    ok: true,
    profile: {
      real_name: 'Ada Lovelace',
      display_name: 'ada',
      status_text: '',
      status_emoji: '',
      status_emoji_display_info: [],
      status_expiration: 0,
      huddle_state: 'default_unset',
      huddle_state_expiration_ts: 0,
      ...fields,
    },
  };
}

let api: ReturnType<typeof interceptSlack> | undefined;
afterEach(() => api?.done());

function sender(profileAnswer: unknown, busyStatusEmoji?: string[]) {
  api = interceptSlack((call: ApiCall) => {
    if (call.method === 'dnd.teamInfo') return { body: dndOff(call) };
    if (call.method === 'users.profile.get') return { body: profileAnswer };
    return undefined;
  });
  return createSlackSender({
    tokens: async () => BOT_TOKEN,
    client: createClientPool({ ...defaultClientOptions, retryConfig: { retries: 0 } }),
    log: silentLogger(),
    now: () => now,
    ...(busyStatusEmoji ? { busyStatusEmoji } : {}),
  });
}

describe('Slack busy check (huddles and meeting statuses)', () => {
  it('a huddle makes the slot unavailable', async () => {
    const s = sender(profile({ huddle_state: 'in_a_huddle', huddle_state_expiration_ts: nowSeconds + 600 }));
    expect(await s.isAvailable!(nudge)).toEqual({ available: false, reason: 'in a Slack huddle' });
    expect(api!.of('users.profile.get')[0]?.args).toMatchObject({ user: USER_ID });
  });

  it('a calendar-synced "In a meeting" status makes it unavailable, naming the emoji', async () => {
    const s = sender(
      profile({
        status_text: 'In a meeting • Google Calendar',
        status_emoji: ':spiral_calendar_pad:',
        status_expiration: nowSeconds + 1800,
      }),
    );
    expect(await s.isAvailable!(nudge)).toEqual({
      available: false,
      reason: 'in a meeting (Slack status :spiral_calendar_pad:)',
    });
  });

  it('"On a call" text with an unknown emoji still counts; an expired status does not', async () => {
    expect(await sender(profile({ status_text: 'On a call', status_emoji: ':parrot:' })).isAvailable!(nudge)).toEqual({
      available: false,
      reason: 'in a meeting (Slack status)',
    });
    api!.done();
    expect(
      await sender(
        profile({ status_text: 'In a meeting', status_emoji: ':calendar:', status_expiration: nowSeconds - 60 }),
      ).isAvailable!(nudge),
    ).toEqual({
      available: true,
    });
  });

  it('no status, or an everyday one, means available', async () => {
    expect(await sender(profile({})).isAvailable!(nudge)).toEqual({ available: true });
    api!.done();
    expect(await sender(profile({ status_text: 'Lunch', status_emoji: ':sandwich:' })).isAvailable!(nudge)).toEqual({
      available: true,
    });
  });

  it('the emoji list is configurable (SLACK_BUSY_STATUS_EMOJI): only the listed ones count', async () => {
    expect(
      await sender(profile({ status_text: 'Focus', status_emoji: ':headphones:' }), [':brain:']).isAvailable!(nudge),
    ).toEqual({ available: true });
    api!.done();
    expect(
      await sender(profile({ status_text: 'Focus', status_emoji: ':brain:' }), [':brain:']).isAvailable!(nudge),
    ).toEqual({
      available: false,
      reason: 'in a meeting (Slack status :brain:)',
    });
  });

  it('a profile lookup error fails open (available), never stops nudges silently', async () => {
    expect(
      await sender({ ok: false, error: 'missing_scope', needed: 'users.profile:read' }).isAvailable!(nudge),
    ).toEqual({ available: true });
  });
});

describe('Slack busy checks are batched across everyone due at once', () => {
  const people = Array.from({ length: 120 }, (_, i) => `U${String(1000 + i)}`);
  const nudgeFor = (userId: string, i: number): NudgeDelivery => ({
    ...nudge,
    deliveryId: 1000 + i,
    user: { id: 1000 + i, platformUserId: userId, dmChannelId: null },
  });
  // Every third person is in DND, every fifth in a huddle: the batched answers must reach the right person.
  const inDnd = (u: string) => Number(u.slice(1)) % 3 === 0;
  const inHuddle = (u: string) => Number(u.slice(1)) % 5 === 0;

  function batchedSender() {
    api = interceptSlack((call: ApiCall) => {
      if (call.method === 'dnd.teamInfo') {
        const asked = String(call.args.users).split(',');
        return {
          body: {
            ok: true,
            users: Object.fromEntries(
              asked.map((u) => [
                u,
                inDnd(u)
                  ? { dnd_enabled: true, next_dnd_start_ts: nowSeconds - 60, next_dnd_end_ts: nowSeconds + 600 }
                  : { dnd_enabled: false },
              ]),
            ),
          },
        };
      }
      if (call.method === 'users.list') {
        // Two pages of 100 (Slack may return fewer than the limit); the cursor leads to the second.
        const page = call.args.cursor === 'page2' ? people.slice(60) : people.slice(0, 60);
        return {
          body: {
            ok: true,
            members: page.map((id) => ({
              id,
              profile: profile(inHuddle(id) ? { huddle_state: 'in_a_huddle' } : {}).profile,
            })),
            response_metadata: { next_cursor: call.args.cursor === 'page2' ? '' : 'page2' },
          },
        };
      }
      if (call.method === 'users.profile.get') return { body: profile({}) };
      return undefined;
    });
    return createSlackSender({
      tokens: async () => BOT_TOKEN,
      client: createClientPool({ ...defaultClientOptions, retryConfig: { retries: 0 } }),
      log: silentLogger(),
      now: () => now,
    });
  }

  it('120 people due together: 3 dnd.teamInfo calls (50, 50, 20) and 2 users.list pages instead of 240 calls, each answer to the right person', async () => {
    const s = batchedSender();
    const answers = await Promise.all(people.map((u, i) => s.isAvailable!(nudgeFor(u, i))));
    expect(api!.of('dnd.teamInfo').map((c) => String(c.args.users).split(',').length)).toEqual([50, 50, 20]);
    expect(api!.of('users.list')).toHaveLength(2);
    expect(api!.of('users.profile.get')).toHaveLength(0);
    expect(api!.of('dnd.info')).toHaveLength(0);
    people.forEach((u, i) => {
      const expected = inDnd(u)
        ? { available: false, reason: 'Slack do not disturb' }
        : inHuddle(u)
          ? { available: false, reason: 'in a Slack huddle' }
          : { available: true };
      expect(answers[i], u).toEqual(expected);
    });
  });

  it('a profile seen a moment ago is not asked for again; the dnd state always is', async () => {
    const s = batchedSender();
    await Promise.all(people.map((u, i) => s.isAvailable!(nudgeFor(u, i))));
    expect(await s.isAvailable!(nudgeFor(people[10]!, 10))).toEqual({ available: false, reason: 'in a Slack huddle' });
    expect(api!.of('users.list')).toHaveLength(2);
    expect(api!.of('users.profile.get')).toHaveLength(0);
    expect(api!.of('dnd.teamInfo')).toHaveLength(4);
  });
});

describeEachDatabase(
  'Slack busy: the scheduler skips the slot as unavailable, the next one comes as usual',
  (database) => {
    it('a huddle at 10:00 skips that slot with the reason; at 11:00 (no status) the nudge is sent; /backcare me says why', async () => {
      const clock = testClock(new Date('2026-03-02T10:00:20Z'));
      const db = database().db;
      const { userId } = await seedUser(db, { id: 'U1', platform: 'slack', dueAt: new Date('2026-03-02T10:00:00Z') });
      let inHuddle = true;
      api = interceptSlack((call: ApiCall) => {
        if (call.method === 'dnd.teamInfo') return { body: dndOff(call) };
        if (call.method === 'users.profile.get')
          return { body: inHuddle ? profile({ huddle_state: 'in_a_huddle' }) : profile({}) };
        if (call.method === 'conversations.open') return { body: { ok: true, channel: { id: 'D0BUSY' } } };
        if (call.method === 'chat.postMessage')
          return { body: { ok: true, channel: 'D0BUSY', ts: '1772445630.000100' } };
        return undefined;
      });
      const slack = createSlackSender({
        tokens: async () => BOT_TOKEN,
        client: createClientPool({ ...defaultClientOptions, retryConfig: { retries: 0 } }),
        log: silentLogger(),
        now: clock.now,
      });
      const scheduler = createScheduler({
        db,
        log: silentLogger(),
        senders: { slack },
        instance: soloInstance(1),
        now: clock.now,
        sleep: async (ms) => clock.advance(ms),
        routines: testLibrary(),
      });

      expect(await scheduler.tick()).toMatchObject({ unavailable: 1, sent: 0 });
      expect(api.of('chat.postMessage')).toEqual([]);

      inHuddle = false;
      clock.set(new Date('2026-03-02T11:00:20Z'));
      expect(await scheduler.tick()).toMatchObject({ sent: 1, unavailable: 0 });
      expect((await deliveries(db)).map((d) => [d.user_id, d.slot_at.toISOString(), d.status, d.last_error])).toEqual([
        [userId, '2026-03-02T10:00:00.000Z', 'unavailable', 'in a Slack huddle'],
        [userId, '2026-03-02T11:00:00.000Z', 'sent', null],
      ]);

      const core = buildTestCore(db, { now: clock.now });
      const me = await ask(
        core,
        '/backcare me',
        testActor({ platform: 'slack', workspaceExternalId: 'W1', userExternalId: 'U1' }),
      );
      expect(replyText(me)).toContain('Last nudge skipped: in a Slack huddle (2026-03-02 10:00 UTC)');
    });
  },
);
