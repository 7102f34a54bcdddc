import { expect, it } from 'vitest';
import { encodeActionValue } from '../../../src/core/command.js';
import { settingsForm } from '../../../src/core/features/settings/settings.js';
import { defaultPreferences } from '../../../src/core/preferences.js';
import { auditLog, leadGrants, preferences, users } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { postJson, postSigned } from '../../support/slack/http.js';
import {
  ACTION_RESPONSE_URL,
  ADMIN_ID,
  blockActionsOnHome,
  blockActionsOnMessage,
  blockSuggestion,
  interactive,
  opt,
  slashCommand,
  TRIGGER_ID,
  USER_ID,
  viewSubmission,
  type StateValue,
} from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

const validState: Record<string, StateValue> = {
  optedIn: { type: 'static_select', selected_option: opt('yes') },
  timezone: { type: 'external_select', selected_option: opt('Europe/Paris') },
  days: { type: 'checkboxes', selected_options: [opt('mon'), opt('tue'), opt('thu')] },
  start: { type: 'timepicker', selected_time: '08:30' },
  end: { type: 'timepicker', selected_time: '16:30' },
  everyMinutes: { type: 'number_input', value: '45' },
  kinds: { type: 'checkboxes', selected_options: [opt('stretch'), opt('breathing')] },
  delivery: { type: 'static_select', selected_option: opt('dm') },
  channelId: { type: 'conversations_select', selected_conversation: null },
  pause: { type: 'static_select', selected_option: opt('keep') },
};

interface InputBlock {
  type: string;
  block_id: string;
  element: {
    type: string;
    initial_option?: { value: string };
    initial_options?: { value: string }[];
    initial_time?: string;
  };
}

describeEachDatabase('Slack interactions', (database) => {
  const h = useSlackHarness(database);

  it('/backcare settings edit opens a modal whose timezone defaults to the Slack profile timezone', async () => {
    const res = await postSigned(h().adapter.port, '/slack/commands', slashCommand('settings edit'));
    expect(res.status).toBe(200);
    await h().adapter.idle();
    const [open] = h().api.of('views.open');
    expect(open?.args.trigger_id).toBe(TRIGGER_ID);
    const view = open?.args.view as {
      type: string;
      callback_id: string;
      blocks: InputBlock[];
      submit: { text: string };
    };
    expect(view).toMatchObject({ type: 'modal', callback_id: 'settings', submit: { text: 'Save' } });
    const byId = Object.fromEntries(view.blocks.map((b) => [b.block_id, b]));
    // One input block per field of the core's settings form, in order, block id = field id.
    expect(Object.keys(byId)).toEqual(settingsForm(defaultPreferences('Europe/Paris')).fields.map((f) => f.id));
    expect(Object.keys(byId)).toEqual(
      expect.arrayContaining(['optedIn', 'timezone', 'days', 'start', 'end', 'everyMinutes', 'kinds', 'delivery']),
    );
    expect(byId.timezone?.element).toMatchObject({
      type: 'external_select',
      initial_option: { value: 'Europe/Paris' },
    });
    expect(byId.days?.element.type).toBe('checkboxes');
    expect(byId.days?.element.initial_options?.map((o) => o.value)).toEqual(['mon', 'tue', 'wed', 'thu', 'fri']);
    expect(byId.start?.element).toMatchObject({ type: 'timepicker', initial_time: '09:00' });
    expect(byId.everyMinutes?.element).toMatchObject({ type: 'number_input', min_value: '10', max_value: '480' });
    expect(h().api.responses).toHaveLength(0);
  });

  it('a valid settings submission is saved and the modal shows the result', async () => {
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', validState)),
    );
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { response_action: string; view: { blocks: unknown[] } };
    expect(body.response_action).toBe('update');
    expect(JSON.stringify(body.view.blocks)).toContain('Saved. Your Backcare settings');
    const [stored] = await database().db.select().from(preferences);
    expect(stored).toMatchObject({
      optedIn: true,
      timezone: 'Europe/Paris',
      startTime: '08:30',
      endTime: '16:30',
      everyMinutes: 45,
      days: ['mon', 'tue', 'thu'],
    });
    await h().adapter.idle();
    // Not opened from the Home tab: the tab is drawn at its next visit (home-refresh.test.ts).
    expect(h().api.of('views.publish')).toHaveLength(0);
  });

  it('the team channel is a channel picker, and the picked conversation is the channel id stored', async () => {
    h().core.deps.channelMessengers = [h().adapter.channelMessenger];
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('settings edit'));
    await h().adapter.idle();
    const view = h().api.of('views.open')[0]?.args.view as { blocks: (InputBlock & { optional: boolean })[] };
    const channel = view.blocks.find((b) => b.block_id === 'channelId');
    // A text box let people type `#team`, which Slack sends as a bare name nothing can post to.
    expect(channel).toMatchObject({
      optional: true,
      element: { type: 'conversations_select', filter: { include: ['public', 'private'], exclude_bot_users: true } },
    });

    const picked: Record<string, StateValue> = {
      ...validState,
      delivery: { type: 'static_select', selected_option: opt('channel') },
      channelId: { type: 'conversations_select', selected_conversation: 'C0123ABC' },
    };
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', picked)),
    );
    expect((JSON.parse(res.text) as { response_action: string }).response_action).toBe('update');
    const [stored] = await database().db.select().from(preferences);
    expect(stored).toMatchObject({ delivery: 'channel', channelId: 'C0123ABC' });

    // Opened again, the picker starts on the stored channel.
    h().api.calls.length = 0;
    await postSigned(
      h().adapter.port,
      '/slack/commands',
      slashCommand('settings edit', { trigger_id: 'another.trigger' }),
    );
    await h().adapter.idle();
    const again = h().api.of('views.open')[0]?.args.view as { blocks: InputBlock[] };
    expect(again.blocks.find((b) => b.block_id === 'channelId')?.element).toMatchObject({
      type: 'conversations_select',
      initial_conversation: 'C0123ABC',
    });
  });

  it('field errors come back in the modal with response_action errors and nothing is saved', async () => {
    const bad = {
      ...validState,
      everyMinutes: { type: 'number_input', value: '5' },
      days: { type: 'checkboxes', selected_options: [] },
    } as Record<string, StateValue>;
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', bad)),
    );
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors).sort()).toEqual(['days', 'everyMinutes']);
    expect(body.errors.everyMinutes).toMatch(/at least 10/);
    expect(await database().db.select().from(preferences)).toHaveLength(0);
  });

  it('bad field formats are refused in the ack before anything else: no users.info, nothing read or written', async () => {
    const bad = { ...validState, start: { type: 'timepicker', selected_time: '25:99' } } as Record<string, StateValue>;
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(viewSubmission('settings', bad)),
    );
    const body = JSON.parse(res.text) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors)).toEqual(['start']);
    await h().adapter.idle();
    expect(h().api.of('users.info')).toHaveLength(0);
    expect(await database().db.select().from(users)).toHaveLength(0);
  });

  it('a button on a message reaches the core and the answer goes back through its response URL', async () => {
    const on = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(blockActionsOnMessage({ action_id: 'settings.nudges', value: encodeActionValue({ on: true }) })),
    );
    expect(on.status).toBe(200);
    await h().adapter.idle();
    expect((await database().db.select().from(preferences))[0]?.optedIn).toBe(true);
    const [response] = h().api.responses;
    expect(response?.url).toBe(ACTION_RESPONSE_URL);
    expect(response?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(response?.body.text)).toMatch(/^Nudges are on/);
  });

  it('replaceOriginal replies update the message in place', async () => {
    await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(blockActionsOnMessage({ action_id: 'forget.cancel', value: encodeActionValue({}) })),
    );
    await h().adapter.idle();
    expect(h().api.responses[0]?.body).toMatchObject({ replace_original: true, text: 'Nothing was deleted.' });
  });

  it('a forged action value gets a polite error, never an exception, and changes nothing', async () => {
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('settings on'));
    await h().adapter.idle();
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(blockActionsOnMessage({ action_id: 'forget.confirm', value: '{"x":1}' })),
    );
    expect(res.status).toBe(200);
    await h().adapter.idle();
    expect(String(h().api.responses.at(-1)?.body.text)).toMatch(/expired or is no longer valid/);
    expect(await database().db.select().from(users)).toHaveLength(1);
    expect(
      h()
        .logs.lines()
        .some((l) => l.level === 50),
    ).toBe(false);
  });

  it('a malformed interactive payload is answered 200 and never reaches the core', async () => {
    const res = await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive({ type: 'block_actions', user: { id: USER_ID }, actions: 'nope' }),
    );
    expect(res.status).toBe(200);
    await h().adapter.idle();
    expect(
      h()
        .logs.lines()
        .some((l) => l.event === 'request.handled'),
    ).toBe(false);
    expect(await database().db.select().from(users)).toHaveLength(0);
  });

  it('App Home quick-start values are limited to known commands', async () => {
    await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(blockActionsOnHome({ action_id: 'home.command', value: 'forget-me' })),
    );
    await h().adapter.idle();
    const [published] = h().api.of('views.publish');
    expect(JSON.stringify(published?.args.view)).toContain('expired or is no longer valid');
    expect(
      h()
        .logs.lines()
        .some((l) => l.event === 'slack.action_forged'),
    ).toBe(true);
  });

  it('the opt-in switch on App Home turns nudges on and refreshes the tab', async () => {
    await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(blockActionsOnHome({ action_id: 'settings.nudges', value: encodeActionValue({ on: true }) })),
    );
    await h().adapter.idle();
    expect((await database().db.select().from(preferences))[0]?.optedIn).toBe(true);
    const view = JSON.stringify(h().api.of('views.publish').at(-1)?.args.view);
    expect(view).toContain('Turn nudges off');
  });

  it('the timezone search answers with matching IANA zones', async () => {
    const res = await postSigned(h().adapter.port, '/slack/interactivity', interactive(blockSuggestion('new york')));
    const body = JSON.parse(res.text) as { options: { value: string }[] };
    expect(body.options.map((o) => o.value)).toEqual(['America/New_York']);
  });

  it('lead add with a Slack mention: admins (users.info) grant, the grant is stored by user id and audited', async () => {
    const res = await postSigned(
      h().adapter.port,
      '/slack/commands',
      slashCommand('lead add <@U0SAMSAM|sam>', { user_id: ADMIN_ID }),
    );
    expect(res.status).toBe(200);
    await h().adapter.idle();
    expect(await database().db.select().from(leadGrants)).toEqual([
      expect.objectContaining({ platformUserId: 'U0SAMSAM', grantedBy: ADMIN_ID }),
    ]);
    expect(await database().db.select().from(auditLog)).toHaveLength(1);
    // The mention stays a live mention in Block Kit, everything else is escaped.
    expect(JSON.stringify(h().api.responses[0]?.body.blocks)).toContain('<@U0SAMSAM> is now a team lead');

    await postSigned(h().adapter.port, '/slack/commands', slashCommand('lead add <@U0OTHER1|other>'));
    await h().adapter.idle();
    expect(String(h().api.responses[1]?.body.text)).toMatch(/Only workspace admins/);
    expect(await database().db.select().from(leadGrants)).toHaveLength(1);
  });

  it('url_verification on the JSON events path is not confused with commands', async () => {
    const res = await postJson(h().adapter.port, '/slack/events', {
      type: 'url_verification',
      challenge: 'abc',
      token: 'x',
    });
    expect(JSON.parse(res.text)).toEqual({ challenge: 'abc' });
  });
});
