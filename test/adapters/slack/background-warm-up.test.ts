import { expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import { slashCommand } from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

const finished = (lines: Record<string, unknown>[]) => lines.filter((l) => l.event === 'slack.warmed_up_more');

describeEachDatabase('Slack ack path warm-up once the app is ready', (database) => {
  const h = useSlackHarness(database, { warmUp: true });

  it('runs its rounds once started(), once only, with no Slack call, and answers a request meanwhile', async () => {
    h().adapter.started?.();
    h().adapter.started?.();
    // A request arriving while it warms up is acknowledged as ever.
    const res = await postSigned(h().adapter.port, '/slack/commands', slashCommand('help'));
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(finished(h().logs.lines())).toHaveLength(1), { timeout: 20_000, interval: 20 });
    expect(finished(h().logs.lines())[0]).toMatchObject({ rounds: 1000 });
    await h().adapter.idle();
    // The help answer went out; nothing went anywhere for the warm-up's rehearsed people and workspace.
    expect(h().api.responses).toHaveLength(1);
    expect(JSON.stringify([h().api.calls, h().api.responses])).not.toMatch(/WARM/);
  });

  it('ends when the adapter stops', async () => {
    h().adapter.started?.();
    await h().adapter.stop();
    await vi.waitFor(() => expect(finished(h().logs.lines())).toHaveLength(1), { timeout: 5000, interval: 20 });
    expect(Number(finished(h().logs.lines())[0]?.rounds)).toBeLessThan(1000);
  });
});

describeEachDatabase('Slack adapter without the warm-up (tests, and the option off)', (database) => {
  const h = useSlackHarness(database);

  it('does not warm up once started', async () => {
    h().adapter.started?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(finished(h().logs.lines())).toEqual([]);
  });
});
