import { and, eq } from 'drizzle-orm';
import { expect, it, vi } from 'vitest';
import { activityEvents } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import {
  blockActionsOnMessage,
  DM_CHANNEL,
  interactive,
  RESPONSE_URL,
  slashCommand,
  USER_ID,
} from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

interface ButtonElement {
  type: string;
  action_id: string;
  value: string;
  text: { text: string };
}

function buttons(blocks: unknown): ButtonElement[] {
  return (blocks as { type: string; elements?: ButtonElement[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? []);
}

describeEachDatabase('Slack flows end to end', (database) => {
  // Sessions play 1000x faster here, so the per-minute budget is scaled up with them.
  const h = useSlackHarness(database, { liveUpdatesPerMinute: 1_000_000 });

  it('/backcare breathe plays live in the DM: postMessage, chat.update per phase, the final message, and a pointer in the channel', async () => {
    const res = await postSigned(h().adapter.port, '/slack/commands', slashCommand('breathe'));
    expect(res.status).toBe(200);
    await h().adapter.idle();

    expect(h().api.of('conversations.open')[0]?.args).toMatchObject({ users: USER_ID });
    const posts = h().api.of('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.args.channel).toBe(DM_CHANNEL);
    expect(buttons(posts[0]?.args.blocks).map((b) => [b.action_id, b.text.text])).toContainEqual([
      'guided.stop',
      'Stop',
    ]);

    const updates = h().api.of('chat.update');
    expect(updates.length).toBeGreaterThan(3);
    const ts = updates[0]?.args.ts;
    expect(updates.every((u) => u.args.channel === DM_CHANNEL && u.args.ts === ts)).toBe(true);
    // Every phase but the last carries the Stop button; the final message (the core's completion reply) does not.
    expect(buttons(updates.at(-2)?.args.blocks).map((b) => b.action_id)).toContain('guided.stop');
    expect(buttons(updates.at(-1)?.args.blocks).map((b) => b.action_id)).not.toContain('guided.stop');

    expect(h().api.responses).toEqual([
      {
        url: RESPONSE_URL,
        body: expect.objectContaining({
          response_type: 'ephemeral',
          text: 'Your session is running in your direct messages with Backcare.',
        }),
      },
    ]);
    const sessions = await database().db.select().from(activityEvents).where(eq(activityEvents.kind, 'session'));
    expect(sessions.map((s) => [s.source, s.outcome])).toEqual([['breathe', 'completed']]);
  });

  it('nudge buttons update the message in place; pressing twice records once', async () => {
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('nudge now'));
    await h().adapter.idle();
    const nudge = h().api.responses[0]!.body;
    const labels = buttons(nudge.blocks).map((b) => b.text.text);
    expect(labels).toEqual(expect.arrayContaining(['Done', 'Snooze 30 min', 'Skip', 'Stop nudges']));
    const done = buttons(nudge.blocks).find((b) => b.text.text === 'Done')!;

    for (let press = 0; press < 2; press += 1) {
      // Two real presses: Slack gives each its own trigger_id (an identical request would be a replay, dropped).
      const pressed = {
        ...blockActionsOnMessage({ action_id: done.action_id, value: done.value }),
        trigger_id: `1111111111.2222222222.press${press}`,
      };
      const res = await postSigned(h().adapter.port, '/slack/interactivity', interactive(pressed));
      expect(res.status).toBe(200);
      await h().adapter.idle();
    }
    const [first, second] = h().api.responses.slice(1);
    expect(first?.body).toMatchObject({ replace_original: true, text: 'Nice work.' });
    expect(second?.body).toMatchObject({ replace_original: true, text: 'Already noted.' });
    const recorded = await database()
      .db.select()
      .from(activityEvents)
      .where(and(eq(activityEvents.kind, 'nudge'), eq(activityEvents.outcome, 'done')));
    expect(recorded).toHaveLength(1);
  });
});

describeEachDatabase('Slack live session stopped midway', (database) => {
  const h = useSlackHarness(database, { timeScale: 1 });

  it('Stop on the live message cancels the pending phases and the message shows what was recorded', async () => {
    h().answer.set('chat.postMessage', () => ({ body: { ok: true, channel: DM_CHANNEL, ts: '1700000100.000100' } }));
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('breathe'));
    // A person can only press Stop once the message is there: wait until the adapter has it.
    await vi.waitFor(() => expect(h().adapter.live.isLiveMessage(DM_CHANNEL, '1700000100.000100')).toBe(true), {
      timeout: 5000,
      interval: 10,
    });
    const post = h().api.of('chat.postMessage')[0]!;
    const stop = buttons(post.args.blocks).find((b) => b.action_id === 'guided.stop')!;
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(
        blockActionsOnMessage(
          { action_id: stop.action_id, value: stop.value },
          { channel: DM_CHANNEL, ts: '1700000100.000100' },
        ),
      ),
    );
    expect(res.status).toBe(200);
    await h().adapter.idle();
    const reply = h().api.responses.find((r) => r.body.replace_original === true);
    expect(String(reply?.body.text)).toMatch(/^Stopped/);
    expect(h().api.of('chat.update')).toHaveLength(0);
    const sessions = await database().db.select().from(activityEvents).where(eq(activityEvents.kind, 'session'));
    expect(sessions.map((s) => s.outcome)).toEqual(['stopped']);
  });
});
