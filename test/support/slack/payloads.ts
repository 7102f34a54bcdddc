/**
 * Slack request payloads in the shapes Slack really sends (field names and nesting as in Slack's
 * "Interactivity payloads", "Slash commands" and Events API reference), with obviously fake ids.
 */

export const TEAM_ID = 'T0TESTTEAM';
export const USER_ID = 'U0TESTUSER';
export const ADMIN_ID = 'U0TESTADMIN';
export const DM_CHANNEL = 'D0TESTDM01';
export const TEAM_CHANNEL = 'C0TESTCHAN';
const API_APP_ID = 'A0TESTAPP';
export const RESPONSE_URL = 'https://hooks.slack.com/commands/T0TESTTEAM/1111111111/notarealresponseurl';
export const ACTION_RESPONSE_URL = 'https://hooks.slack.com/actions/T0TESTTEAM/2222222222/notarealresponseurl';
export const TRIGGER_ID = '1111111111.2222222222.0123456789abcdef0123456789abcdef';

/** `/backcare <text>` as Slack posts it: application/x-www-form-urlencoded. */
export function slashCommand(text: string, overrides: Record<string, string> = {}): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: TEAM_ID,
    team_domain: 'backcare-test',
    channel_id: TEAM_CHANNEL,
    channel_name: 'general',
    user_id: USER_ID,
    user_name: 'ada',
    command: '/backcare',
    text,
    api_app_id: API_APP_ID,
    is_enterprise_install: 'false',
    response_url: RESPONSE_URL,
    trigger_id: TRIGGER_ID,
    ...overrides,
  }).toString();
}

/** Interactivity payloads are JSON in a form field called `payload`. */
export function interactive(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

const user = (id = USER_ID) => ({ id, username: 'ada', name: 'ada', team_id: TEAM_ID });
const team = { id: TEAM_ID, domain: 'backcare-test' };

export function blockActionsOnMessage(
  action: { action_id: string; value: string },
  message: { channel?: string; ts?: string; userId?: string } = {},
): Record<string, unknown> {
  const channel = message.channel ?? DM_CHANNEL;
  const ts = message.ts ?? '1700000000.000100';
  return {
    type: 'block_actions',
    user: user(message.userId),
    api_app_id: API_APP_ID,
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
    trigger_id: TRIGGER_ID,
    team,
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: 'directmessage' },
    message: { type: 'message', user: 'U0TESTBOT', ts, text: 'Backcare', bot_id: 'B0TESTBOT', blocks: [] },
    state: { values: {} },
    response_url: ACTION_RESPONSE_URL,
    actions: [
      {
        ...action,
        block_id: 'b1',
        type: 'button',
        text: { type: 'plain_text', text: 'Press', emoji: true },
        action_ts: '1700000001.000200',
      },
    ],
  };
}

export function blockActionsOnHome(action: { action_id: string; value: string }): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: user(),
    api_app_id: API_APP_ID,
    token: 'deprecated-verification-token',
    container: { type: 'view', view_id: 'V0HOMEVIEW' },
    trigger_id: TRIGGER_ID,
    team,
    enterprise: null,
    is_enterprise_install: false,
    view: {
      id: 'V0HOMEVIEW',
      team_id: TEAM_ID,
      type: 'home',
      blocks: [],
      private_metadata: '',
      callback_id: '',
      state: { values: {} },
      hash: '1700000000.abcdef',
    },
    actions: [
      {
        ...action,
        block_id: 'b1',
        type: 'button',
        text: { type: 'plain_text', text: 'Press', emoji: true },
        action_ts: '1700000001.000200',
      },
    ],
  };
}

export type StateValue =
  | { type: 'plain_text_input'; value: string | null }
  | { type: 'number_input'; value: string | null }
  | { type: 'timepicker'; selected_time: string | null }
  | { type: 'conversations_select'; selected_conversation: string | null }
  | {
      type: 'static_select' | 'external_select';
      selected_option: { text: { type: 'plain_text'; text: string }; value: string } | null;
    }
  | {
      type: 'checkboxes' | 'multi_static_select';
      selected_options: { text: { type: 'plain_text'; text: string }; value: string }[];
    };

export function viewSubmission(
  callbackId: string,
  values: Record<string, StateValue>,
  privateMetadata = '',
): Record<string, unknown> {
  return {
    type: 'view_submission',
    team,
    user: user(),
    api_app_id: API_APP_ID,
    token: 'deprecated-verification-token',
    trigger_id: TRIGGER_ID,
    view: {
      id: 'V0MODAL001',
      team_id: TEAM_ID,
      type: 'modal',
      blocks: [],
      private_metadata: privateMetadata,
      callback_id: callbackId,
      state: { values: Object.fromEntries(Object.entries(values).map(([id, v]) => [id, { [id]: v }])) },
      hash: '1700000000.abcdef',
      title: { type: 'plain_text', text: 'Backcare settings', emoji: true },
      app_id: API_APP_ID,
      bot_id: 'B0TESTBOT',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export const opt = (value: string) => ({ text: { type: 'plain_text' as const, text: value }, value });

/** A settings modal filled in as Slack sends it. */
export const settingsValues = {
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

export function eventCallback(event: Record<string, unknown>, eventId = 'Ev0TEST0001'): Record<string, unknown> {
  return {
    token: 'deprecated-verification-token',
    team_id: TEAM_ID,
    api_app_id: API_APP_ID,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: 1700000000,
    authorizations: [
      { enterprise_id: null, team_id: TEAM_ID, user_id: 'U0TESTBOT', is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
}

export const appHomeOpened = (eventId?: string) =>
  eventCallback(
    { type: 'app_home_opened', user: USER_ID, channel: DM_CHANNEL, tab: 'home', event_ts: '1700000000.000300' },
    eventId,
  );

export const appUninstalled = (eventId?: string) =>
  eventCallback({ type: 'app_uninstalled', event_ts: '1700000000.000400' }, eventId);

export const tokensRevoked = (eventId?: string) =>
  eventCallback(
    { type: 'tokens_revoked', tokens: { oauth: [], bot: ['U0TESTBOT'] }, event_ts: '1700000000.000500' },
    eventId,
  );

export const urlVerification = (challenge: string) => ({
  token: 'deprecated-verification-token',
  challenge,
  type: 'url_verification',
});

export const blockSuggestion = (value: string) => ({
  type: 'block_suggestion',
  user: user(),
  team,
  api_app_id: API_APP_ID,
  token: 'deprecated-verification-token',
  container: { type: 'view', view_id: 'V0MODAL001' },
  action_id: 'timezone',
  block_id: 'timezone',
  value,
  view: { id: 'V0MODAL001', type: 'modal', callback_id: 'settings', private_metadata: '' },
});

/** users.info as Slack answers it (trimmed to what Backcare reads, plus a few neighbours). */
export function usersInfo(options: { id?: string; tz?: string; admin?: boolean } = {}): Record<string, unknown> {
  return {
    ok: true,
    user: {
      id: options.id ?? USER_ID,
      team_id: TEAM_ID,
      name: 'ada',
      real_name: 'Ada Lovelace',
      tz: options.tz ?? 'Europe/Paris',
      tz_offset: 3600,
      is_admin: options.admin ?? false,
      is_owner: false,
      is_primary_owner: false,
      is_bot: false,
      profile: { display_name: 'ada', real_name: 'Ada Lovelace' },
    },
  };
}
