import { expect, it } from 'vitest';
import { encodeActionValue } from '../../../src/core/command.js';
import { preferences } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import {
  blockActionsOnHome,
  blockActionsOnMessage,
  interactive,
  settingsValues,
  USER_ID,
  viewSubmission,
} from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

describeEachDatabase('Slack App Home after a settings form', (database) => {
  const h = useSlackHarness(database);

  /** Opens the settings modal the way the person did and returns what Slack would send back on submit. */
  async function openedModalMetadata(open: () => Promise<unknown>): Promise<string> {
    await open();
    await h().adapter.idle();
    const [opened] = h().api.of('views.open');
    const view = opened?.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('settings');
    return view.private_metadata;
  }

  async function submit(metadata: string) {
    const published = h().api.of('views.publish').length;
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', settingsValues, metadata)),
    );
    expect(JSON.parse(res.text)).toMatchObject({ response_action: 'update' });
    await h().adapter.idle();
    expect((await database().db.select().from(preferences))[0]?.optedIn).toBe(true);
    return h().api.of('views.publish').slice(published);
  }

  it('a form opened from the Home tab redraws the tab once saved', async () => {
    const metadata = await openedModalMetadata(() =>
      postSigned(
        h().adapter.port,
        '/slack/interactivity',
        interactive(blockActionsOnHome({ action_id: 'settings.edit', value: encodeActionValue({}) })),
      ),
    );
    const published = await submit(metadata);
    expect(published).toHaveLength(1);
    expect(published[0]?.args.user_id).toBe(USER_ID);
    expect(JSON.stringify(published[0]?.args.view)).toContain('Turn nudges off');
  });

  it('a half-filled form opened from Home comes back with its errors and no redraw; corrected, it redraws once', async () => {
    const metadata = await openedModalMetadata(() =>
      postSigned(
        h().adapter.port,
        '/slack/interactivity',
        interactive(blockActionsOnHome({ action_id: 'settings.edit', value: encodeActionValue({}) })),
      ),
    );
    const { timezone: _left, everyMinutes: _empty, ...halfFilled } = settingsValues;
    const bad = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(
        viewSubmission(
          'settings',
          { ...halfFilled, everyMinutes: { type: 'number_input' as const, value: null } },
          metadata,
        ),
      ),
    );
    expect(JSON.parse(bad.text)).toMatchObject({ response_action: 'errors' });
    await h().adapter.idle();
    expect(h().api.of('views.publish')).toHaveLength(0);
    // The modal stays as it was, its metadata too: the corrected submission still knows where it came from.
    expect(await submit(metadata)).toHaveLength(1);
  });

  it('a form opened from a message leaves the tab to be drawn at its next visit (no views.publish)', async () => {
    const metadata = await openedModalMetadata(() =>
      postSigned(
        h().adapter.port,
        '/slack/interactivity',
        interactive(blockActionsOnMessage({ action_id: 'settings.edit', value: encodeActionValue({}) })),
      ),
    );
    expect(await submit(metadata)).toHaveLength(0);
  });
});
