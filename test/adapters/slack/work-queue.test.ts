import { expect, it, vi } from 'vitest';
import { createWorkQueue } from '../../../src/core/work-queue.js';
import type { Core } from '../../../src/core/router.js';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import { DM_CHANNEL, slashCommand, TEAM_ID } from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

/** Lets the test hold `me` (a heavy command stuck behind a rate limit) until it says so. */
let holdMe: Promise<void> | null = null;
/** `me` takes a while, as a heavy command under load does; everything else answers as usual. */
const slowMe = (core: Core): Core => ({
  ...core,
  async handle(request) {
    if (request.input.kind === 'command' && request.input.text === 'me') {
      await new Promise((resolve) => setTimeout(resolve, 40));
      await holdMe;
    }
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
    // Six people at once (one person's own requests are answered in order, see the next test), each its own
    // request: the receiver would refuse copies as replays.
    const burst = Array.from({ length: 6 }, (_, i) =>
      postSigned(
        port,
        '/slack/commands',
        slashCommand('me', { trigger_id: `1111.2222.burst${i}`, user_id: `U0BURST${i}` }),
      ),
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

  it('a modal that needs no stored data opens at once even while every work slot is taken', async () => {
    let release!: () => void;
    holdMe = new Promise<void>((resolve) => (release = resolve));
    const port = h().adapter.port;
    // The only slot is held by `me` (waiting out, say, a rate limit) ...
    await postSigned(port, '/slack/commands', slashCommand('me', { trigger_id: '1111.2222.hold' }));
    // ... and the triage modal still opens while it is held: its trigger would expire 3 s after the click.
    await postSigned(port, '/slack/commands', slashCommand('triage', { trigger_id: '1111.2222.triage' }));
    for (let i = 0; i < 100 && h().api.of('views.open').length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h().api.of('views.open')).toHaveLength(1);
    expect(h().api.responses).toHaveLength(0);
    release();
    holdMe = null;
    await h().adapter.idle();
    expect(h().api.responses).toHaveLength(1);
  });

  it("an answer waiting out a rate limit lends its slot: another person's command is answered meanwhile", async () => {
    let opens = 0;
    h().answer.set('conversations.open', () =>
      ++opens === 1
        ? { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } }
        : { body: { ok: true, channel: { id: DM_CHANNEL } } },
    );
    const port = h().adapter.port;
    // A breathing session needs the person's DM channel: conversations.open says "in a second".
    await postSigned(port, '/slack/commands', slashCommand('breathe', { trigger_id: '1111.2222.limited' }));
    await vi.waitFor(() => expect(opens).toBe(1));
    // `me` reads the database, so it queues for a slot (`help` would be answered without one).
    await postSigned(
      port,
      '/slack/commands',
      slashCommand('me', { trigger_id: '1111.2222.meanwhile', user_id: 'U0OTHER' }),
    );
    // With the only slot held through the wait, `me` would be answered after it (over a second); the session's
    // own "running in your DMs" comes only once its channel is open.
    await vi.waitFor(() => expect(h().api.responses).toHaveLength(1), { timeout: 900 });
    expect(opens).toBe(1);
    await h().adapter.idle();
    expect(opens).toBe(2);
  }, 15_000);
});

describeEachDatabase('Slack: a live session does not hold a work slot while it plays', (database) => {
  // Real-time pacing: a box-breathing session lasts minutes, far longer than this test waits.
  const h = useSlackHarness(database, { work: createWorkQueue({ concurrency: 1 }), timeScale: 1 });

  it('with the only slot, `help` is answered while a breathing session started before it is still playing', async () => {
    const port = h().adapter.port;
    await postSigned(port, '/slack/commands', slashCommand('breathe', { trigger_id: '1111.2222.breathe' }));
    for (let i = 0; i < 250 && h().api.of('chat.postMessage').length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h().api.of('chat.postMessage')).toHaveLength(1);
    await postSigned(port, '/slack/commands', slashCommand('help', { trigger_id: '1111.2222.help' }));
    const helped = () => h().api.responses.some((r) => /Backcare commands/.test(String(r.body.text)));
    for (let i = 0; i < 250 && !helped(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(helped()).toBe(true);
    // The session is still on its first phases: nothing has ended it.
    expect(h().adapter.live.active(TEAM_ID)).toBe(1);
  });
});

describeEachDatabase("Slack: one person's requests in order", (database) => {
  // Slots to spare: without the order, `help` would finish before the slow `me` asked just before it.
  const h = useSlackHarness(database, { work: createWorkQueue({ concurrency: 4 }) }, slowMe);

  it("one person's commands are answered in the order they were sent, however the slots free up", async () => {
    const port = h().adapter.port;
    // `me` is slow (40 ms); `help` right behind it from the same person must not overtake it.
    await postSigned(port, '/slack/commands', slashCommand('me', { trigger_id: '1111.2222.order1' }));
    await postSigned(port, '/slack/commands', slashCommand('help', { trigger_id: '1111.2222.order2' }));
    await h().adapter.idle();
    const texts = h().api.responses.map((r) => String(r.body.text));
    expect(texts).toHaveLength(2);
    expect(texts[1]).toMatch(/Backcare commands/);
    expect(texts[0]).not.toMatch(/Backcare commands/);
  });

  it("a person's answer stuck (waiting out a rate limit, say) holds their next one only for a few seconds", async () => {
    let release!: () => void;
    holdMe = new Promise<void>((resolve) => (release = resolve));
    const port = h().adapter.port;
    await postSigned(port, '/slack/commands', slashCommand('me', { trigger_id: '1111.2222.stuck' }));
    await postSigned(port, '/slack/commands', slashCommand('help', { trigger_id: '1111.2222.after' }));
    const helped = () => h().api.responses.some((r) => /Backcare commands/.test(String(r.body.text)));
    for (let i = 0; i < 400 && !helped(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    // `help` answered while `me` is still held.
    expect(helped()).toBe(true);
    expect(h().api.responses).toHaveLength(1);
    release();
    holdMe = null;
    await h().adapter.idle();
    expect(h().api.responses).toHaveLength(2);
  }, 15_000);
});
