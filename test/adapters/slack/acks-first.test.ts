import type { App, ReceiverEvent } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { BurstGate } from '../../../adapters/slack/burst-gate.js';
import { BackcareHttpReceiver } from '../../../adapters/slack/receiver.js';
import { silentLogger } from '../../support/log.js';
import { postSigned, SIGNING_SECRET } from '../../support/slack/http.js';
import { slashCommand } from '../../support/slack/payloads.js';

/** A started receiver whose "Bolt" is `processEvent`. */
async function receiverWith(processEvent: (event: ReceiverEvent) => Promise<void>) {
  const receiver = new BackcareHttpReceiver({
    signingSecret: SIGNING_SECRET,
    port: 0,
    host: '127.0.0.1',
    log: silentLogger(),
    healthy: async () => true,
  });
  receiver.init({ processEvent } as unknown as App);
  await receiver.start();
  return receiver;
}

/** A receiver whose "Bolt" holds every request's ack until the test releases it. */
async function heldReceiver() {
  const acks: (() => Promise<void>)[] = [];
  const receiver = await receiverWith(
    (event) => new Promise<void>((resolve) => acks.push(() => event.ack().then(resolve))),
  );
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

  it('answered is not enough while a burst is still arriving: work waits until nothing new came for the quiet time', async () => {
    const { receiver, acks } = await heldReceiver();
    stop = () => receiver.stop();
    const send = (i: number) =>
      postSigned(receiver.port, '/slack/commands', slashCommand('help', { trigger_id: `1.3.${i}` }));
    const first = send(1);
    while (acks.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    await acks[0]!();
    await first;
    // Every request so far is answered, but the last arrived just now: within the quiet time more may follow.
    const waiting = receiver.allAnswered(60_000, 1000);
    expect(await settled(waiting, 100)).toBe(false);
    const second = send(2);
    while (acks.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await acks[1]!();
    await second;
    // The second arrival started the quiet time again.
    expect(await settled(waiting, 150)).toBe(false);
    expect(await settled(waiting, 3000)).toBe(true);
  });

  it('traffic that goes on past maxMs is steady, not a burst: work runs beside it instead of waiting for a pause', async () => {
    const { receiver, acks } = await heldReceiver();
    let sending = true;
    const sent: Promise<unknown>[] = [];
    stop = async () => {
      sending = false;
      await Promise.all(sent);
      await receiver.stop();
    };
    // Each request is answered at once; a new one comes every 20 ms, well inside the quiet time.
    void (async () => {
      for (let i = 0; sending; i++) {
        sent.push(postSigned(receiver.port, '/slack/commands', slashCommand('help', { trigger_id: `1.4.${i}` })));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const answering = setInterval(() => {
      while (acks.length > 0) void acks.shift()!();
    }, 5);
    try {
      while (sent.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await settled(receiver.allAnswered(1000, 200), 100)).toBe(false);
      expect(await settled(receiver.allAnswered(1000, 200), 3000)).toBe(true);
      // Past maxMs, later work does not wait either, though the stream has not paused.
      expect(await settled(receiver.allAnswered(1000, 200), 20)).toBe(true);
    } finally {
      sending = false;
      clearInterval(answering);
    }
  });
});

describe('Slack receiver: what a listener learns about a burst', () => {
  it('a request alone is not in a burst; one right behind another is, and so is one that another follows', async () => {
    const seen: { first?: () => boolean; second?: () => boolean } = {};
    const receiver = await receiverWith(async (event) => {
      const inBurst = (event.customProperties as { inBurst: () => boolean }).inBurst;
      if (!seen.first) seen.first = inBurst;
      else seen.second = inBurst;
      await event.ack();
    });
    // A quiet time of a second (the default is 30 ms), so that a slow test machine still sends the second in time.
    await receiver.allAnswered(60_000, 1000);
    try {
      await postSigned(receiver.port, '/slack/commands', slashCommand('help', { trigger_id: '1.5.1' }));
      expect(seen.first!()).toBe(false);
      await postSigned(receiver.port, '/slack/commands', slashCommand('help', { trigger_id: '1.5.2' }));
      // Sent as soon as the first was answered: inside the quiet time, so both are now part of a burst.
      expect(seen.second!()).toBe(true);
      expect(seen.first!()).toBe(true);
    } finally {
      await receiver.stop();
    }
  });
});

describe('Slack burst gate at stop', () => {
  it('closing it lets everything waiting for a burst go ahead, so a stop mid-burst does not wait on it', async () => {
    const gate = new BurstGate();
    gate.requestArrived(); // a request still waiting for its ack
    const work = gate.wait(60_000);
    const record = gate.wait(60_000);
    expect(await settled(work, 50)).toBe(false);
    gate.close();
    expect(
      await settled(
        Promise.all([work, record]).then(() => undefined),
        50,
      ),
    ).toBe(true);
  });
});
