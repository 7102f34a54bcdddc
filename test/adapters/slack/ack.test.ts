import { expect, it } from 'vitest';
import type { Core } from '../../../src/core/router.js';
import { preferences } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { BOT_TOKEN, postSigned } from '../../support/slack/http.js';
import { DM_CHANNEL, interactive, opt, slashCommand, viewSubmission } from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

/** A core whose answers wait until the test releases them: a stand-in for a slow database. */
function gatedCore() {
  let release!: () => void;
  let gate = new Promise<void>((resolve) => (release = resolve));
  const wrap = (core: Core): Core => ({
    commands: core.commands,
    deps: core.deps,
    async handle(request) {
      await gate;
      return core.handle(request);
    },
  });
  return {
    wrap,
    release: () => release(),
    reset: () => {
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

  it('a modal submission the core cannot answer in time is acked (closing the modal) and the result goes to the DM', async () => {
    gate.reset();
    const values = {
      optedIn: { type: 'static_select' as const, selected_option: opt('yes') },
      timezone: { type: 'external_select' as const, selected_option: opt('Europe/Paris') },
      days: { type: 'checkboxes' as const, selected_options: [opt('mon')] },
      start: { type: 'timepicker' as const, selected_time: '09:00' },
      end: { type: 'timepicker' as const, selected_time: '17:00' },
      everyMinutes: { type: 'number_input' as const, value: '60' },
      kinds: { type: 'checkboxes' as const, selected_options: [opt('stretch')] },
      delivery: { type: 'static_select' as const, selected_option: opt('dm') },
      channelId: { type: 'plain_text_input' as const, value: null },
      pause: { type: 'static_select' as const, selected_option: opt('keep') },
    };
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', values)),
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    gate.release();
    await h().adapter.idle();
    const [post] = h().api.of('chat.postMessage');
    expect(post?.args.channel).toBe(DM_CHANNEL);
    expect(String(post?.args.text)).toMatch(/^Saved/);
    expect((await database().db.select().from(preferences))[0]?.optedIn).toBe(true);
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
