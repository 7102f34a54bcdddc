import { DiscordAPIError, Routes, type REST } from 'discord.js';
import type { Logger } from '../../src/config/logger.js';
import type { Actor, ChannelMessenger, ChannelRef, DmResult, Reply } from '../../src/core/ports.js';
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

/** DM answers retrying cannot change: DMs closed (50007), the user gone (10013). */
const unreachableDm: Record<number, string> = {
  50007: 'their direct messages are closed',
  10013: 'the Discord user no longer exists',
};

/**
 * `/backcare invite` on Discord: the announcement only. Listing a channel's members needs the privileged
 * Server Members intent, which Backcare does not ask for, so there is no `listMembers`; `sendDm` reaches one
 * known person (the core tells people Backcare is back with it).
 */
export function createDiscordChannelMessenger(options: {
  rest: REST;
  refs: ActionRefs;
  log: Logger;
  /** Opens (or returns the cached) DM channel with a user: the sender's, so both share one cache. */
  dmChannel?: (userId: string) => Promise<string>;
}): ChannelMessenger {
  const { dmChannel } = options;
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
        await options.refs.flush();
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
    ...(dmChannel
      ? {
          async sendDm(actor: Actor, platformUserId: string, message: Reply): Promise<DmResult> {
            try {
              const channelId = await dmChannel(platformUserId);
              const {
                files: _files,
                dropped: _dropped,
                flags: _flags,
                ...body
              } = renderMessage(message, {
                ctx: { guildId: actor.workspaceExternalId },
                refs: options.refs,
                owner: { workspaceExternalId: actor.workspaceExternalId, userId: platformUserId },
              });
              await options.refs.flush();
              await options.rest.post(Routes.channelMessages(channelId), { body });
              return { status: 'sent' };
            } catch (error) {
              const code = error instanceof DiscordAPIError && typeof error.code === 'number' ? error.code : undefined;
              options.log.warn({ event: 'discord.dm_failed', code }, 'direct message not delivered');
              const reason = code !== undefined ? unreachableDm[code] : undefined;
              return reason
                ? { status: 'unreachable', reason }
                : { status: 'later', reason: 'Discord did not take the direct message for now' };
            }
          },
        }
      : {}),
  };
}
