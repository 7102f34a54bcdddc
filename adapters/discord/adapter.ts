import {
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  GuildMemberRoleManager,
  MessageFlags,
  MessageType,
  Options,
  Partials,
  PermissionFlagsBits,
  Routes,
  type Message,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type ModalSubmitInteraction,
  type RESTOptions,
  type StringSelectMenuInteraction,
  type ChannelSelectMenuInteraction,
} from 'discord.js';
import { readFile } from 'node:fs/promises';
import { and, desc, eq, inArray, like, not, sql } from 'drizzle-orm';
import type { Logger } from '../../src/config/logger.js';
import type { Adapter } from '../../src/core/adapter.js';
import { decodeActionValue, encodeActionValue } from '../../src/core/command.js';
import {
  caution,
  context,
  reply as makeReply,
  text,
  type Block,
  type FormField,
  type Reply,
} from '../../src/core/reply.js';
import type { Actor, CoreInput } from '../../src/core/request.js';
import type { Core } from '../../src/core/router.js';
import { loadPreferencesRow } from '../../src/db/preferences.js';
import {
  auditLog,
  discordGuildSettings,
  preferences,
  processedEvents,
  users,
  workspaces,
} from '../../src/db/schema.js';
import { ensureWorkspace, findUser, findWorkspace } from '../../src/db/users.js';
import { LEAD_ROLE_SUBCOMMAND, subcommandSpecs, type SubcommandSpec } from './commands.js';
import { ActionRefs, decodeCustomId, type MessageContext } from './custom-id.js';
import { FormDrafts, initialValues, modalFor, pageMessage, steps, type Draft, type FormValues } from './forms.js';
import { LiveSessions, type LiveOptions } from './live.js';
import {
  actorFrom,
  commandText,
  dmCommandText,
  parseCommandOptions,
  timezoneSuggestions,
  type ActorFacts,
  type OptionValues,
} from './parse.js';
import {
  REF_OPTION_PREFIX,
  isPersonal,
  renderActions,
  renderMessage,
  sessionEmbeds,
  type DiscordMessage,
} from './render.js';
import { createDiscordSender, DMS_CLOSED_REASON, type DiscordSender } from './sender.js';
import { createDiscordTeamResolver } from './team-resolver.js';
import { createDiscordChannelMessenger } from './channel-messenger.js';
import type { ChannelMessenger } from '../../src/core/channel-messenger.js';
import type { TeamResolver } from '../../src/core/stats/team.js';

export interface DiscordAdapterOptions {
  core: Core;
  log: Logger;
  token: string;
  applicationId: string;
  timeScale?: number;
  /** REST overrides (tests point `api` at a loopback server). */
  rest?: Partial<RESTOptions>;
  /** Routine ids for autocomplete (from the content library). */
  routineChoices?: () => readonly { id: string; title: string }[];
  /** Defer when the core has not answered after this long (Discord allows 3 s for the first response). */
  deferAfterMs?: number;
  live?: Partial<Omit<LiveOptions, 'rest' | 'log'>>;
}

export interface DiscordAdapter extends Adapter {
  readonly client: Client;
  readonly sender: DiscordSender;
  readonly live: LiveSessions;
  /** For `/backcare stats`: the whole server or one role (the app adds it to the core's resolvers). */
  readonly teamResolver: TeamResolver;
  /** For `/backcare invite #channel`: the announcement only (no member list without privileged intents). */
  readonly channelMessenger: ChannelMessenger;
  readonly specs: readonly SubcommandSpec[];
  /** Wires the event handlers without connecting (start() does both); tests feed raw packets after this. */
  attach(): void;
  /** Resolves when every interaction being handled, and every live session, has finished. */
  idle(): Promise<void>;
}

export const GUILD_REMOVED_REASON = 'Backcare was removed from the Discord server';

const ephemeral = MessageFlags.Ephemeral;
const expiredText = 'This button has expired or is no longer valid. Run `/backcare help` to start again.';

/** The guild's lead role is read on every guild interaction; a short cache keeps that off the database. */
const LEAD_ROLE_CACHE_MS = 60_000;

type Component = ButtonInteraction | StringSelectMenuInteraction | ChannelSelectMenuInteraction;
type Repliable = ChatInputCommandInteraction | Component | ModalSubmitInteraction;

function memberRoles(member: Interaction['member']): string[] {
  if (!member) return [];
  if (member.roles instanceof GuildMemberRoleManager) return [...member.roles.cache.keys()];
  return Array.isArray(member.roles) ? member.roles : [];
}

const withoutFlags = ({ flags: _flags, ...rest }: DiscordMessage): DiscordMessage => rest;

/**
 * Backcare on Discord: one `/backcare` slash command with subcommands, buttons and selects, modals, DMs.
 * Translates interactions into core requests (parse.ts), the core's replies into embeds and components
 * (render.ts), forms into a select/modal wizard (forms.ts) and timed sequences into an edited reply (live.ts).
 */
export function createDiscordAdapter(options: DiscordAdapterOptions): DiscordAdapter {
  const { core, log } = options;
  const db = core.deps.db;
  const deferAfterMs = options.deferAfterMs ?? 2000;
  const specs = subcommandSpecs(core.commands, core.deps.library);
  const refs = new ActionRefs();
  const drafts = new FormDrafts();

  const client = new Client({
    // Guilds: joins and leaves; GuildVoiceStates (not privileged): who is in a call, so no nudge then;
    // DirectMessages: messages typed to Backcare in a DM (a DM's text needs no MessageContent intent).
    // Interactions need no intent; nothing privileged.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildVoiceStates, GatewayIntentBits.DirectMessages],
    // DM channels are not cached before their first message arrives; without this partial discord.js drops it.
    partials: [Partials.Channel],
    // Large servers must not grow memory: Backcare never reads messages, members or presences from the cache.
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      MessageManager: 0,
      GuildMemberManager: { maxSize: 100, keepOverLimit: (member) => member.id === member.client.user?.id },
      UserManager: 1000,
      PresenceManager: 0,
      ReactionManager: 0,
      GuildEmojiManager: 0,
      GuildStickerManager: 0,
      // The busy check reads voice states; those of people in a call are always kept, stale "left" ones are evicted.
      VoiceStateManager: { maxSize: 1000, keepOverLimit: (state) => state.channelId !== null },
      ThreadManager: 0,
      GuildScheduledEventManager: 0,
      StageInstanceManager: 0,
    }),
    ...(options.rest ? { rest: options.rest } : {}),
  });
  client.rest.setToken(options.token);

  const sender = createDiscordSender({
    rest: client.rest,
    log,
    botUserId: options.applicationId,
    refs,
    inVoice: (guildId, userId) => Boolean(client.guilds.cache.get(guildId)?.voiceStates.cache.get(userId)?.channelId),
  });
  const live = new LiveSessions({ rest: client.rest, log, timeScale: options.timeScale ?? 1, ...options.live });

  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  // ---- who is asking ------------------------------------------------------------------------------

  const leadRoles = new Map<string, { roleId: string | null; at: number }>();

  async function leadRoleFor(guildId: string): Promise<string | null> {
    const cached = leadRoles.get(guildId);
    if (cached && Date.now() - cached.at < LEAD_ROLE_CACHE_MS) return cached.roleId;
    const [row] = await db
      .select({ roleId: discordGuildSettings.leadRoleId })
      .from(discordGuildSettings)
      .innerJoin(workspaces, eq(workspaces.id, discordGuildSettings.workspaceId))
      .where(and(eq(workspaces.platform, 'discord'), eq(workspaces.externalId, guildId)));
    const roleId = row?.roleId ?? null;
    leadRoles.set(guildId, { roleId, at: Date.now() });
    return roleId;
  }

  /** In DMs: the guild the person last set Backcare up in (most recently saved settings), if any. */
  async function homeGuild(userId: string): Promise<string | undefined> {
    const [row] = await db
      .select({ externalId: workspaces.externalId })
      .from(users)
      .innerJoin(workspaces, eq(users.workspaceId, workspaces.id))
      .leftJoin(preferences, eq(preferences.userId, users.id))
      .where(
        and(
          eq(workspaces.platform, 'discord'),
          eq(users.platformUserId, userId),
          eq(workspaces.active, true),
          not(like(workspaces.externalId, 'dm-%')),
        ),
      )
      .orderBy(sql`${preferences.updatedAt} desc nulls last`, desc(users.createdAt))
      .limit(1);
    return row?.externalId;
  }

  async function factsFor(interaction: Interaction, ctx: MessageContext = {}, timezone?: string): Promise<ActorFacts> {
    const user = interaction.user;
    const base = { userId: user.id, displayName: user.globalName ?? user.username, ...(timezone ? { timezone } : {}) };
    if (interaction.guildId) {
      const manageGuild = interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
      const leadRole = await leadRoleFor(interaction.guildId);
      return {
        ...base,
        guildId: interaction.guildId,
        guildName: interaction.guild?.name,
        manageGuild,
        isLead: leadRole !== null && memberRoles(interaction.member).includes(leadRole),
      };
    }
    return { ...base, guildId: ctx.guildId ?? (await homeGuild(user.id)), manageGuild: false, isLead: false };
  }

  /** In a DM, buttons name the guild they are about; in a server the interaction already says. */
  const encodingFor = (facts: ActorFacts, interaction: Interaction) => ({
    ctx: !interaction.guildId && facts.guildId && /^\d+$/.test(facts.guildId) ? { guildId: facts.guildId } : {},
    refs,
  });

  async function storedPreferences(actor: Actor) {
    const workspace = await findWorkspace(db, { platform: 'discord', externalId: actor.workspaceExternalId });
    const user = workspace ? await findUser(db, workspace.id, actor.userExternalId) : null;
    return user ? loadPreferencesRow(db, user.id) : null;
  }

  // ---- answering within three seconds ------------------------------------------------------------

  /** Runs the work; if it is not done in time, acknowledges first (defer) so the token stays valid. */
  async function within<T>(work: Promise<T>, defer: () => Promise<unknown>): Promise<{ value: T; deferred: boolean }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<'slow'>((resolve) => (timer = setTimeout(() => resolve('slow'), deferAfterMs)));
    const first = await Promise.race([work.then((value) => ({ value })), slow]);
    clearTimeout(timer);
    if (first !== 'slow') return { value: first.value, deferred: false };
    await defer();
    return { value: await work, deferred: true };
  }

  const ask = (actor: Actor, input: CoreInput) => core.handle({ actor, input });

  // ---- Discord has no user timezone ----------------------------------------------------------------

  function askTimezoneReply(): Reply {
    const message = 'Discord does not tell apps your timezone, and nudges follow your working hours.';
    return makeReply(
      message,
      [
        text(`*Which timezone are you in?* ${message}`),
        text(
          'Run `/backcare settings mode:on timezone:` and start typing your city (for example London or New York), then pick it from the list.',
        ),
        context('Or set everything at once with the button below.'),
      ],
      {
        actions: [
          {
            type: 'button',
            actionId: 'settings.edit',
            label: 'Edit all settings',
            value: encodeActionValue({}),
            style: 'primary',
          },
        ],
      },
    );
  }

  async function settingsFlow(actor: Actor, values: OptionValues): Promise<Reply> {
    const timezone = typeof values.timezone === 'string' ? values.timezone : undefined;
    const mode = typeof values.mode === 'string' ? values.mode : 'show';
    if (mode === 'on' && !timezone && !(await storedPreferences(actor))) return askTimezoneReply();
    if (!timezone || mode === 'off')
      return ask(actor, { kind: 'command', text: mode === 'show' ? 'settings' : `settings ${mode}` });
    // A timezone from autocomplete: fill it into the core's own settings form and submit that (validated there).
    const withZone = { ...actor, timezone };
    const opened = await ask(withZone, { kind: 'command', text: 'settings edit' });
    if (!opened.form) return opened;
    if (mode === 'edit') {
      return {
        ...opened,
        form: {
          ...opened.form,
          fields: opened.form.fields.map((f): FormField =>
            f.id === 'timezone' && f.kind === 'timezone' ? { ...f, initial: timezone } : f,
          ),
        },
      };
    }
    const submitted: FormValues = {
      ...initialValues(opened.form),
      timezone,
      ...(mode === 'on' ? { optedIn: 'yes' } : {}),
    };
    return ask(withZone, {
      kind: 'submit',
      formId: opened.form.formId,
      values: submitted,
      ...(opened.form.state ? { state: opened.form.state } : {}),
    });
  }

  /** Someone whose nudges were paused because their DMs are closed is told how to fix it with every personal reply until they do. */
  async function withPauseNote(actor: Actor, result: Reply): Promise<Reply> {
    if (result.form || result.sequence || !isPersonal(result)) return result;
    const prefs = await storedPreferences(actor);
    if (prefs?.pausedReason !== DMS_CLOSED_REASON) return result;
    const note = caution(
      'Your nudges are paused: Discord would not let me send you a direct message. Open the server menu → *Privacy Settings* and allow direct messages from server members (or choose a team channel in settings), then run `/backcare settings mode:on`.',
    );
    return { ...result, blocks: [...result.blocks, note] };
  }

  // ---- slash commands --------------------------------------------------------------------------------

  async function onCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    const parsed = parseCommandOptions(specs, interaction.options.data);
    if (!parsed.ok) {
      log.info({ event: 'discord.command_invalid', error: parsed.error }, 'invalid command options');
      await interaction.reply({ content: `Sorry: ${parsed.error}. Try \`/backcare help\`.`, flags: ephemeral });
      return;
    }
    const { spec, values } = parsed;
    const work = (async () => {
      const facts = await factsFor(interaction);
      const actor = actorFrom(facts);
      if (spec.name === LEAD_ROLE_SUBCOMMAND) return { facts, actor, result: await leadRoleCommand(facts, values) };
      const result =
        spec.name === 'settings'
          ? await settingsFlow(actor, values)
          : await ask(actor, { kind: 'command', text: commandText(spec, values) });
      return { facts, actor, result: await withPauseNote(actor, result) };
    })();
    const { value, deferred } = await within(work, () => interaction.deferReply({ flags: ephemeral }));
    await deliver(interaction, value.result, { deferred, actor: value.actor, facts: value.facts });
  }

  async function leadRoleCommand(facts: ActorFacts, values: OptionValues): Promise<Reply> {
    const say = (message: string) => makeReply(message, [text(message)]);
    if (!facts.guildId || facts.guildId.startsWith('dm-') || !/^\d+$/.test(facts.guildId))
      return say('Run this in your server, not in a direct message.');
    const workspace = await ensureWorkspace(db, {
      platform: 'discord',
      externalId: facts.guildId,
      name: facts.guildName,
    });
    if (values.clear === 'yes' || typeof values.role === 'string') {
      if (!facts.manageGuild) return say('Only members with the *Manage Server* permission can choose the lead role.');
      const roleId = values.clear === 'yes' ? null : (values.role as string);
      await db.transaction(async (tx) => {
        await tx
          .insert(discordGuildSettings)
          .values({ workspaceId: workspace.id, leadRoleId: roleId, updatedBy: facts.userId })
          .onConflictDoUpdate({
            target: discordGuildSettings.workspaceId,
            set: { leadRoleId: roleId, updatedBy: facts.userId, updatedAt: new Date() },
          });
        await tx.insert(auditLog).values({
          workspaceId: workspace.id,
          actor: facts.userId,
          action: roleId ? 'discord.lead_role.set' : 'discord.lead_role.cleared',
          subject: roleId,
        });
      });
      leadRoles.delete(facts.guildId);
      log.info({ event: 'discord.lead_role', guildId: facts.guildId, set: roleId !== null }, 'lead role changed');
      return say(
        roleId
          ? `Members with <@&${roleId}> now count as team leads (as do members with Manage Server).`
          : 'The lead role is cleared: only members with Manage Server count as team leads.',
      );
    }
    const current = await leadRoleFor(facts.guildId);
    return say(
      current
        ? `Team leads: members with <@&${current}>, and members with Manage Server.`
        : 'Team leads: members with Manage Server. Choose a lead role with `/backcare lead-role role:`.',
    );
  }

  // ---- delivering a reply ----------------------------------------------------------------------------

  interface Delivery {
    deferred: boolean;
    actor: Actor;
    facts: ActorFacts;
    /** Form values to keep when a submit came back with errors. */
    previous?: FormValues;
  }

  async function deliver(interaction: Repliable, result: Reply, how: Delivery): Promise<void> {
    if (result.form) return startForm(interaction, result, how);
    if (result.sequence) return startSequence(interaction, result, how);
    const encoding = encodingFor(how.facts, interaction);
    const message = renderMessage(result, encoding, { ephemeral: isPersonal(result) });
    if (message.dropped > 0)
      log.warn(
        { event: 'discord.render_dropped', dropped: message.dropped },
        'reply had more actions than Discord shows',
      );
    const { dropped: _dropped, ...body } = message;
    const replaces = interaction.isChatInputCommand()
      ? false
      : Boolean(result.replaceOriginal) || (interaction.isModalSubmit() && interaction.isFromMessage());
    if (replaces && (interaction.isMessageComponent() || interaction.isModalSubmit())) {
      if (how.deferred) await interaction.editReply(withoutFlags(body));
      else if (interaction.isMessageComponent() || interaction.isFromMessage())
        await (interaction as Component).update(withoutFlags(body));
      return;
    }
    if (!how.deferred) {
      await interaction.reply(body);
      return;
    }
    if (interaction.isChatInputCommand()) {
      // Deferred ephemerally (most replies are personal); a public reply goes out as a follow-up instead.
      if (isPersonal(result)) await interaction.editReply(withoutFlags(body));
      else {
        await interaction.followUp(body);
        await interaction.deleteReply().catch(() => undefined);
      }
      return;
    }
    await interaction.followUp(body);
  }

  // ---- forms ---------------------------------------------------------------------------------------

  async function startForm(interaction: Repliable, result: Reply, how: Delivery): Promise<void> {
    const form = result.form!;
    const draft = drafts.create(
      form,
      { userId: how.facts.userId, guildId: how.facts.guildId },
      {
        values: how.previous ?? {},
        ...(result.formErrors ? { errors: result.formErrors } : {}),
      },
    );
    await showStep(interaction, draft, how, true);
  }

  /** Shows the draft's current step: a page of selects, a modal (only as a direct answer to a press), or submits. */
  async function showStep(interaction: Repliable, draft: Draft, how: Delivery, fresh: boolean): Promise<void> {
    const step = steps(draft)[draft.position]!;
    if (step.kind === 'submit') return submitDraft(interaction, draft, how);
    const canModal = !how.deferred && !interaction.isModalSubmit() && !interaction.replied;
    if (step.kind === 'modal' && canModal && !fresh) {
      await (interaction as Component).showModal(modalFor(draft, step));
      return;
    }
    const page = pageMessage(draft);
    if (fresh && (interaction.isChatInputCommand() || !interaction.isModalSubmit())) {
      if (how.deferred) {
        if (interaction.isChatInputCommand()) await interaction.editReply(page);
        else await interaction.followUp({ ...page, flags: ephemeral });
      } else await interaction.reply({ ...page, flags: ephemeral });
      return;
    }
    if (how.deferred) await interaction.editReply(page);
    else await (interaction as Component).update(page);
  }

  async function onFormStep(interaction: Component, draftId: string, step: string): Promise<void> {
    const draft = drafts.get(draftId, interaction.user.id);
    if (!draft) {
      await interaction.reply({
        content: 'This form has expired or belongs to someone else. Run the command again.',
        flags: ephemeral,
      });
      return;
    }
    if (step === 'x') {
      drafts.delete(draft.id);
      await interaction.update({ content: 'Cancelled: nothing was saved.', embeds: [], components: [] });
      return;
    }
    const how = async (): Promise<Delivery> => {
      const facts = await factsFor(interaction, draft.guildId ? { guildId: draft.guildId } : {});
      return { deferred: false, facts, actor: actorFrom(facts) };
    };
    if (/^\d+$/.test(step)) {
      const field = draft.form.fields[Number(step)];
      if (field?.kind === 'channel' && interaction.isChannelSelectMenu()) {
        // The picked channel's id (nothing when cleared); the core reads it with the channel parser on submit.
        draft.values[field.id] = interaction.values[0] ?? '';
        await interaction.deferUpdate();
        return;
      }
      if (!field || !interaction.isStringSelectMenu() || (field.kind !== 'select' && field.kind !== 'multiselect')) {
        await interaction.reply({ content: expiredText, flags: ephemeral });
        return;
      }
      const allowed = new Set(field.options.map((o) => o.value));
      const chosen = interaction.values.filter((v) => allowed.has(v));
      draft.values[field.id] = field.kind === 'select' ? (chosen[0] ?? '') : chosen;
      await interaction.deferUpdate();
      return;
    }
    // Next: leave the current page of selects; a modal step opens its modal.
    const current = steps(draft)[draft.position];
    if (current?.kind === 'page') draft.position += 1;
    const next = steps(draft)[draft.position]!;
    if (next.kind === 'modal') {
      await interaction.showModal(modalFor(draft, next));
      return;
    }
    await showStep(interaction, draft, await how(), false);
  }

  async function onModal(interaction: ModalSubmitInteraction, draftId: string, chunk: number): Promise<void> {
    const draft = drafts.get(draftId, interaction.user.id);
    const all = draft ? steps(draft) : [];
    const index = all.findIndex((s) => s.kind === 'modal' && s.index === chunk);
    if (!draft || index < 0) {
      await interaction.reply({ content: 'This form has expired. Run the command again.', flags: ephemeral });
      return;
    }
    for (const field of (all[index] as Extract<(typeof all)[number], { kind: 'modal' }>).fields) {
      const typed = interaction.fields.fields.get(field.id);
      // A pasted channel mention (<#123>) means the channel's id, which is what the core stores and the sender posts to.
      if (typed && 'value' in typed && typeof typed.value === 'string')
        draft.values[field.id] = typed.value.trim().replace(/^<#(\d{15,21})>$/, '$1');
    }
    draft.position = index + 1;
    const facts = await factsFor(interaction, draft.guildId ? { guildId: draft.guildId } : {});
    await showStep(interaction, draft, { deferred: false, facts, actor: actorFrom(facts) }, false);
  }

  async function submitDraft(interaction: Repliable, draft: Draft, how: Delivery): Promise<void> {
    drafts.delete(draft.id);
    const work = ask(how.actor, {
      kind: 'submit',
      formId: draft.form.formId,
      values: draft.values,
      ...(draft.form.state ? { state: draft.form.state } : {}),
    });
    const { value: result, deferred } = await within(work, () => (interaction as Component).deferUpdate());
    if (result.form) {
      // Rejected: ask again for the fields in question only, keeping every answer given.
      const again = drafts.create(
        result.form,
        { userId: how.facts.userId, guildId: draft.guildId },
        { values: draft.values, ...(result.formErrors ? { errors: result.formErrors } : {}) },
      );
      await showStep(interaction, again, { ...how, deferred }, false);
      return;
    }
    const message = renderMessage(result, encodingFor(how.facts, interaction));
    const { dropped: _dropped, ...body } = message;
    if (deferred) await interaction.editReply(withoutFlags(body));
    else await (interaction as Component).update(withoutFlags(body));
  }

  // ---- live sessions ---------------------------------------------------------------------------------

  async function startSequence(interaction: Repliable, result: Reply, how: Delivery): Promise<void> {
    const sequence = result.sequence!;
    const encoding = encodingFor(how.facts, interaction);
    const { rows } = renderActions(sequence.actions, encoding);
    const render = (blocks: Block[]): DiscordMessage => ({
      embeds: sessionEmbeds(result.blocks, blocks),
      components: rows,
    });
    const playLive = live.canPlayLive() && sequence.frames.length > 0;
    const first = render(playLive ? sequence.frames[0]!.blocks : sequence.staticBlocks);
    if (how.deferred) await interaction.editReply(first);
    else if (result.replaceOriginal && interaction.isMessageComponent()) await interaction.update(first);
    else await interaction.reply({ ...first, flags: ephemeral });
    live.play({
      sequence,
      live: playLive,
      userId: how.facts.userId,
      interactionId: interaction.id,
      createdAt: interaction.createdTimestamp,
      render,
      editOriginal: async (message) => (await interaction.editReply(message)).id,
      complete: async () => {
        if (!sequence.onComplete)
          return { ...render(sequence.frames.at(-1)?.blocks ?? sequence.staticBlocks), components: [] };
        const done = await ask(how.actor, { kind: 'action', ...sequence.onComplete });
        const { dropped: _dropped, flags: _flags, ...body } = renderMessage(done, encoding);
        return body;
      },
    });
  }

  // ---- buttons and selects ---------------------------------------------------------------------------

  function resolveAction(interaction: Component): { actionId: string; value: string; ctx: MessageContext } | null {
    const id = decodeCustomId(interaction.customId);
    if (!id) return null;
    const selected = interaction.isStringSelectMenu() ? interaction.values[0] : undefined;
    const fromRef = (value: string | undefined) =>
      value?.startsWith(REF_OPTION_PREFIX) ? refs.get(value.slice(REF_OPTION_PREFIX.length))?.value : value;
    switch (id.kind) {
      case 'button':
        return { actionId: id.actionId, value: id.value, ctx: id.ctx };
      case 'select': {
        const value = fromRef(selected);
        return value === undefined ? null : { actionId: id.actionId, value, ctx: id.ctx };
      }
      case 'ref': {
        const stored = refs.get(id.key);
        if (!stored) return null;
        const value = stored.value === '' ? fromRef(selected) : stored.value;
        return value === undefined ? null : { ...stored, value };
      }
      default:
        return null;
    }
  }

  async function onComponent(interaction: Component): Promise<void> {
    const id = decodeCustomId(interaction.customId);
    if (id?.kind === 'form') return onFormStep(interaction, id.draft, id.step);
    const action = resolveAction(interaction);
    if (!action) {
      log.info({ event: 'discord.component_unknown' }, 'component with an unknown or expired custom id');
      await interaction.reply({ content: expiredText, flags: ephemeral });
      return;
    }
    // A press on a live session's message (Stop, or anything else) ends the session first.
    await live.stopFor({
      userId: interaction.user.id,
      messageId: interaction.message.id,
      interactionId: interaction.message.interactionMetadata?.id,
    });
    const work = (async () => {
      const facts = await factsFor(interaction, action.ctx);
      const actor = actorFrom(facts);
      // Turning nudges on for the first time needs a timezone Discord cannot give us.
      if (
        action.actionId === 'settings.nudges' &&
        decodeActionValue(action.value, new Date())?.on === true &&
        !(await storedPreferences(actor))
      ) {
        return { facts, actor, result: askTimezoneReply() };
      }
      return {
        facts,
        actor,
        result: await ask(actor, { kind: 'action', actionId: action.actionId, value: action.value }),
      };
    })();
    const { value, deferred } = await within(work, () => interaction.deferUpdate());
    await deliver(interaction, value.result, { deferred, actor: value.actor, facts: value.facts });
  }

  // ---- autocomplete ----------------------------------------------------------------------------------

  async function onAutocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const parsed = parseCommandOptions(specs, interaction.options.data);
    if (!parsed.ok || !parsed.focused) {
      await interaction.respond([]);
      return;
    }
    const spec = parsed.spec.options.find((o) => o.name === parsed.focused);
    const typed = String(parsed.values[parsed.focused] ?? '');
    if (spec?.type === 'timezone') {
      await interaction.respond(timezoneSuggestions(typed));
      return;
    }
    if (spec?.type === 'string' && spec.suggest === 'routine') {
      const lower = typed.toLowerCase();
      const routines = [{ id: 'list', title: 'list all routines' }, ...(options.routineChoices?.() ?? [])];
      await interaction.respond(
        routines
          .filter((r) => r.id.includes(lower) || r.title.toLowerCase().includes(lower))
          .slice(0, 25)
          .map((r) => ({
            name: r.id === 'list' ? 'list: every routine' : `${r.title} (${r.id})`.slice(0, 100),
            value: r.id,
          })),
      );
      return;
    }
    await interaction.respond([]);
  }

  // ---- messages typed in a DM ------------------------------------------------------------------------

  /**
   * A message typed to Backcare in a DM is a command, with or without `/backcare`; empty or unknown gets help.
   * Forms and live sessions need an interaction on Discord, so those answers point to the slash command.
   */
  async function onDirectMessage(message: Message): Promise<void> {
    // Bots (Backcare included), server messages and system messages (pins, calls) are not someone asking.
    if (message.author.bot || message.system || message.guildId !== null || message.type !== MessageType.Default)
      return;
    // A gateway resume can replay an event: each message is answered once, across replicas too.
    const first = await db
      .insert(processedEvents)
      .values({ key: `discord:message:${message.id}` })
      .onConflictDoNothing()
      .returning({ key: processedEvents.key });
    if (first.length === 0) return;
    const facts: ActorFacts = {
      userId: message.author.id,
      displayName: message.author.globalName ?? message.author.username,
      guildId: await homeGuild(message.author.id),
      manageGuild: false,
      isLead: false,
    };
    const actor = actorFrom(facts);
    const typed = dmCommandText(message.content);
    log.info({ event: 'discord.dm_command' }, 'direct message taken as a command');
    let result = await withPauseNote(actor, await ask(actor, { kind: 'command', text: typed }));
    if (result.form) {
      const hint = `${result.form.title} opens as a form, which Discord only opens from a slash command: use \`/backcare ${typed}\` instead.`;
      result = makeReply(hint, [text(hint)]);
    } else if (result.sequence) {
      // The steps as text; a live, timed session needs the slash command.
      const { sequence, ...rest } = result;
      result = {
        ...rest,
        blocks: [
          ...rest.blocks,
          ...sequence.staticBlocks,
          context(`For a live, timed session use \`/backcare ${typed}\`.`),
        ],
        actions: [],
      };
    }
    const encoding = { ctx: facts.guildId && /^\d+$/.test(facts.guildId) ? { guildId: facts.guildId } : {}, refs };
    const { files, dropped: _dropped, flags: _flags, ...body } = renderMessage(result, encoding);
    const attachments = await Promise.all(
      (files ?? []).map(async (f) => ({ name: f.name, data: await readFile(f.attachment) })),
    );
    await client.rest.post(Routes.channelMessages(message.channelId), {
      body,
      ...(attachments.length > 0 ? { files: attachments } : {}),
    });
  }

  // ---- guilds ----------------------------------------------------------------------------------------

  /** Removed from a server: no more nudges for its people; their data stays until they or an admin delete it. */
  async function onGuildDelete(guildId: string): Promise<void> {
    const workspace = await findWorkspace(db, { platform: 'discord', externalId: guildId });
    if (!workspace) return;
    const paused = await db.transaction(async (tx) => {
      await tx.update(workspaces).set({ active: false }).where(eq(workspaces.id, workspace.id));
      const members = tx.select({ id: users.id }).from(users).where(eq(users.workspaceId, workspace.id));
      return tx
        .update(preferences)
        .set({ nextDueAt: null, pausedReason: GUILD_REMOVED_REASON })
        .where(and(inArray(preferences.userId, members), eq(preferences.optedIn, true)))
        .returning({ userId: preferences.userId });
    });
    log.info(
      { event: 'discord.guild_removed', guildId, paused: paused.length },
      'removed from a server: nudges stopped',
    );
  }

  async function onGuildCreate(guildId: string): Promise<void> {
    // Back in a server: the workspace is active again; paused people resume themselves (`/backcare settings mode:on`).
    const updated = await db
      .update(workspaces)
      .set({ active: true })
      .where(and(eq(workspaces.platform, 'discord'), eq(workspaces.externalId, guildId), eq(workspaces.active, false)))
      .returning({ id: workspaces.id });
    if (updated.length > 0) log.info({ event: 'discord.guild_rejoined', guildId }, 'added back to a server');
  }

  // ---- the event loop --------------------------------------------------------------------------------

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
      log.error({ event: 'discord.interaction_failed', err: error }, 'interaction failed');
      if (interaction.isRepliable()) {
        const body = {
          content: 'Sorry, something went wrong on my side. It has been logged; please try again.',
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

  async function idle(): Promise<void> {
    while (inFlight.size > 0 || live.active > 0) {
      await Promise.all([...inFlight]);
      await live.idle();
    }
  }

  return {
    name: 'discord',
    client,
    sender,
    live,
    teamResolver: createDiscordTeamResolver({ rest: client.rest, db, log }),
    channelMessenger: createDiscordChannelMessenger({ rest: client.rest, refs, log }),
    specs,
    attach,
    idle,
    isConnected: () => client.isReady(),
    async start() {
      attach();
      await client.login(options.token);
    },
    async stop() {
      live.stopAll();
      await Promise.race([Promise.all([...inFlight]), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      await client.destroy();
    },
  };
}
