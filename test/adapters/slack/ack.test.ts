import { expect, it } from 'vitest';
import type { Core } from '../../../src/core/router.js';
import { preferences } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { BOT_TOKEN, postSigned } from '../../support/slack/http.js';
import {
  DM_CHANNEL,
  interactive,
  opt,
  settingsValues,
  slashCommand,
  viewSubmission,
} from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

/** A core whose answers wait until the test releases them: a stand-in for a slow database. */
function gatedCore() {
  let release!: () => void;
  let gate = new Promise<void>((resolve) => (release = resolve));
  const handled: string[] = [];
  const wrap = (core: Core): Core => ({
    commands: core.commands,
    deps: core.deps,
    async handle(request) {
      handled.push(request.input.kind);
      await gate;
      return core.handle(request);
    },
  });
  return {
    wrap,
    handled,
    release: () => release(),
    reset: () => {
      handled.length = 0;
      gate = new Promise<void>((resolve) => (release = resolve));
    },
  };
}

const gate = gatedCore();

describeEachDatabase('Slack acks before the work', (database) => {
  const h = useSlackHarness(database, { submitDeadlineMs: 100 }, gate.wrap);

  it('a slash command is acknowledged while the core is still busy; the answer follows', async () => {
    gate.reset();
    const res = await postSigned(h().adapter.port, '/slack/commands', slashCommand('help'));
    expect(res.status).toBe(200);
    expect(h().api.responses).toHaveLength(0);
    gate.release();
    await h().adapter.idle();
    expect(h().api.responses[0]?.body).toMatchObject({ response_type: 'ephemeral', text: 'Backcare commands' });
    expect(h().logs.raw()).not.toContain(BOT_TOKEN);
  });

  it('a modal submission the core cannot answer in time keeps the modal open, and the answer replaces it in place', async () => {
    gate.reset();
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', settingsValues)),
    );
    expect(res.status).toBe(200);
    const ack = JSON.parse(res.text) as { response_action: string; view: { blocks: unknown[] } };
    expect(ack.response_action).toBe('update');
    expect(JSON.stringify(ack.view.blocks)).toMatch(/Working on it/);
    expect(h().api.of('views.update')).toHaveLength(0);
    gate.release();
    await h().adapter.idle();
    const updates = h().api.of('views.update');
    expect(updates).toHaveLength(1);
    expect(updates[0]?.args.view_id).toBe('V0MODAL001');
    expect(JSON.stringify(updates[0]?.args.view)).toMatch(/Saved/);
    // Delivered in place: no DM; not opened from App Home, so no redraw of that tab either.
    expect(h().api.of('chat.postMessage')).toHaveLength(0);
    expect(h().api.of('views.publish')).toHaveLength(0);
    expect((await database().db.select().from(preferences))[0]?.optedIn).toBe(true);
  });

  it('a late answer to a form opened from App Home lands in the modal, then redraws the tab once', async () => {
    gate.reset();
    const fromHome = JSON.stringify({ from: 'home' });
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', settingsValues, fromHome)),
    );
    expect(JSON.stringify(JSON.parse(res.text))).toMatch(/Working on it/);
    gate.release();
    await h().adapter.idle();
    expect(h().api.of('views.update')).toHaveLength(1);
    const published = h().api.of('views.publish');
    expect(published).toHaveLength(1);
    expect(JSON.stringify(published[0]?.args.view)).toContain('Turn nudges off');
  });

  it('a late submission Slack delivers again is answered and saved once', async () => {
    gate.reset();
    const body = interactive(viewSubmission('settings', settingsValues));
    const timestamp = Math.floor(Date.now() / 1000);
    const first = await postSigned(h().adapter.port, '/slack/interactivity', body, { timestamp });
    const again = await postSigned(h().adapter.port, '/slack/interactivity', body, { timestamp });
    expect(JSON.parse(first.text)).toMatchObject({ response_action: 'update' });
    expect(again.text).toBe('');
    gate.release();
    await h().adapter.idle();
    expect(gate.handled).toEqual(['submit']);
    expect(h().api.of('views.update')).toHaveLength(1);
    expect(h().api.of('chat.postMessage')).toHaveLength(0);
    expect(await database().db.select().from(preferences)).toHaveLength(1);
  });

  it('a late answer whose modal cannot be updated (closed meanwhile) goes to the DM instead, once', async () => {
    gate.reset();
    h().answer.set('views.update', () => ({ body: { ok: false, error: 'not_found' } }));
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', settingsValues)),
    );
    expect(JSON.parse(res.text)).toMatchObject({ response_action: 'update' });
    gate.release();
    await h().adapter.idle();
    expect(h().api.of('views.update')).toHaveLength(1);
    const posts = h().api.of('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.args.channel).toBe(DM_CHANNEL);
    expect(String(posts[0]?.args.text)).toMatch(/^Saved/);
    expect(
      h()
        .logs.lines()
        .some((l) => l.event === 'slack.late_answer_dm'),
    ).toBe(true);
  });

  it('a late answer that meets views.update rate limit waits it out and still lands in the modal, no DM', async () => {
    gate.reset();
    const at: number[] = [];
    // A burst of submissions: Slack answers the first update 429 with Retry-After 1 s, then takes it.
    h().answer.set('views.update', () =>
      at.push(Date.now()) === 1
        ? { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '1' } }
        : undefined,
    );
    await postSigned(h().adapter.port, '/slack/interactivity', interactive(viewSubmission('settings', settingsValues)));
    gate.release();
    await h().adapter.idle();
    const updates = h().api.of('views.update');
    expect(updates).toHaveLength(2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(900);
    expect(JSON.stringify(updates[1]?.args.view)).toMatch(/Saved/);
    expect(h().api.of('chat.postMessage')).toHaveLength(0);
  });
});

/** A core with a bug: it throws for one command instead of answering. */
const throwing = (core: Core): Core => ({
  commands: core.commands,
  deps: core.deps,
  async handle(request) {
    if (request.input.kind === 'command' && request.input.text === 'boom') throw new Error('bug in a handler');
    return core.handle(request);
  },
});

describeEachDatabase('Slack when the core throws', (database) => {
  const h = useSlackHarness(database, {}, throwing);
  it('the person still gets a polite answer and the error is logged', async () => {
    const res = await postSigned(h().adapter.port, '/slack/commands', slashCommand('boom'));
    expect(res.status).toBe(200);
    await h().adapter.idle();
    expect(String(h().api.responses[0]?.body.text)).toMatch(/something went wrong on my side/);
    expect(
      h()
        .logs.lines()
        .some((l) => l.event === 'slack.core_threw'),
    ).toBe(true);
  });
});

describeEachDatabase('Slack modal submissions on the fast path', (database) => {
  const h = useSlackHarness(database);

  it('a form everyone may submit is answered in the ack without waiting for users.info', async () => {
    const values = { ...settingsValues, optedIn: { type: 'static_select' as const, selected_option: opt('no') } };
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', values)),
    );
    expect(JSON.parse(res.text)).toMatchObject({ response_action: 'update' });
    expect(res.text).toMatch(/Saved/);
    await h().adapter.idle();
    expect(h().api.of('users.info')).toHaveLength(0);
    expect((await database().db.select().from(preferences))[0]?.timezone).toBe('Europe/Paris');
  });
});

describeEachDatabase('Slack modal submissions during a burst', (database) => {
  // A generous deadline: only the burst rule can make the second submission answer at once.
  const h = useSlackHarness(database, { submitDeadlineMs: 5000 }, gate.wrap);

  it('while another request waits for its ack, a submission says "working on it" at once, and so does the one waiting; both answer in place', async () => {
    gate.reset();
    const port = h().adapter.port;
    const submit = (viewId: string, user: string) => {
      const payload = viewSubmission('settings', settingsValues);
      (payload.view as Record<string, unknown>).id = viewId;
      (payload.user as Record<string, unknown>).id = user;
      return postSigned(port, '/slack/interactivity', interactive(payload));
    };
    // The first waits (up to its deadline) for a core held by the gate: its ack is outstanding ...
    const first = submit('V0FIRST', 'U0FIRST');
    for (let i = 0; i < 100 && gate.handled.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(gate.handled).toEqual(['submit']);
    // ... so the second does not wait for its own answer.
    const started = Date.now();
    const second = await submit('V0SECOND', 'U0SECOND');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(JSON.parse(second.text)).toMatchObject({ response_action: 'update' });
    expect(second.text).toMatch(/Working on it/);
    // The first, still waiting for its answer when the second came, stops waiting too: a burst may be starting.
    expect((await first).text).toMatch(/Working on it/);
    gate.release();
    // Both are answered in place, not by DM.
    await h().adapter.idle();
    expect(
      h()
        .api.of('views.update')
        .map((u) => u.args.view_id)
        .sort(),
    ).toEqual(['V0FIRST', 'V0SECOND']);
    expect(h().api.of('chat.postMessage')).toHaveLength(0);
    expect(await database().db.select().from(preferences)).toHaveLength(2);
  });
});
