import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { computeSignature } from '../../../adapters/slack/verify.js';
import { encodeActionValue } from '../../../src/core/command.js';
import { preferences, processedEvents } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned, SIGNING_SECRET } from '../../support/slack/http.js';
import { blockActionsOnMessage, interactive, opt, slashCommand, viewSubmission } from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

describeEachDatabase('Slack: replayed and forged requests', (database) => {
  const h = useSlackHarness(database);

  it('a replayed slash command (same body, timestamp and signature) runs once; a new one runs', async () => {
    const port = h().adapter.port;
    const body = slashCommand('settings on');
    const timestamp = Math.floor(Date.now() / 1000);
    const first = await postSigned(port, '/slack/commands', body, { timestamp });
    const replay = await postSigned(port, '/slack/commands', body, { timestamp });
    expect([first.status, replay.status]).toEqual([200, 200]);
    await h().adapter.idle();
    expect(h().api.responses).toHaveLength(1);
    expect(
      h()
        .logs.lines()
        .filter((l) => l.event === 'slack.http.replayed'),
    ).toHaveLength(1);
    // The key is kept in the database, so another replica (or this one after a restart) refuses it too.
    expect((await database().db.select().from(processedEvents)).map((r) => r.key)).toEqual([
      expect.stringMatching(/^slack:request:[0-9a-f]{64}$/),
    ]);

    await postSigned(port, '/slack/commands', slashCommand('me'), { timestamp });
    await h().adapter.idle();
    expect(h().api.responses).toHaveLength(2);
  });

  it('a replayed button press runs once', async () => {
    const port = h().adapter.port;
    const body = interactive(
      blockActionsOnMessage({ action_id: 'settings.nudges', value: encodeActionValue({ on: true }) }),
    );
    const timestamp = Math.floor(Date.now() / 1000);
    await postSigned(port, '/slack/interactivity', body, { timestamp });
    await postSigned(port, '/slack/interactivity', body, { timestamp });
    await h().adapter.idle();
    expect(h().api.responses).toHaveLength(1);
  });

  /** Records a request's key as another replica would have: the database says it was processed already. */
  async function seenElsewhere(body: string, timestamp: number): Promise<void> {
    const signature = computeSignature(SIGNING_SECRET, String(timestamp), body);
    const key = `slack:request:${createHash('sha256').update(`${timestamp}:${signature}`).digest('hex')}`;
    await database().db.insert(processedEvents).values({ key });
  }

  it('a slash command another replica already processed is acked and not processed again', async () => {
    const body = slashCommand('settings on');
    const timestamp = Math.floor(Date.now() / 1000);
    await seenElsewhere(body, timestamp);
    const res = await postSigned(h().adapter.port, '/slack/commands', body, { timestamp });
    expect(res.status).toBe(200);
    await h().adapter.idle();
    expect(h().api.responses).toHaveLength(0);
    expect(h().api.calls).toHaveLength(0);
    expect(await database().db.select().from(preferences)).toEqual([]);
  });

  it('a modal submission another replica already processed closes the modal and stores nothing', async () => {
    const body = interactive(
      viewSubmission('settings', {
        optedIn: { type: 'static_select', selected_option: opt('yes') },
        timezone: { type: 'external_select', selected_option: opt('Europe/Paris') },
        days: { type: 'checkboxes', selected_options: [opt('mon')] },
        start: { type: 'timepicker', selected_time: '08:30' },
        end: { type: 'timepicker', selected_time: '16:30' },
        everyMinutes: { type: 'number_input', value: '45' },
        kinds: { type: 'checkboxes', selected_options: [opt('stretch')] },
        delivery: { type: 'static_select', selected_option: opt('dm') },
        pause: { type: 'static_select', selected_option: opt('keep') },
      }),
    );
    const timestamp = Math.floor(Date.now() / 1000);
    await seenElsewhere(body, timestamp);
    const res = await postSigned(h().adapter.port, '/slack/interactivity', body, { timestamp });
    expect(res).toEqual({ status: 200, text: '' });
    await h().adapter.idle();
    expect(await database().db.select().from(preferences)).toEqual([]);
  });

  it('a button value without a signature, or with its payload changed, gets the expired-button answer and changes nothing', async () => {
    const port = h().adapter.port;
    const genuine = encodeActionValue({ on: true }, { ttlSeconds: 60 });
    const withoutTag = genuine.slice(12);
    const tampered = `${genuine.slice(0, 12)}${withoutTag.replace('{"on":true}', '{"on":false}')}`;
    for (const value of ['{"on":true}', withoutTag, tampered]) {
      await postSigned(
        port,
        '/slack/interactivity',
        interactive(blockActionsOnMessage({ action_id: 'settings.nudges', value })),
      );
    }
    await h().adapter.idle();
    expect(h().api.responses).toHaveLength(3);
    for (const response of h().api.responses)
      expect(String(response.body.text)).toMatch(/expired or is no longer valid/);
    expect(await database().db.select().from(preferences)).toEqual([]);
  });
});
