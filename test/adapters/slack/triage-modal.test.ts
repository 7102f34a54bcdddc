import { describe, expect, it } from 'vitest';
import { renderModal } from '../../../adapters/slack/render.js';
import { ask } from '../../support/core.js';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import {
  interactive,
  opt,
  slashCommand,
  TRIGGER_ID,
  viewSubmission,
  type StateValue,
} from '../../support/slack/payloads.js';
import type { Database } from '../../../src/db/client.js';
import { users, workspaces } from '../../../src/db/schema.js';
import { useSlackHarness } from './harness.js';

const none = (): StateValue => ({ type: 'checkboxes', selected_options: [opt('none')] });
const ticked = (...codes: string[]): StateValue => ({ type: 'checkboxes', selected_options: codes.map(opt) });

/** What Slack answers a submission of the screen modal with: the next view or the field errors. */
type ScreenAnswer = {
  response_action: string;
  view?: { callback_id?: string; blocks: unknown[] };
  errors?: Record<string, string>;
};

describeEachDatabase('Slack triage in modals', (database) => {
  const h = useSlackHarness(database);

  it('the second modal carries the screen answers in its own private_metadata and the check ends in one outcome', async () => {
    const screen = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(
        viewSubmission('triage.screen', {
          emergency: none(),
          urgent: none(),
          physio: { type: 'checkboxes', selected_options: [opt('arm_numbness')] },
        }),
      ),
    );
    expect(screen.status).toBe(200);
    const step2 = JSON.parse(screen.text) as {
      response_action: string;
      view: { callback_id: string; private_metadata: string };
    };
    expect(step2.response_action).toBe('update');
    expect(step2.view.callback_id).toBe('triage.details');
    const metadata = JSON.parse(step2.view.private_metadata) as { state?: string };
    expect(metadata.state).toEqual(expect.any(String));

    const details = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(
        viewSubmission(
          'triage.details',
          {
            pain: { type: 'number_input', value: '3' },
            weeks: { type: 'number_input', value: '1' },
            interferes: { type: 'static_select', selected_option: opt('no') },
            worsening: { type: 'static_select', selected_option: opt('no') },
          },
          step2.view.private_metadata,
        ),
      ),
    );
    expect(details.status).toBe(200);
    const outcome = JSON.stringify(JSON.parse(details.text));
    expect(outcome).not.toMatch(/expired/i);
    expect(outcome).toMatch(/physiotherapist/i);
    expect(outcome).toMatch(/not a diagnosis/i);
  });

  it('`/backcare triage` opens its modal before any other work: the first call is views.open, no database work', async () => {
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('triage'));
    await h().adapter.idle();
    expect(h().api.calls.map((c) => c.method)).toEqual(['views.open']);
    expect(h().api.calls[0]?.args).toMatchObject({ trigger_id: TRIGGER_ID, view: { callback_id: 'triage.screen' } });
    expect(await database().db.select().from(workspaces)).toHaveLength(0);
    expect(await database().db.select().from(users)).toHaveLength(0);
  });

  it('a screen with nothing ticked in a list is refused in the ack before anything else (no users.info)', async () => {
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('triage.screen', { emergency: none(), urgent: ticked(), physio: none() })),
    );
    const answer = JSON.parse(res.text) as ScreenAnswer;
    expect(answer.response_action).toBe('errors');
    expect(Object.keys(answer.errors ?? {})).toEqual(['urgent']);
    await h().adapter.idle();
    expect(h().api.of('users.info')).toHaveLength(0);
  });

  it('the screen modal can be sent with only the emergency checklist answered (Slack checks required fields itself)', async () => {
    const start = await ask(h().core, '/backcare triage');
    const view = renderModal(start.form!);
    const optional = Object.fromEntries(view.blocks.map((b) => [b.block_id, (b as { optional?: boolean }).optional]));
    expect(optional).toEqual({ emergency: false, urgent: true, physio: true });
  });

  it.each([
    ['the other checklists left empty', { emergency: ticked('tearing_pain'), urgent: ticked(), physio: ticked() }],
    [
      '"None of these" ticked beside it and a contradiction below',
      { emergency: ticked('tearing_pain', 'none'), urgent: ticked('none', 'fever'), physio: ticked() },
    ],
  ])('an emergency sign gets the emergency outcome at once, with %s', async (_name, values) => {
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('triage.screen', values)),
    );
    expect(res.status).toBe(200);
    const answer = JSON.parse(res.text) as ScreenAnswer;
    expect(answer.response_action).toBe('update');
    expect(answer.errors).toBeUndefined();
    const shown = JSON.stringify(answer.view?.blocks);
    expect(shown).toMatch(/Call your local emergency number now/);
    expect(shown).toContain('Sudden, severe, tearing pain between the shoulder blades');
  });

  it('an urgent sign gets the urgent outcome at once, with the physio checklist left empty', async () => {
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('triage.screen', { emergency: none(), urgent: ticked('fever'), physio: ticked() })),
    );
    const answer = JSON.parse(res.text) as ScreenAnswer;
    expect(answer.response_action).toBe('update');
    expect(answer.view?.callback_id).not.toBe('triage.details');
    expect(JSON.stringify(answer.view?.blocks)).toMatch(/Contact a doctor today/);
  });

  it('the pain modal lets Slack take a fraction of a week (0.5 for a few days) but keeps pain whole', async () => {
    const screen = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('triage.screen', { emergency: none(), urgent: none(), physio: none() })),
    );
    const step2 = JSON.parse(screen.text) as {
      view: {
        callback_id: string;
        private_metadata: string;
        blocks: { block_id: string; element: Record<string, unknown> }[];
      };
    };
    expect(step2.view.callback_id).toBe('triage.details');
    const element = (id: string) => step2.view.blocks.find((b) => b.block_id === id)!.element;
    expect(element('weeks')).toMatchObject({ type: 'number_input', is_decimal_allowed: true, min_value: '0' });
    expect(element('pain')).toMatchObject({
      type: 'number_input',
      is_decimal_allowed: false,
      min_value: '0',
      max_value: '10',
    });

    const details = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(
        viewSubmission(
          'triage.details',
          {
            pain: { type: 'number_input', value: '3' },
            weeks: { type: 'number_input', value: '0.5' },
            interferes: { type: 'static_select', selected_option: opt('no') },
            worsening: { type: 'static_select', selected_option: opt('no') },
          },
          step2.view.private_metadata,
        ),
      ),
    );
    const outcome = JSON.stringify(JSON.parse(details.text));
    expect(outcome).not.toMatch(/"errors"/);
    expect(outcome).toMatch(/Self-care is a reasonable place to start/);
  });

  it('both triage modals show every title, label and option whole (nothing cut to Slack limits)', async () => {
    const start = await ask(h().core, '/backcare triage');
    const next = await ask(h().core, {
      kind: 'submit',
      formId: 'triage.screen',
      values: { emergency: ['none'], urgent: ['none'], physio: ['none'] },
    });
    for (const form of [start.form!, next.form!]) {
      const view = renderModal(form);
      expect(view.title.text).toBe(form.title);
      expect(view.submit?.text).toBe(form.submitLabel);
      for (const field of form.fields) {
        const block = view.blocks.find((b) => b.block_id === field.id) as unknown as {
          label: { text: string };
          hint?: { text: string };
          element: { options?: { text: { text: string } }[] };
        };
        expect(block.label.text).toBe(field.label);
        if (field.hint) expect(block.hint?.text).toBe(field.hint);
        if (field.kind === 'multiselect' || field.kind === 'select')
          expect(block.element.options?.map((o) => o.text.text)).toEqual(field.options.map((o) => o.label));
      }
    }
    expect(start.form!.title).toBe('Back pain: safety check');
    expect(JSON.stringify(renderModal(start.form!))).not.toContain('…');
    expect(JSON.stringify(renderModal(next.form!))).not.toContain('…');
  });
});

describe('Slack triage while the database hangs', () => {
  // Every query waits for ever (a locked or unreachable server): what answers at once needs no storage.
  const hanging: unknown = new Proxy(function () {}, {
    get: (_target, property) => (property === 'then' ? () => undefined : hanging),
    apply: () => hanging,
  });
  const stalled = {
    driver: 'postgres',
    db: hanging as Database['db'],
    ping: () => new Promise<void>(() => undefined),
    close: () => Promise.resolve(),
  } satisfies Database;
  const h = useSlackHarness(() => stalled, { submitDeadlineMs: 300 });
  const submit = async (callbackId: string, values: Record<string, StateValue>, metadata?: string) =>
    JSON.parse(
      (
        await postSigned(
          h().adapter.port,
          '/slack/interactivity',
          interactive(viewSubmission(callbackId, values, metadata)),
        )
      ).text,
    ) as ScreenAnswer & { view?: { private_metadata?: string } };

  it('an emergency sign gets the emergency advice in the ack, before the replay check or users.info', async () => {
    const answer = await submit('triage.screen', { emergency: ticked('chest_pain'), urgent: none(), physio: none() });
    expect(answer.response_action).toBe('update');
    expect(JSON.stringify(answer.view?.blocks)).toMatch(/Call your local emergency number now/);
    expect(h().api.calls).toEqual([]);
  });

  it('the whole check, screen and details, is answered in the ack', async () => {
    const step2 = await submit('triage.screen', { emergency: none(), urgent: none(), physio: none() });
    expect(step2.view?.callback_id).toBe('triage.details');
    const outcome = await submit(
      'triage.details',
      {
        pain: { type: 'number_input', value: '2' },
        weeks: { type: 'number_input', value: '1' },
        interferes: { type: 'static_select', selected_option: opt('no') },
        worsening: { type: 'static_select', selected_option: opt('no') },
      },
      step2.view?.private_metadata,
    );
    expect(JSON.stringify(outcome.view?.blocks)).toMatch(/not a diagnosis/i);
    expect(h().api.calls).toEqual([]);
  });
});
