/**
 * Raw INTERACTION_CREATE payloads in the shapes Discord's gateway sends (API v10), for driving discord.js's
 * own interaction handling in tests. Ids are snowflake-shaped and fake; tokens are obviously not real.
 */

export const APP_ID = '111111111111111111';
export const GUILD_ID = '222222222222222222';
const CHANNEL_ID = '444444444444444444';
export const USER_ID = '666666666666666666';
export const LEAD_ROLE_ID = '555555555555555555';
export const BOT_TOKEN = 'test-token-not-real';

/** Manage Server (1 << 5) plus Send Messages etc.; and an ordinary member's permissions. */
export const MANAGE_GUILD_PERMISSIONS = String((1n << 5n) | (1n << 11n) | (1n << 10n));
const MEMBER_PERMISSIONS = String((1n << 11n) | (1n << 10n));

let counter = 0;
/** A snowflake minted now (Discord epoch 2015), as Discord's are: discord.js reads creation time from it. */
export const nextId = () => String(((BigInt(Date.now()) - 1420070400000n) << 22n) | BigInt(++counter % 4096));

const user = (id = USER_ID) => ({
  id,
  username: 'alex',
  discriminator: '0',
  global_name: 'Alex',
  avatar: null,
  public_flags: 0,
});

/** Where an interaction comes from, and who sends it (USER_ID unless `userId` says otherwise). */
export type Where = ({ kind: 'guild'; roles?: string[]; permissions?: string } | { kind: 'dm' }) & { userId?: string };

function envelope(where: Where, defaultUserId = USER_ID) {
  const userId = where.userId ?? defaultUserId;
  const id = nextId();
  const common = {
    id,
    application_id: APP_ID,
    token: `test-interaction-token-${id}`,
    version: 1,
    app_permissions: '2248473465835073',
    locale: 'en-GB',
    entitlements: [],
    attachment_size_limit: 26214400,
  };
  if (where.kind === 'dm') {
    return {
      ...common,
      channel_id: '777777777777777777',
      channel: { id: '777777777777777777', type: 1, last_message_id: null, flags: 0, recipients: [user(userId)] },
      user: user(userId),
      authorizing_integration_owners: { '0': GUILD_ID },
      context: 1,
    };
  }
  return {
    ...common,
    guild_id: GUILD_ID,
    guild: { id: GUILD_ID, locale: 'en-US', features: [] },
    guild_locale: 'en-US',
    channel_id: CHANNEL_ID,
    channel: {
      id: CHANNEL_ID,
      type: 0,
      guild_id: GUILD_ID,
      name: 'general',
      position: 0,
      permissions: '2248473465835073',
      flags: 0,
      nsfw: false,
      parent_id: null,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
    },
    member: {
      user: user(userId),
      roles: where.roles ?? [],
      permissions: where.permissions ?? MEMBER_PERMISSIONS,
      joined_at: '2025-01-10T09:00:00.000000+00:00',
      premium_since: null,
      deaf: false,
      mute: false,
      pending: false,
      flags: 0,
      nick: null,
      avatar: null,
      communication_disabled_until: null,
    },
    authorizing_integration_owners: { '0': GUILD_ID },
    context: 0,
  };
}

export type RawOption = { name: string; type: number; value?: string | number | boolean; focused?: boolean };

/** `/backcare <sub> [options]` (APPLICATION_COMMAND, CHAT_INPUT with a subcommand). */
export function slashCommand(
  sub: string,
  options: RawOption[] = [],
  where: Where = { kind: 'guild' },
  resolved?: unknown,
) {
  return {
    ...envelope(where),
    type: 2,
    data: {
      id: '1170000000000000000',
      name: 'backcare',
      type: 1,
      options: [{ name: sub, type: 1, ...(options.length ? { options } : {}) }],
      ...(resolved ? { resolved } : {}),
    },
  };
}

/** APPLICATION_COMMAND_AUTOCOMPLETE: the focused option holds what was typed so far. */
export function autocomplete(sub: string, options: RawOption[], where: Where = { kind: 'guild' }) {
  return {
    ...envelope(where),
    type: 4,
    data: { id: '1170000000000000000', name: 'backcare', type: 1, options: [{ name: sub, type: 1, options }] },
  };
}

/** The message a component sits on, as Discord includes it in MESSAGE_COMPONENT payloads. */
export function messageWith(
  components: unknown[],
  options: { id?: string; channelId?: string; ephemeral?: boolean; interactionId?: string } = {},
) {
  return {
    id: options.id ?? nextId(),
    channel_id: options.channelId ?? CHANNEL_ID,
    type: options.interactionId ? 20 : 0,
    content: '',
    embeds: [],
    components,
    attachments: [],
    mentions: [],
    mention_roles: [],
    pinned: false,
    mention_everyone: false,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    flags: options.ephemeral ? 64 : 0,
    author: { id: APP_ID, username: 'Backcare', discriminator: '0', global_name: null, avatar: null, bot: true },
    ...(options.interactionId
      ? {
          interaction_metadata: {
            id: options.interactionId,
            type: 2,
            user: user(),
            authorizing_integration_owners: { '0': GUILD_ID },
          },
        }
      : {}),
  };
}

/** MESSAGE_COMPONENT: a button press. */
export function buttonPress(customId: string, where: Where = { kind: 'guild' }, message = messageWith([])) {
  return { ...envelope(where), type: 3, message, data: { custom_id: customId, component_type: 2 } };
}

/** MESSAGE_COMPONENT: a string select choice. */
export function selectChoice(
  customId: string,
  values: string[],
  where: Where = { kind: 'guild' },
  message = messageWith([]),
) {
  return { ...envelope(where), type: 3, message, data: { custom_id: customId, component_type: 3, values } };
}

/** MESSAGE_COMPONENT: a channel select choice (Discord sends the picked channel ids). */
export function channelChoice(
  customId: string,
  channelIds: string[],
  where: Where = { kind: 'guild' },
  message = messageWith([]),
) {
  return { ...envelope(where), type: 3, message, data: { custom_id: customId, component_type: 8, values: channelIds } };
}

/** MODAL_SUBMIT from a modal opened by a button on `message`. */
export function modalSubmit(
  customId: string,
  values: Record<string, string>,
  where: Where = { kind: 'guild' },
  message = messageWith([]),
) {
  return {
    ...envelope(where),
    type: 5,
    message,
    data: {
      custom_id: customId,
      components: Object.entries(values).map(([id, value]) => ({
        type: 1,
        components: [{ type: 4, custom_id: id, value }],
      })),
    },
  };
}
