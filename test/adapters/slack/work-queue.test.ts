import { expect, it } from 'vitest';
import { createWorkQueue } from '../../../src/core/work-queue.js';
import type { Core } from '../../../src/core/router.js';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import { slashCommand } from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

/** `me` takes a while, as a heavy command under load does; everything else answers as usual. */
const slowMe = (core: Core): Core => ({
  ...core,
  async handle(request) {
    if (request.input.kind === 'command' && request.input.text === 'me')
      await new Promise((resolve) => setTimeout(resolve, 40));
    return core.handle(request);
  },
});

describeEachDatabase('Slack: bounded work after the ack', (database) => {
  const started: string[] = [];
  const h = useSlackHarness(
    database,
    { work: createWorkQueue({ concurrency: 1, onStart: (kind) => started.push(kind) }) },
    slowMe,
  );

  it('a burst of one command does not hold up another: kinds take turns for the slots', async () => {
    started.length = 0;
    const port = h().adapter.port;
    // Each its own request (its own trigger), or the receiver would refuse the copies as replays.
    const burst = Array.from({ length: 6 }, (_, i) =>
      postSigned(port, '/slack/commands', slashCommand('me', { trigger_id: `1111.2222.burst${i}` })),
    );
    // Every ack of the burst is out before `help` is sent: its work queues behind theirs.
    expect((await Promise.all(burst)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await postSigned(port, '/slack/commands', slashCommand('help'));
    await h().adapter.idle();
    expect(started).toHaveLength(7);
    // One `me` holds the only slot; `help` goes next, not after the other five.
    expect(started.indexOf('help')).toBeLessThanOrEqual(2);
    const texts = h().api.responses.map((r) => String(r.body.text));
    expect(texts.findIndex((t) => /Backcare commands/.test(t))).toBeLessThanOrEqual(2);
    expect(texts).toHaveLength(7);
  });
});
