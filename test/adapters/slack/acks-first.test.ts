import type { App, ReceiverEvent } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { BackcareHttpReceiver } from '../../../adapters/slack/receiver.js';
import { silentLogger } from '../../support/log.js';
import { postSigned, SIGNING_SECRET } from '../../support/slack/http.js';
import { slashCommand } from '../../support/slack/payloads.js';

/** A receiver whose "Bolt" holds every request's ack until the test releases it. */
async function heldReceiver() {
  const acks: (() => Promise<void>)[] = [];
  const receiver = new BackcareHttpReceiver({
    signingSecret: SIGNING_SECRET,
    port: 0,
    host: '127.0.0.1',
    log: silentLogger(),
    healthy: async () => true,
  });
  const app = {
    processEvent: (event: ReceiverEvent) => new Promise<void>((resolve) => acks.push(() => event.ack().then(resolve))),
  };
  receiver.init(app as unknown as App);
  await receiver.start();
  return { receiver, acks };
}

const settled = async (promise: Promise<void>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

describe('Slack receiver: work waits for the acks of a burst', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('allAnswered resolves once every request that arrived has its ack, and at once when none waits', async () => {
    const { receiver, acks } = await heldReceiver();
    stop = () => receiver.stop();
    expect(await settled(receiver.allAnswered(60_000), 50)).toBe(true);
    const requests = [1, 2].map((i) =>
      postSigned(receiver.port, '/slack/commands', slashCommand('help', { trigger_id: `1.2.${i}` })),
    );
    while (acks.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const waiting = receiver.allAnswered(60_000);
    await acks[0]!();
    // One ack is still outstanding: the work keeps waiting.
    expect(await settled(waiting, 100)).toBe(false);
    await acks[1]!();
    expect(await settled(waiting, 1000)).toBe(true);
    expect((await Promise.all(requests)).map((r) => r.status)).toEqual([200, 200]);
  });

  it('a request that stays unanswered holds work back for at most maxMs', async () => {
    const { receiver, acks } = await heldReceiver();
    stop = async () => {
      for (const ack of acks) await ack();
      await receiver.stop();
    };
    const request = postSigned(receiver.port, '/slack/commands', slashCommand('help'));
    while (acks.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await settled(receiver.allAnswered(200), 2000)).toBe(true);
    await acks[0]!();
    expect((await request).status).toBe(200);
  });
});
