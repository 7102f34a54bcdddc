import { sql } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import { createSlackSender, NUDGE_EVENT_TYPE, RECONCILE_PAGE_SIZE } from '../../adapters/slack/sender.js';
import { createClientPool, defaultClientOptions } from '../../adapters/slack/slack-api.js';
import { createScheduler } from '../../src/jobs/scheduler.js';
import { soloInstance } from '../../src/jobs/instance.js';
import { describeEachDatabase } from '../support/db.js';
import { silentLogger } from '../support/log.js';
import { testClock } from '../support/core.js';
import { BOT_TOKEN, interceptSlack, type ApiCall } from '../support/slack/http.js';
import { deliveries, seedUser } from './support/fixtures.js';

const DM = 'D0RECONCILE';
const SLOT = new Date('2026-03-03T10:00:00Z');
const seconds = (ms: number) => Number((ms / 1000).toFixed(6));

let api: ReturnType<typeof interceptSlack> | undefined;
afterEach(() => api?.done());

describeEachDatabase('Slack crash recovery within 15 messages a call', (database) => {
  /** A claim left by a scheduler (holder 99) that died after posting on Slack but before confirming. */
  async function orphan(): Promise<number> {
    const db = database().db;
    const { userId } = await seedUser(db, {
      id: 'U0RECON01',
      platform: 'slack',
      dueAt: new Date(SLOT.getTime() + 60 * 60 * 1000),
    });
    await db.execute(sql`update users set dm_channel_id = ${DM} where id = ${userId}`);
    await db.execute(
      sql`insert into nudge_deliveries (user_id, slot_at, status, routine_id, claimed_at, claimed_by)
          values (${userId}, ${SLOT}, 'claimed', 'nudge-shoulder-rolls', ${SLOT}, 99)`,
    );
    return (await deliveries(db))[0]!.id;
  }

  function scheduler(
    answer: (call: ApiCall) => { status?: number; body: unknown; headers?: Record<string, string> } | undefined,
    clock = testClock(new Date('2026-03-03T10:03:00Z')),
  ) {
    api = interceptSlack(answer);
    const sender = createSlackSender({
      tokens: async () => BOT_TOKEN,
      client: createClientPool({ ...defaultClientOptions, retryConfig: { retries: 0 } }),
      log: silentLogger(),
      now: clock.now,
    });
    return createScheduler({
      db: database().db,
      log: silentLogger(),
      senders: { slack: sender },
      instance: soloInstance(1),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
    });
  }

  it('reads the window around the slot 15 at a time, finds the nudge by its metadata on page 2, confirms it and does not resend', async () => {
    const id = await orphan();
    const chatter = Array.from({ length: 15 }, (_, i) => ({
      type: 'message',
      ts: `1772532${String(300 + i)}.000100`,
      text: `chat ${i}`,
    }));
    const s = scheduler((call) => {
      if (call.method !== 'conversations.history') return undefined;
      if (call.args.cursor !== 'page-2')
        return { body: { ok: true, messages: chatter, has_more: true, response_metadata: { next_cursor: 'page-2' } } };
      return {
        body: {
          ok: true,
          has_more: false,
          messages: [
            {
              type: 'message',
              ts: '1772532030.000200',
              text: 'nudge',
              metadata: { event_type: NUDGE_EVENT_TYPE, event_payload: { delivery_id: String(id) } },
            },
          ],
        },
      };
    });
    await s.reconcile();

    const history = api!.of('conversations.history');
    expect(history).toHaveLength(2);
    for (const call of history) {
      expect(Number(call.args.limit)).toBeLessThanOrEqual(RECONCILE_PAGE_SIZE);
      expect(call.args).toMatchObject({ channel: DM, inclusive: 'true', include_all_metadata: 'true' });
      // The window: from shortly before the slot to shortly after the last moment it could have been sent.
      const oldest = Number(call.args.oldest);
      const latest = Number(call.args.latest);
      expect(oldest).toBeLessThanOrEqual(seconds(SLOT.getTime()));
      expect(oldest).toBeGreaterThanOrEqual(seconds(SLOT.getTime() - 5 * 60 * 1000));
      expect(latest).toBeGreaterThanOrEqual(seconds(SLOT.getTime() + 10 * 60 * 1000));
      expect(latest).toBeLessThanOrEqual(seconds(SLOT.getTime() + 20 * 60 * 1000));
    }
    expect(history[1]!.args.cursor).toBe('page-2');
    expect(api!.of('chat.postMessage')).toEqual([]);
    expect((await deliveries(database().db))[0]).toMatchObject({
      id,
      status: 'sent',
      message_ref: `${DM}:1772532030.000200`,
    });
  });

  it('not in the window (no more pages): resent once, within its slot', async () => {
    const id = await orphan();
    const s = scheduler((call) => {
      if (call.method === 'conversations.history') return { body: { ok: true, messages: [], has_more: false } };
      if (call.method === 'chat.postMessage') return { body: { ok: true, channel: DM, ts: '1772532190.000300' } };
      return undefined;
    });
    await s.reconcile();
    expect(api!.of('conversations.history')).toHaveLength(1);
    expect(api!.of('chat.postMessage')).toHaveLength(1);
    expect((await deliveries(database().db))[0]).toMatchObject({
      id,
      status: 'sent',
      message_ref: `${DM}:1772532190.000300`,
    });
  });

  it('a 429 on conversations.history is waited out and asked again at the pace learned, in the same pass: found, not resent', async () => {
    const id = await orphan();
    const clock = testClock(new Date('2026-03-03T10:03:00Z'));
    let asked = 0;
    const s = scheduler((call) => {
      if (call.method !== 'conversations.history') return undefined;
      if (++asked === 1)
        return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '20' } };
      const nudge = { event_type: NUDGE_EVENT_TYPE, event_payload: { delivery_id: String(id) } };
      return { body: { ok: true, has_more: false, messages: [{ ts: '1772532030.000200', metadata: nudge }] } };
    }, clock);
    const report = await s.reconcile();
    expect(report).toMatchObject({ reconciled: 1, sent: 1 });
    expect(api!.of('conversations.history')).toHaveLength(2);
    // Nothing got through before the 429: the pace learned is one check a minute (not one at Retry-After).
    expect(clock.now().getTime()).toBeGreaterThanOrEqual(new Date('2026-03-03T10:04:00Z').getTime());
    expect(api!.of('chat.postMessage')).toEqual([]);
    expect((await deliveries(database().db))[0]).toMatchObject({
      id,
      status: 'sent',
      message_ref: `${DM}:1772532030.000200`,
    });
  });
});
