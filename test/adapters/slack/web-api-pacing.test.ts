import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultClientOptions, pacedClientOptions } from '../../../adapters/slack/slack-api.js';
import { BOT_TOKEN, interceptSlack } from '../../support/slack/http.js';

const settled = async (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

describe('Slack Web API calls paced by a burst', () => {
  let slack: ReturnType<typeof interceptSlack> | undefined;
  afterEach(() => slack?.done());

  it('a call is sent only once the pause is over, and at once when there is none', async () => {
    slack = interceptSlack();
    let release: () => void = () => undefined;
    let paused = true;
    const pause = () => (paused ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve());
    const client = new WebClient(BOT_TOKEN, pacedClientOptions(defaultClientOptions, pause));
    const posting = client.chat.postMessage({ channel: 'C1', text: 'first' });
    expect(await settled(posting, 100)).toBe(false);
    expect(slack.of('chat.postMessage')).toHaveLength(0);
    paused = false;
    release();
    await posting;
    expect(slack.of('chat.postMessage').map((c) => c.args.text)).toEqual(['first']);
    await client.chat.postMessage({ channel: 'C1', text: 'second' });
    expect(slack.of('chat.postMessage').map((c) => c.args.text)).toEqual(['first', 'second']);
  });

  it('keeps a fetch given in the options (it is the one that sends, after the pause)', async () => {
    const sent: string[] = [];
    const options = pacedClientOptions(
      {
        ...defaultClientOptions,
        fetch: async (url) => {
          sent.push(String(url));
          return new Response(JSON.stringify({ ok: true }), { headers: { 'content-type': 'application/json' } });
        },
      },
      () => Promise.resolve(),
    );
    await new WebClient(BOT_TOKEN, options).auth.test();
    expect(sent).toEqual(['https://slack.com/api/auth.test']);
  });
});
