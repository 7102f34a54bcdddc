import { afterEach, describe, expect, it } from 'vitest';
import { createSlackSender, NUDGE_EVENT_TYPE } from '../../../adapters/slack/sender.js';
import { createClientPool, defaultClientOptions, waitingOutRateLimits } from '../../../adapters/slack/slack-api.js';
import { RateLimitedError, type NudgeDelivery } from '../../../src/core/sender.js';
import { silentLogger } from '../../support/log.js';
import { BOT_TOKEN, interceptSlack, type ApiCall } from '../../support/slack/http.js';
import { DM_CHANNEL, TEAM_CHANNEL, TEAM_ID, USER_ID } from '../../support/slack/payloads.js';

type Answer = { status?: number; body: unknown; headers?: Record<string, string> } | undefined;

const nudge: NudgeDelivery = {
  deliveryId: 4242,
  slotAt: new Date('2026-03-02T10:00:00Z'),
  workspace: { id: 1, platform: 'slack', externalId: TEAM_ID },
  user: { id: 7, platformUserId: USER_ID, dmChannelId: null },
  destination: { kind: 'dm' },
  message: {
    summary: 'Time for a two-minute stretch',
    blocks: [{ type: 'text', text: 'Time for a *two-minute* stretch <3' }],
    actions: [
      { type: 'button', actionId: 'nudge.done', label: 'Done', value: '{"d":4242}', style: 'primary' },
      { type: 'button', actionId: 'nudge.snooze', label: 'Snooze 30 min', value: '{"d":4242}' },
    ],
    visibility: 'dm',
  },
};

let api: ReturnType<typeof interceptSlack> | undefined;
afterEach(() => api?.done());

function sender(
  answer: (call: ApiCall) => Answer,
  now = new Date('2026-03-02T10:00:30Z'),
  token: string | null = BOT_TOKEN,
) {
  api = interceptSlack(answer);
  return createSlackSender({
    tokens: async (team) => (team === TEAM_ID ? token : null),
    client: createClientPool({ ...defaultClientOptions, retryConfig: { retries: 0 } }),
    log: silentLogger(),
    now: () => now,
  });
}

describe('Slack nudge sender', () => {
  it('opens the DM, posts with the delivery id in metadata and returns channel:ts plus the DM id to cache', async () => {
    const s = sender((call) => {
      if (call.method === 'conversations.open') return { body: { ok: true, channel: { id: DM_CHANNEL } } };
      if (call.method === 'chat.postMessage')
        return { body: { ok: true, channel: DM_CHANNEL, ts: '1772445630.000100' } };
      return undefined;
    });
    const result = await s.send(nudge);
    expect(result).toEqual({ status: 'sent', messageRef: `${DM_CHANNEL}:1772445630.000100`, dmChannelId: DM_CHANNEL });
    expect(api!.calls.map((c) => c.method)).toEqual(['conversations.open', 'chat.postMessage']);
    expect(api!.of('conversations.open')[0]?.args).toMatchObject({ users: USER_ID });
    const post = api!.of('chat.postMessage')[0]!;
    expect(post.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(post.args).toMatchObject({
      channel: DM_CHANNEL,
      text: 'Time for a two-minute stretch',
      metadata: { event_type: NUDGE_EVENT_TYPE, event_payload: { delivery_id: '4242' } },
    });
    expect(post.args.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'Time for a *two-minute* stretch &lt;3' } },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'nudge.done',
            text: { type: 'plain_text', text: 'Done', emoji: true },
            value: '{"d":4242}',
            style: 'primary',
          },
          {
            type: 'button',
            action_id: 'nudge.snooze',
            text: { type: 'plain_text', text: 'Snooze 30 min', emoji: true },
            value: '{"d":4242}',
          },
        ],
      },
    ]);
  });

  it('uses the cached DM channel or the team channel without opening a conversation', async () => {
    const s = sender((call) =>
      call.method === 'chat.postMessage' ? { body: { ok: true, channel: call.args.channel, ts: '1.2' } } : undefined,
    );
    expect(await s.send({ ...nudge, user: { ...nudge.user, dmChannelId: 'D0CACHED01' } })).toEqual({
      status: 'sent',
      messageRef: 'D0CACHED01:1.2',
    });
    expect(await s.send({ ...nudge, destination: { kind: 'channel', channelId: TEAM_CHANNEL } })).toEqual({
      status: 'sent',
      messageRef: `${TEAM_CHANNEL}:1.2`,
    });
    expect(api!.of('conversations.open')).toHaveLength(0);
  });

  it('a 429 becomes a retry after Retry-After, without the client sleeping through it', async () => {
    const s = sender((call) =>
      call.method === 'chat.postMessage'
        ? { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '7' } }
        : undefined,
    );
    const started = Date.now();
    const result = await s.send({ ...nudge, user: { ...nudge.user, dmChannelId: DM_CHANNEL } });
    expect(result).toEqual({ status: 'retry', retryAfterMs: 7000, reason: 'rate_limited', rateLimited: true });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(api!.of('chat.postMessage')).toHaveLength(1);
  });

  it('a `ratelimited` platform error is a retry too', async () => {
    const s = sender((call) =>
      call.method === 'chat.postMessage' ? { body: { ok: false, error: 'ratelimited' } } : undefined,
    );
    expect(await s.send({ ...nudge, user: { ...nudge.user, dmChannelId: DM_CHANNEL } })).toEqual({
      status: 'retry',
      retryAfterMs: 30_000,
      reason: 'rate_limited',
      rateLimited: true,
    });
  });

  it('errors retrying cannot fix are permanent; other errors are retried', async () => {
    const errors = ['channel_not_found', 'account_inactive', 'not_in_channel', 'internal_error'];
    const s = sender((call) =>
      call.method === 'chat.postMessage' ? { body: { ok: false, error: errors.shift() } } : undefined,
    );
    const withDm = { ...nudge, user: { ...nudge.user, dmChannelId: DM_CHANNEL } };
    expect(await s.send(withDm)).toEqual({ status: 'permanent', reason: 'channel_not_found' });
    expect(await s.send(withDm)).toEqual({ status: 'permanent', reason: 'account_inactive' });
    expect(await s.send(withDm)).toEqual({ status: 'permanent', reason: 'not_in_channel' });
    expect(await s.send(withDm)).toEqual({ status: 'retry', retryAfterMs: 5000, reason: 'internal_error' });
  });

  it('a workspace without a token is permanent (app not installed) and makes no call', async () => {
    const s = sender(() => undefined, undefined, null);
    expect(await s.send(nudge)).toEqual({
      status: 'permanent',
      reason: 'Backcare is not installed in this Slack workspace',
    });
    expect(api!.calls).toHaveLength(0);
  });

  it('reconcile finds the posted nudge by its metadata (include_all_metadata) and ignores others', async () => {
    const s = sender((call) =>
      call.method === 'conversations.history'
        ? {
            body: {
              ok: true,
              messages: [
                {
                  type: 'message',
                  ts: '1772445700.000200',
                  text: 'other',
                  metadata: { event_type: NUDGE_EVENT_TYPE, event_payload: { delivery_id: '4241' } },
                },
                {
                  type: 'message',
                  ts: '1772445630.000100',
                  text: 'ours',
                  metadata: { event_type: NUDGE_EVENT_TYPE, event_payload: { delivery_id: '4242' } },
                },
                { type: 'message', ts: '1772445600.000050', text: 'no metadata' },
              ],
            },
          }
        : undefined,
    );
    const withDm = { ...nudge, user: { ...nudge.user, dmChannelId: DM_CHANNEL } };
    expect(await s.reconcile(withDm)).toEqual({ found: true, messageRef: `${DM_CHANNEL}:1772445630.000100` });
    const history = api!.of('conversations.history')[0]!;
    expect(history.args).toMatchObject({
      channel: DM_CHANNEL,
      include_all_metadata: 'true',
      inclusive: 'true',
      limit: '15',
      oldest: ((nudge.slotAt.getTime() - 120_000) / 1000).toFixed(6),
      latest: ((nudge.slotAt.getTime() + 600_000 + 180_000) / 1000).toFixed(6),
    });
    expect(await s.reconcile({ ...withDm, deliveryId: 9999 })).toEqual({ found: false });
  });

  it('reconcile throws when Slack cannot be asked, rather than guessing "not sent"', async () => {
    const s = sender((call) => (call.method === 'conversations.history' ? { status: 500, body: 'oops' } : undefined));
    await expect(s.reconcile({ ...nudge, user: { ...nudge.user, dmChannelId: DM_CHANNEL } })).rejects.toThrow();
  });

  it('reconcile: a 429 on conversations.history is a rate limit with its Retry-After, not "not found", and the client (as the app builds it) does not retry it', async () => {
    api = interceptSlack((call) =>
      call.method === 'conversations.history'
        ? { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '30' } }
        : undefined,
    );
    const s = createSlackSender({
      tokens: async () => BOT_TOKEN,
      // The app's own client options: retries on (for network errors and 5xx), 429s rejected.
      client: createClientPool(defaultClientOptions),
      log: silentLogger(),
    });
    const checked = s.reconcile({ ...nudge, user: { ...nudge.user, dmChannelId: DM_CHANNEL } });
    await expect(checked).rejects.toBeInstanceOf(RateLimitedError);
    await expect(checked).rejects.toMatchObject({ retryAfterMs: 30_000 });
    expect(api.of('conversations.history')).toHaveLength(1);
  });

  it('reconcile: a `ratelimited` platform error is a rate limit too; other failures are not', async () => {
    const answers = [{ body: { ok: false, error: 'ratelimited' } }, { status: 500, body: 'oops' }];
    const s = sender((call) => (call.method === 'conversations.history' ? answers.shift() : undefined));
    const withDm = { ...nudge, user: { ...nudge.user, dmChannelId: DM_CHANNEL } };
    await expect(s.reconcile(withDm)).rejects.toMatchObject({ name: 'RateLimitedError', retryAfterMs: 30_000 });
    const failed = await s.reconcile(withDm).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(RateLimitedError);
  });

  it('isAvailable: do-not-disturb in progress means unavailable; DND later, a snooze field or a failed lookup do not', async () => {
    const now = new Date('2026-03-02T10:00:30Z');
    const t = now.getTime() / 1000;
    const answers: unknown[] = [
      { dnd_enabled: true, next_dnd_start_ts: t - 60, next_dnd_end_ts: t + 3600 },
      { dnd_enabled: true, next_dnd_start_ts: t + 3600, next_dnd_end_ts: t + 7200 },
      // dnd.teamInfo carries no snooze state (Slack gives snooze_* only to the token's own user): never acted on.
      { dnd_enabled: false, snooze_enabled: true, snooze_endtime: t + 600 },
      null,
    ];
    const s = sender((call) => {
      if (call.method === 'users.profile.get') return { body: { ok: true, profile: {} } };
      if (call.method !== 'dnd.teamInfo') return undefined;
      const entry = answers.shift();
      return { body: entry ? { ok: true, users: { [USER_ID]: entry } } : { ok: false, error: 'user_not_found' } };
    }, now);
    expect(await s.isAvailable!(nudge)).toEqual({ available: false, reason: 'Slack do not disturb' });
    expect(await s.isAvailable!(nudge)).toEqual({ available: true });
    expect(await s.isAvailable!(nudge)).toEqual({ available: true });
    expect(await s.isAvailable!(nudge)).toEqual({ available: true });
    expect(api!.of('dnd.teamInfo').map((c) => c.args.users)).toEqual([USER_ID, USER_ID, USER_ID, USER_ID]);
  });
});

describe('waitingOutRateLimits (answers to people)', () => {
  const client = () => createClientPool({ ...defaultClientOptions, retryConfig: { retries: 0 } })(BOT_TOKEN);

  it('a 429 is waited out (Retry-After and a little spread) and the call made again, once more', async () => {
    let posts = 0;
    api = interceptSlack((call) =>
      call.method === 'chat.postMessage' && ++posts === 1
        ? { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '7' } }
        : undefined,
    );
    const waits: number[] = [];
    const result = await waitingOutRateLimits(() => client().chat.postMessage({ channel: DM_CHANNEL, text: 'hi' }), {
      sleep: async (ms) => void waits.push(ms),
    });
    expect(result.ok).toBe(true);
    expect(api.of('chat.postMessage')).toHaveLength(2);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(7000);
    expect(waits[0]).toBeLessThan(8000);
  });

  it('gives up as the call did: after its attempts, on a wait past its bound, and at once on anything else', async () => {
    api = interceptSlack((call) =>
      call.method === 'chat.postMessage'
        ? { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '1' } }
        : call.method === 'views.publish'
          ? { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '120' } }
          : { body: { ok: false, error: 'channel_not_found' } },
    );
    const sleep = async () => undefined;
    await expect(
      waitingOutRateLimits(() => client().chat.postMessage({ channel: DM_CHANNEL, text: 'hi' }), {
        attempts: 3,
        sleep,
      }),
    ).rejects.toThrow(/rate/i);
    expect(api.of('chat.postMessage')).toHaveLength(3);
    await expect(
      waitingOutRateLimits(() => client().views.publish({ user_id: USER_ID, view: { type: 'home', blocks: [] } }), {
        sleep,
      }),
    ).rejects.toThrow(/rate/i);
    expect(api.of('views.publish')).toHaveLength(1);
    await expect(
      waitingOutRateLimits(() => client().conversations.open({ users: USER_ID }), { sleep }),
    ).rejects.toThrow(/channel_not_found/);
    expect(api.of('conversations.open')).toHaveLength(1);
  });
});
