import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import { interactive, opt, viewSubmission, type StateValue } from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

const none = (): StateValue => ({ type: 'checkboxes', selected_options: [opt('none')] });

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
    const step2 = JSON.parse(screen.text) as { response_action: string; view: { callback_id: string; private_metadata: string } };
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
});
