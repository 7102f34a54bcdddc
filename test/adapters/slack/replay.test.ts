import { expect, it } from 'vitest';
import { encodeActionValue } from '../../../src/core/command.js';
import { preferences, processedEvents } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import { blockActionsOnMessage, interactive, slashCommand } from '../../support/slack/payloads.js';
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
