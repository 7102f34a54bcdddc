import { expect, it } from 'vitest';
import { dmCommandText } from '../../../adapters/slack/parse.js';
import { describeEachDatabase } from '../../support/db.js';
import { postJson } from '../../support/slack/http.js';
import { DM_CHANNEL, eventCallback, USER_ID } from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

/** A `message.im` event as Slack sends it when someone types in Backcare's Messages tab. */
const typed = (text: string, eventId: string, extra: Record<string, unknown> = {}) =>
  eventCallback(
    {
      type: 'message',
      channel_type: 'im',
      channel: DM_CHANNEL,
      user: USER_ID,
      text,
      ts: '1700000000.000600',
      event_ts: '1700000000.000600',
      ...extra,
    },
    eventId,
  );

it('reads a typed DM as the words after an optional /backcare or a mention of the bot', () => {
  expect(dmCommandText('  /backcare breathe 2 ')).toBe('breathe 2');
  expect(dmCommandText('Backcare me')).toBe('me');
  expect(dmCommandText('<@U0TESTBOT|backcare> stretch neck')).toBe('stretch neck');
  expect(dmCommandText('backcareful')).toBe('backcareful');
  expect(dmCommandText('')).toBe('');
});

describeEachDatabase('Slack: messages typed to Backcare', (database) => {
  const h = useSlackHarness(database);
  const dmPosts = () =>
    h()
      .api.of('chat.postMessage')
      .filter((p) => p.args.channel === DM_CHANNEL);

  it('a typed DM is answered in the DM as a command, with or without /backcare; a re-delivery is answered once', async () => {
    const port = h().adapter.port;
    expect((await postJson(port, '/slack/events', typed('privacy', 'Ev0DM0001'))).status).toBe(200);
    await postJson(port, '/slack/events', typed('privacy', 'Ev0DM0001'), {
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    await h().adapter.idle();
    expect(dmPosts()).toHaveLength(1);
    expect(JSON.stringify(dmPosts()[0]!.args)).toMatch(/privacy|stored/i);
    // The event names the DM: no conversation had to be opened to answer.
    expect(h().api.of('conversations.open')).toEqual([]);

    await postJson(port, '/slack/events', typed('/backcare help', 'Ev0DM0002'));
    await h().adapter.idle();
    expect(dmPosts()).toHaveLength(2);
    expect(dmPosts()[1]!.args.text).toBe('Backcare commands');
  });

  it('empty or unknown text gets help', async () => {
    const port = h().adapter.port;
    await postJson(port, '/slack/events', typed('', 'Ev0DM0003'));
    await postJson(port, '/slack/events', typed('hello there', 'Ev0DM0004'));
    await h().adapter.idle();
    expect(dmPosts()).toHaveLength(2);
    expect(dmPosts()[0]!.args.text).toBe('Backcare commands');
    expect(JSON.stringify(dmPosts()[1]!.args.blocks)).toContain('/backcare help');
  });

  it("bots' messages (Backcare's own included), edits and deletions are not answered", async () => {
    const port = h().adapter.port;
    await postJson(
      port,
      '/slack/events',
      typed('Backcare commands', 'Ev0DM0005', { bot_id: 'B0TESTBOT', user: 'U0TESTBOT' }),
    );
    await postJson(port, '/slack/events', typed('help', 'Ev0DM0006', { subtype: 'message_changed' }));
    await postJson(port, '/slack/events', typed('', 'Ev0DM0007', { subtype: 'message_deleted', user: undefined }));
    await postJson(port, '/slack/events', typed('help', 'Ev0DM0008', { subtype: 'bot_message', bot_id: 'B0OTHER' }));
    await h().adapter.idle();
    expect(h().api.of('chat.postMessage')).toEqual([]);
  });

  it('a command that opens a form says to use the slash command (Slack opens modals only from one)', async () => {
    await postJson(h().adapter.port, '/slack/events', typed('settings edit', 'Ev0DM0009'));
    await h().adapter.idle();
    expect(dmPosts()).toHaveLength(1);
    expect(dmPosts()[0]!.args.text).toMatch(/\/backcare settings edit/);
    expect(h().api.of('views.open')).toEqual([]);
  });
});
