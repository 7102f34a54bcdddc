import { DiscordAPIError, Events, type Interaction } from 'discord.js';
import { isDatabaseUnavailable, TROUBLE_TEXT } from '../../src/core/ports.js';
import { ephemeral, expiredText, type Component, type DiscordContext } from './context.js';
import { decodeCustomId } from './custom-id.js';
import type { createDirectMessages } from './dm.js';
import type { createFormInput } from './form-input.js';
import type { createSlash } from './slash.js';

/** Handlers for the gateway's events, by concern; the adapter builds them and this wires them to the client. */
export interface GatewayHandlers {
  slash: ReturnType<typeof createSlash>;
  onComponent: (interaction: Component) => Promise<void>;
  formInput: ReturnType<typeof createFormInput>;
  onDirectMessage: ReturnType<typeof createDirectMessages>;
  track: (work: Promise<unknown>) => void;
}

/** One gateway: interactions, DMs and guild joins/leaves, each logged if it fails; `attach` wires them once. */
export function createGateway(ctx: DiscordContext, handlers: GatewayHandlers) {
  const { log, client, lifecycle } = ctx;
  const { onCommand, onAutocomplete } = handlers.slash;
  const { onModal } = handlers.formInput;
  const { onComponent, onDirectMessage, track } = handlers;

  /** Removed from a server: the core pauses what ran there; their data stays until they or an admin delete it. */
  const onGuildDelete = (guildId: string) => lifecycle.removed({ platform: 'discord', externalId: guildId });
  /** Back in a server: the core resumes exactly what the removal paused, and tells those people once. */
  const onGuildCreate = (guildId: string) => lifecycle.restored({ platform: 'discord', externalId: guildId });

  async function onInteraction(interaction: Interaction): Promise<void> {
    const started = performance.now();
    try {
      if (interaction.isAutocomplete()) await onAutocomplete(interaction);
      else if (interaction.isChatInputCommand()) await onCommand(interaction);
      else if (interaction.isButton() || interaction.isStringSelectMenu() || interaction.isChannelSelectMenu())
        await onComponent(interaction);
      else if (interaction.isModalSubmit()) {
        const id = decodeCustomId(interaction.customId);
        if (id?.kind === 'modal') await onModal(interaction, id.draft, id.chunk);
        else await interaction.reply({ content: expiredText, flags: ephemeral });
      }
      log.debug(
        { event: 'discord.interaction', type: interaction.type, ms: Math.round(performance.now() - started) },
        'interaction handled',
      );
    } catch (error) {
      if (error instanceof DiscordAPIError && error.code === 10062) {
        log.warn(
          {
            event: 'discord.interaction_unknown',
            interactionId: interaction.id,
            ms: Math.round(performance.now() - started),
          },
          'interaction expired before it was answered',
        );
        return;
      }
      if (error instanceof DiscordAPIError && error.code === 40060) {
        log.warn(
          { event: 'discord.interaction_acknowledged', interactionId: interaction.id },
          'interaction was already acknowledged',
        );
        return;
      }
      // Form drafts and long button values are read outside the core: an outage there gets the core's wording.
      const unavailable = isDatabaseUnavailable(error);
      if (unavailable) log.error({ event: 'discord.db_unavailable', err: error }, 'database unavailable');
      else log.error({ event: 'discord.interaction_failed', err: error }, 'interaction failed');
      if (interaction.isRepliable()) {
        const body = {
          content: unavailable
            ? TROUBLE_TEXT
            : 'Sorry, something went wrong on my side. It has been logged; please try again.',
          flags: ephemeral,
        } as const;
        await (
          interaction.deferred || interaction.replied ? interaction.followUp(body) : interaction.reply(body)
        ).catch(() => undefined);
      }
    }
  }

  let attached = false;
  function attach(): void {
    if (attached) return;
    attached = true;
    client.on(Events.InteractionCreate, (interaction) => track(onInteraction(interaction)));
    client.on(Events.MessageCreate, (message) =>
      track(
        onDirectMessage(message).catch((error: unknown) =>
          log.error({ event: 'discord.dm_failed', err: error }, 'direct message not answered'),
        ),
      ),
    );
    client.on(Events.GuildDelete, (guild) =>
      track(
        onGuildDelete(guild.id).catch((error: unknown) =>
          log.error({ event: 'discord.guild_delete_failed', err: error }, 'guildDelete failed'),
        ),
      ),
    );
    client.on(Events.GuildCreate, (guild) =>
      track(
        onGuildCreate(guild.id).catch((error: unknown) =>
          log.error({ event: 'discord.guild_create_failed', err: error }, 'guildCreate failed'),
        ),
      ),
    );
    client.on(Events.ClientReady, (ready) =>
      log.info({ event: 'discord.ready', guilds: ready.guilds.cache.size }, `Discord: logged in as ${ready.user.tag}`),
    );
    client.on(Events.Error, (error) =>
      log.error({ event: 'discord.client_error', err: error }, 'discord client error'),
    );
    client.rest.on('rateLimited', (info) =>
      log.warn(
        { event: 'discord.rate_limited', route: info.route, retryAfter: info.retryAfter, global: info.global },
        'Discord rate limit: waiting',
      ),
    );
  }

  return attach;
}
