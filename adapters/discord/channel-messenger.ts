import { DiscordAPIError, Routes, type REST } from 'discord.js';
import type { Logger } from '../../src/config/logger.js';
import type { ChannelMessenger, ChannelRef } from '../../src/core/channel-messenger.js';
import type { ActionRefs } from './custom-id.js';
import { renderMessage } from './render.js';

/** A `#channel` typed into a slash-command option arrives as `<#id>`; a bare id is accepted too. */
const channelMention = /^<#(\d{15,21})>$/;
const snowflake = /^(\d{15,21})$/;

/** The one reading of a channel typed into a Discord command; a bare name cannot be posted to, so it is refused. */
export function discordChannelRef(typed: string): ChannelRef {
  const value = typed.trim();
  const id = channelMention.exec(value)?.[1] ?? snowflake.exec(value)?.[1];
  if (id) return { ok: true, channelId: id };
  if (/^#?[\p{L}\p{N}_.-]{1,100}$/u.test(value)) {
    return {
      ok: false,
      message: `Discord sent only the name ${value.startsWith('#') ? value : `#${value}`}, not the channel itself. Type \`#\` and pick the channel from Discord's list, so Discord sends its id.`,
    };
  }
  return {
    ok: false,
    message: 'That is not a channel. Name it as a mention: type `#` and pick the channel from the list.',
  };
}

const postFailures: Record<number, string> = {
  10003: 'Discord does not know that channel.',
  50001: 'Backcare cannot see that channel. Give it access to the channel first.',
  50013: 'Backcare lacks permission to post in that channel (Send Messages, Embed Links).',
};

/**
 * `/backcare invite` on Discord: the announcement only. Listing a channel's members needs the privileged
 * Server Members intent, which Backcare does not ask for, so there is no `listMembers` and no DM invite here.
 */
export function createDiscordChannelMessenger(options: {
  rest: REST;
  refs: ActionRefs;
  log: Logger;
}): ChannelMessenger {
  return {
    platform: 'discord',
    channelRef: discordChannelRef,
    async post(actor, channelId, message) {
      try {
        const {
          files: _files,
          dropped: _dropped,
          flags: _flags,
          ...body
        } = renderMessage(message, { ctx: { guildId: actor.workspaceExternalId }, refs: options.refs });
        await options.rest.post(Routes.channelMessages(channelId), { body });
        return { ok: true };
      } catch (error) {
        const code = error instanceof DiscordAPIError && typeof error.code === 'number' ? error.code : undefined;
        options.log.warn({ event: 'discord.invite_post_failed', code }, 'invite announcement not posted');
        return {
          ok: false,
          message:
            (code !== undefined ? postFailures[code] : undefined) ??
            'Discord did not accept the message; try again in a minute.',
        };
      }
    },
  };
}
