import { App, SocketModeReceiver, type Logger as BoltLogger, LogLevel, type Receiver } from '@slack/bolt';
import { InstallProvider, type InstallationStore } from '@slack/oauth';
import type { WebClient, WebClientOptions } from '@slack/web-api';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { Adapter } from '../../src/core/adapter.js';
import type { Reply } from '../../src/core/reply.js';
import type { Actor, CoreInput } from '../../src/core/request.js';
import { expiredButtonReply, type Core } from '../../src/core/router.js';
import type { Sender } from '../../src/core/sender.js';
import { processedEvents } from '../../src/db/schema.js';
import { buildHomeView } from './home.js';
import {
  botTokenFor,
  createInstallationStore,
  reactivateWorkspace,
  resumeWorkspace,
  uninstallWorkspace,
} from './installation-store.js';
import { createSlackLiveSessions, type SlackLiveSessions } from './live.js';
import {
  actionInput,
  appHomeOpenedSchema,
  blockActionsSchema,
  blockSuggestionSchema,
  commandInput,
  dmCommandText,
  eventCallbackSchema,
  formValues,
  imMessageSchema,
  MAX_DM_COMMAND,
  parseModalMetadata,
  slashCommandSchema,
  tokensRevokedSchema,
  viewSubmissionSchema,
  type BlockActions,
} from './parse.js';
import { BackcareHttpReceiver } from './receiver.js';
import {
  localFiles,
  modalErrors,
  renderBlocks,
  renderMessage,
  renderModal,
  resultModal,
  timezoneOptions,
  type SlackMessage,
} from './render.js';
import { createSlackSender } from './sender.js';
import { createSlackTeamResolver } from './team-resolver.js';
import { createSlackChannelMessenger } from './channel-messenger.js';
import type { ChannelMessenger } from '../../src/core/channel-messenger.js';
import type { TeamResolver } from '../../src/core/stats/team.js';
import { classifySlackError, createClientPool, defaultClientOptions, type TokenLookup } from './slack-api.js';

/** The bot scopes Backcare asks for, each for one reason (see docs/notes/issue-7.md and manifest.yaml). */
export const botScopes = [
  'commands',
  'chat:write',
  'im:write',
  'im:history',
  'channels:history',
  'groups:history',
  'channels:read',
  'groups:read',
  'users:read',
  'dnd:read',
  'users.profile:read',
  'files:write',
] as const;

export interface SlackAdapterOptions {
  core: Core;
  log: Logger;
  signingSecret: string;
  /** Status emoji that mean "in a meeting or call" (SLACK_BUSY_STATUS_EMOJI); default the sender's list. */
  busyStatusEmoji?: readonly string[] | undefined;
  /** One workspace: the bot token from installing the app. */
  botToken?: string | undefined;
  /** Many workspaces: Bolt's OAuth flow with the installation store in Postgres. */
  oauth?: { clientId: string; clientSecret: string; stateSecret: string } | undefined;
  /** Socket Mode (no public URL) when set; otherwise the HTTP receiver on `port`. */
  appToken?: string | undefined;
  port: number;
  host?: string;
  timeScale?: number;
  /** chat.update calls per minute per workspace the live sessions may spend (tier 3 is about 50). */
  liveUpdatesPerMinute?: number;
  clientOptions?: WebClientOptions;
  healthy?: () => Promise<boolean>;
  /** Deadline for the core to answer a modal submission inside Slack's 3 s. */
  submitDeadlineMs?: number;
}

export interface SlackAdapter extends Adapter {
  readonly name: 'slack';
  /** The HTTP port actually bound (0 before start and in Socket Mode). */
  readonly port: number;
  readonly sender: Sender;
  readonly live: SlackLiveSessions;
  readonly installationStore: InstallationStore | null;
  /** What `/backcare stats #channel` means on Slack; the app registers it with the core. */
  readonly teamResolver: TeamResolver;
  /** `/backcare invite #channel [dm]` on Slack; the app registers it with the core. */
  readonly channelMessenger: ChannelMessenger;
  /** Resolves when all work started by past requests has finished (tests, graceful stop). */
  idle(): Promise<void>;
}

const usersInfoSchema = z.looseObject({
  user: z.looseObject({
    name: z.string().optional(),
    real_name: z.string().optional(),
    tz: z.string().optional(),
    is_admin: z.boolean().optional(),
    is_owner: z.boolean().optional(),
    is_primary_owner: z.boolean().optional(),
    profile: z.looseObject({ display_name: z.string().optional() }).optional(),
  }),
});

const PROFILE_TTL_MS = 10 * 60 * 1000;

interface Profile {
  displayName?: string;
  timezone?: string;
  isAdmin: boolean;
  at: number;
}

/** Where a reply goes back to: the surface the person acted on. */
interface ReplyTarget {
  actor: Actor;
  client: WebClient;
  triggerId?: string | undefined;
  respond?: ((message: Record<string, unknown>) => Promise<unknown>) | undefined;
  /** The channel the command or button was in (a DM or a channel). */
  channelId?: string | undefined;
  source: 'command' | 'message' | 'home' | 'modal';
  viewId?: string | undefined;
  /** The message carrying the pressed button. */
  messageTs?: string | undefined;
}

function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  const text = (msg: unknown[]) =>
    msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  let level = LogLevel.INFO;
  return {
    debug: (...msg: unknown[]) => child.debug(text(msg)),
    info: (...msg: unknown[]) => child.info(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

/**
 * The Slack adapter: Bolt with either our verified HTTP receiver or Socket Mode, one workspace (bot token)
 * or many (OAuth). Every handler acknowledges first and works after; replies are rendered as Block Kit,
 * forms as modals, sequences as live DM messages.
 */
export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const { core, log } = options;
  const db = core.deps.db;
  const clientOptions = { ...defaultClientOptions, ...options.clientOptions };
  const clientFor = createClientPool(clientOptions);
  const installationStore = options.oauth
    ? createInstallationStore(db, log, {
        onInstalled: async (teamId) =>
          void (await resumeWorkspace(db, teamId, core.deps.now(), core.deps.nextSlot, log)),
      })
    : null;
  const tokens: TokenLookup = async (teamId) => {
    if (installationStore) return (await botTokenFor(installationStore, teamId))?.botToken ?? null;
    return options.botToken ?? null;
  };
  const sender = createSlackSender({
    tokens,
    client: clientFor,
    log,
    now: core.deps.now,
    ...(options.busyStatusEmoji ? { busyStatusEmoji: options.busyStatusEmoji } : {}),
  });
  const teamResolver = createSlackTeamResolver({ tokens, client: clientFor, log });
  const channelMessenger = createSlackChannelMessenger({
    tokens,
    client: clientFor,
    teamResolver,
    log,
    sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms * (options.timeScale ?? 1))),
  });
  const live = createSlackLiveSessions({
    log,
    ...(options.liveUpdatesPerMinute !== undefined ? { updatesPerMinute: options.liveUpdatesPerMinute } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
  });
  const healthy = options.healthy ?? (async () => true);

  const pending = new Set<Promise<unknown>>();
  const watch = (promise: Promise<unknown>) => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  };
  /** Work after the ack: logged if it fails, awaited by `idle()` and `stop()`. */
  const track = (work: () => Promise<unknown>) =>
    watch(
      work().catch((error: unknown) =>
        log.error({ event: 'slack.work_failed', err: error }, 'Slack background work failed'),
      ),
    );

  const profiles = new Map<string, Profile>();
  const dmChannels = new Map<string, string>();

  /** Who is asking: Slack ids from the payload, timezone and admin rights from users.info (cached). */
  async function resolveActor(
    client: WebClient,
    teamId: string,
    userId: string,
    fallbackName?: string,
    workspaceName?: string,
  ): Promise<Actor> {
    const key = `${teamId}:${userId}`;
    let profile = profiles.get(key);
    if (!profile || core.deps.now().getTime() - profile.at > PROFILE_TTL_MS) {
      try {
        const { user } = usersInfoSchema.parse(await client.users.info({ user: userId }));
        const displayName = user.profile?.display_name || user.real_name || user.name;
        profile = {
          ...(displayName ? { displayName } : {}),
          ...(user.tz ? { timezone: user.tz } : {}),
          isAdmin: Boolean(user.is_admin || user.is_owner || user.is_primary_owner),
          at: core.deps.now().getTime(),
        };
        // A crude bound on memory for very large workspaces: start over rather than grow for ever.
        if (profiles.size > 50_000) profiles.clear();
        profiles.set(key, profile);
      } catch (error) {
        // Without the profile the person still gets answers, just without admin rights or a timezone default.
        log.warn({ event: 'slack.users_info_failed', failure: classifySlackError(error) }, 'users.info failed');
        profile = { isAdmin: false, at: 0 };
      }
    }
    const displayName = profile.displayName ?? fallbackName;
    return {
      platform: 'slack',
      workspaceExternalId: teamId,
      ...(workspaceName ? { workspaceName: workspaceName.slice(0, 200) } : {}),
      userExternalId: userId,
      ...(displayName ? { displayName: displayName.slice(0, 200) } : {}),
      ...(profile.timezone ? { timezone: profile.timezone } : {}),
      isAdmin: profile.isAdmin,
      // Slack admins and owners are team leads; people an admin granted are looked up by the core.
      isLead: profile.isAdmin,
    };
  }

  async function dmChannel(client: WebClient, actor: Actor): Promise<string> {
    const key = `${actor.workspaceExternalId}:${actor.userExternalId}`;
    const cached = dmChannels.get(key);
    if (cached) return cached;
    const opened = await client.conversations.open({ users: actor.userExternalId });
    const channel = opened.channel?.id;
    if (!channel) throw new Error('conversations.open returned no channel');
    if (dmChannels.size > 50_000) dmChannels.clear();
    dmChannels.set(key, channel);
    return channel;
  }

  async function publishHome(client: WebClient, actor: Actor, notice?: Reply): Promise<void> {
    const view = await buildHomeView(core, actor);
    if (notice)
      view.blocks = [...renderBlocks(notice.blocks, notice.actions, 20), { type: 'divider' }, ...view.blocks].slice(
        0,
        100,
      );
    await client.views.publish({ user_id: actor.userExternalId, view });
  }

  async function uploadFiles(client: WebClient, channel: string, reply: Reply): Promise<void> {
    for (const file of localFiles(reply)) {
      await client.files.uploadV2({
        channel_id: channel,
        file: file.path,
        filename: file.filename,
        initial_comment: file.alt,
      });
    }
  }

  async function postToDm(target: ReplyTarget, message: SlackMessage, reply: Reply): Promise<void> {
    const channel = await dmChannel(target.client, target.actor);
    await target.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false });
    await uploadFiles(target.client, channel, reply);
  }

  async function runLive(target: ReplyTarget, reply: Reply): Promise<void> {
    const sequence = reply.sequence!;
    // "Another round" pressed on a live message in the DM plays on that same message.
    const existing =
      reply.replaceOriginal && target.source === 'message' && target.channelId?.startsWith('D') && target.messageTs
        ? { channel: target.channelId, ts: target.messageTs }
        : undefined;
    const channel = existing?.channel ?? (await dmChannel(target.client, target.actor));
    if (target.respond && target.channelId !== channel) {
      await target.respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'Your session is running in your direct messages with Backcare.',
      });
    }
    const client = target.client;
    await live.start({
      workspace: target.actor.workspaceExternalId,
      user: target.actor.userExternalId,
      existing,
      // The intro (with every caution) stays above the frames, and above the written-out steps when updates run short.
      sequence: {
        ...sequence,
        frames: sequence.frames.map((f) => ({ ...f, blocks: [...reply.blocks, ...f.blocks] })),
        staticBlocks: [...reply.blocks, ...sequence.staticBlocks],
      },
      api: {
        async post(message) {
          const posted = await client.chat.postMessage({
            channel,
            text: message.text,
            blocks: message.blocks,
            unfurl_links: false,
          });
          return { channel: posted.channel ?? channel, ts: posted.ts ?? '' };
        },
        async update(ch, ts, message) {
          await client.chat.update({ channel: ch, ts, text: message.text, blocks: message.blocks });
        },
      },
      async finish() {
        if (!sequence.onComplete)
          return { text: reply.summary.slice(0, 2000), blocks: renderBlocks(sequence.staticBlocks, []) };
        const done = await handle(target.actor, { kind: 'action', ...sequence.onComplete });
        return renderMessage(done);
      },
    });
  }

  /** Shows a core reply on the surface the person used. */
  async function deliver(target: ReplyTarget, reply: Reply): Promise<void> {
    const { client, actor } = target;
    if (reply.form) {
      if (!target.triggerId) return postToDm(target, renderMessage(reply), reply);
      const view = renderModal(reply.form, {
        profileTimezone: actor.timezone,
        privateMetadata: JSON.stringify({
          ...(reply.form.state ? { state: reply.form.state } : {}),
          ...(target.channelId ? { channelId: target.channelId } : {}),
        }),
      });
      try {
        await client.views.open({ trigger_id: target.triggerId, view });
      } catch (error) {
        log.warn({ event: 'slack.views_open_failed', failure: classifySlackError(error) }, 'could not open the modal');
        const message = 'That took too long to open. Please try again.';
        if (target.respond)
          await target.respond({ response_type: 'ephemeral', replace_original: false, text: message });
      }
      return;
    }
    if (reply.sequence) return runLive(target, reply);

    const message = renderMessage(reply);
    if (target.source === 'home') return publishHome(client, actor, reply);
    if (target.source === 'modal' && target.viewId) {
      await client.views.update({ view_id: target.viewId, view: resultModal('Backcare', reply) });
      return;
    }
    if (reply.visibility === 'dm' || (reply.visibility === 'ephemeral' && localFiles(reply).length > 0))
      return postToDm(target, message, reply);
    if (target.respond) {
      if (target.source === 'message' && reply.replaceOriginal) {
        await target.respond({ replace_original: true, text: message.text, blocks: message.blocks });
      } else {
        await target.respond({
          response_type: reply.visibility === 'public' ? 'in_channel' : 'ephemeral',
          replace_original: false,
          text: message.text,
          blocks: message.blocks,
        });
      }
      return;
    }
    await postToDm(target, message, reply);
  }

  /** The core promises never to throw; if a bug makes it, the person still gets an answer. */
  async function handle(actor: Actor, input: CoreInput): Promise<Reply> {
    try {
      return await core.handle({ actor, input });
    } catch (error) {
      log.error({ event: 'slack.core_threw', kind: input.kind, err: error }, 'the core threw instead of answering');
      const message = 'Sorry, something went wrong on my side. It has been logged; please try again.';
      return { summary: message, blocks: [{ type: 'text', text: message }], actions: [], visibility: 'ephemeral' };
    }
  }

  /* ---------------------------------------------------------------- Bolt wiring */

  let receiver: Receiver;
  let httpReceiver: BackcareHttpReceiver | null = null;
  const installUrlOptions = { scopes: [...botScopes] };
  if (options.appToken) {
    // Socket Mode is for one workspace without a public URL (Slack does not list Socket Mode apps for
    // distribution); the OAuth install flow needs public HTTPS anyway, so it goes with the HTTP receiver.
    if (options.oauth)
      throw new Error(
        'Socket Mode (SLACK_APP_TOKEN) serves one workspace: unset SLACK_APP_TOKEN to use OAuth (SLACK_CLIENT_ID…) over HTTP',
      );
    if (!options.botToken) throw new Error('Socket Mode (SLACK_APP_TOKEN) needs SLACK_BOT_TOKEN');
    // /healthz in Socket Mode is served by the ops server on PORT (src/ops/runtime.ts), so no HTTP server here.
    receiver = new SocketModeReceiver({ appToken: options.appToken, logger: boltLogger(log) });
  } else {
    httpReceiver = new BackcareHttpReceiver({
      signingSecret: options.signingSecret,
      port: options.port,
      ...(options.host ? { host: options.host } : {}),
      log,
      healthy,
      onWork: watch,
      // Kept in the database (all replicas, across restarts); the retention job removes keys after a week.
      firstSeen: async (key) =>
        (await db.insert(processedEvents).values({ key }).onConflictDoNothing().returning({ key: processedEvents.key }))
          .length > 0,
      ...(options.oauth && installationStore
        ? {
            installer: {
              provider: new InstallProvider({
                ...options.oauth,
                installationStore,
                logger: boltLogger(log),
                clientOptions,
              }),
              urlOptions: installUrlOptions,
            },
          }
        : {}),
    });
    receiver = httpReceiver;
  }

  const app = new App({
    receiver,
    logger: boltLogger(log),
    clientOptions,
    authorize: async ({ teamId, enterpriseId }) => {
      if (installationStore) {
        const found = teamId ? await botTokenFor(installationStore, teamId, enterpriseId) : null;
        if (!found) throw new Error('Backcare is not installed in this workspace');
        return found;
      }
      if (!options.botToken) throw new Error('no bot token configured');
      return { botToken: options.botToken };
    },
  });

  app.error(async (error) => {
    log.error({ event: 'slack.bolt_error', err: error }, 'Bolt reported an error');
  });

  // Events API retries a delivery (X-Slack-Retry-Num) when we were slow; Bolt does not de-duplicate, the table does.
  app.use(async ({ body, next }) => {
    const envelope = eventCallbackSchema.safeParse(body);
    if (envelope.success) {
      const inserted = await db
        .insert(processedEvents)
        .values({ key: `slack:event:${envelope.data.event_id}` })
        .onConflictDoNothing()
        .returning({ key: processedEvents.key });
      if (inserted.length === 0) {
        log.info({ event: 'slack.event_duplicate', eventId: envelope.data.event_id }, 'Slack event already handled');
        return;
      }
    }
    await next();
  });

  app.command(/.*/, async ({ ack, body, client, respond }) => {
    await ack();
    track(async () => {
      const parsed = slashCommandSchema.safeParse(body);
      if (!parsed.success) {
        log.warn(
          { event: 'slack.command_invalid', issues: parsed.error.issues.map((i) => i.path.join('.')) },
          'unexpected slash command payload',
        );
        await respond({ response_type: 'ephemeral', text: "Sorry, I couldn't understand that request." });
        return;
      }
      const command = parsed.data;
      const actor = await resolveActor(
        client,
        command.team_id,
        command.user_id,
        command.user_name,
        command.team_domain,
      );
      const reply = await handle(actor, commandInput(command));
      await deliver(
        { actor, client, triggerId: command.trigger_id, respond, channelId: command.channel_id, source: 'command' },
        reply,
      );
    });
  });

  app.action(/.*/, async ({ ack, body, client, respond }) => {
    await ack();
    track(async () => {
      const parsed = blockActionsSchema.safeParse(body);
      if (!parsed.success) {
        log.warn(
          { event: 'slack.action_invalid', issues: parsed.error.issues.map((i) => i.path.join('.')) },
          'unexpected block_actions payload',
        );
        return;
      }
      const payload: BlockActions = parsed.data;
      const teamId = payload.team?.id ?? payload.user.team_id;
      if (!teamId) return;
      const actor = await resolveActor(
        client,
        teamId,
        payload.user.id,
        payload.user.username ?? payload.user.name,
        payload.team?.domain,
      );
      const container = payload.container;
      const source: ReplyTarget['source'] =
        container?.type === 'view' ? (payload.view?.type === 'home' ? 'home' : 'modal') : 'message';
      // Any button on a live session's message (Stop above all) ends its playback before the core answers.
      if (container?.channel_id && container.message_ts) live.stopByMessage(container.channel_id, container.message_ts);
      for (const action of payload.actions) {
        const input = actionInput(action);
        const reply = input ? await handle(actor, input) : expiredButtonReply();
        if (!input)
          log.warn(
            { event: 'slack.action_forged', actionId: action.action_id },
            'action value rejected before the core',
          );
        await deliver(
          {
            actor,
            client,
            triggerId: payload.trigger_id,
            respond: payload.response_url ? respond : undefined,
            channelId: container?.channel_id ?? payload.channel?.id,
            source,
            viewId: payload.view?.id,
            messageTs: container?.message_ts,
          },
          reply,
        );
      }
    });
  });

  // The only external select we render is the timezone search in forms.
  app.options(/.*/, async ({ ack, body }) => {
    const parsed = blockSuggestionSchema.safeParse(body);
    await ack({ options: parsed.success ? timezoneOptions(parsed.data.value) : [] });
  });

  app.view(/.*/, async ({ ack, body, client }) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      log.warn(
        { event: 'slack.view_invalid', issues: parsed.error.issues.map((i) => i.path.join('.')) },
        'unexpected view_submission payload',
      );
      await ack();
      return;
    }
    const submission = parsed.data;
    const teamId = submission.team?.id ?? submission.user.team_id;
    if (!teamId) {
      await ack();
      return;
    }
    const metadata = parseModalMetadata(submission.view.private_metadata);
    const values = formValues(submission.view.state.values);
    // Field errors can only go back in the ack, so looking up the person and the core's answer get most of
    // Slack's 3 s; a slower answer closes the modal and goes to the DM instead.
    const handled = (async () => {
      const actor = await resolveActor(
        client,
        teamId,
        submission.user.id,
        submission.user.username ?? submission.user.name,
        submission.team?.domain,
      );
      const reply = await handle(actor, {
        kind: 'submit',
        formId: submission.view.callback_id,
        values,
        ...(metadata.state ? { state: metadata.state } : {}),
      });
      return { actor, reply };
    })();
    const timeout = Symbol('timeout');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      handled,
      new Promise<typeof timeout>((resolve) => {
        timer = setTimeout(() => resolve(timeout), options.submitDeadlineMs ?? 2000);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === timeout) {
      await ack();
      track(async () => {
        const late = await handled;
        await postToDm(
          { actor: late.actor, client, channelId: metadata.channelId, source: 'modal' },
          renderMessage(late.reply),
          late.reply,
        );
      });
      return;
    }
    const { actor, reply: result } = outcome;
    if (result.formErrors && Object.keys(result.formErrors).length > 0) {
      const form = result.form ?? {
        formId: submission.view.callback_id,
        title: '',
        submitLabel: '',
        fields: Object.keys(values).map((id) => ({ id, label: id, kind: 'text' as const })),
      };
      await ack({ response_action: 'errors', errors: modalErrors(form, result.formErrors) });
      return;
    }
    if (result.form) {
      // The next form carries its own state (e.g. triage step 2 carries the screen answers), not the submitted one's.
      const next = JSON.stringify({
        ...(result.form.state ? { state: result.form.state } : {}),
        ...(metadata.channelId ? { channelId: metadata.channelId } : {}),
      });
      await ack({
        response_action: 'update',
        view: renderModal(result.form, { profileTimezone: actor.timezone, privateMetadata: next }),
      });
      return;
    }
    await ack({ response_action: 'update', view: resultModal('Backcare', result) });
    // Settings may have changed: keep the Home tab in step.
    track(() => publishHome(client, actor));
  });

  app.event('app_home_opened', async ({ event, body, client }) => {
    const parsed = appHomeOpenedSchema.safeParse(event);
    const envelope = eventCallbackSchema.safeParse(body);
    if (!parsed.success || !envelope.success || (parsed.data.tab !== undefined && parsed.data.tab !== 'home')) return;
    const teamId = envelope.data.team_id;
    track(async () => publishHome(client, await resolveActor(client, teamId, parsed.data.user)));
  });

  // A message typed in Backcare's Messages tab is a command, with or without `/backcare`. Re-deliveries are
  // dropped by the processed-events check above; edits, deletions and bots' messages (ours too) are ignored.
  app.event('message', async ({ event, body, client }) => {
    const parsed = imMessageSchema.safeParse(event);
    const envelope = eventCallbackSchema.safeParse(body);
    if (!parsed.success || !envelope.success) return;
    const message = parsed.data;
    if (message.subtype !== undefined || message.bot_id !== undefined || message.app_id !== undefined || !message.user)
      return;
    const teamId = envelope.data.team_id;
    const userId = message.user;
    track(async () => {
      const actor = await resolveActor(client, teamId, userId);
      // The event names the DM: no conversations.open is needed to answer in it.
      dmChannels.set(`${teamId}:${userId}`, message.channel);
      const target: ReplyTarget = { actor, client, channelId: message.channel, source: 'command' };
      const say = (line: string) => {
        const answer: Reply = { summary: line, blocks: [{ type: 'text', text: line }], actions: [], visibility: 'dm' };
        return postToDm(target, renderMessage(answer), answer);
      };
      if (message.text.length > MAX_DM_COMMAND)
        return say('That message is too long to be a Backcare command. Send `help` to see what I can do.');
      const text = dmCommandText(message.text);
      log.info({ event: 'slack.dm_command' }, 'direct message taken as a command');
      const reply = await handle(actor, { kind: 'command', text });
      // Slack opens a modal only from a slash command or a button, never from a typed message.
      if (reply.form)
        return say(
          `${reply.form.title} opens as a form, which Slack only opens from a slash command: send \`/backcare ${text}\` instead.`,
        );
      await deliver(target, reply);
    });
  });

  app.event('app_uninstalled', async ({ body }) => {
    const envelope = eventCallbackSchema.safeParse(body);
    if (!envelope.success) return;
    track(() => uninstallWorkspace(db, envelope.data.team_id, log));
  });

  app.event('tokens_revoked', async ({ event, body }) => {
    const parsed = tokensRevokedSchema.safeParse(event);
    const envelope = eventCallbackSchema.safeParse(body);
    if (!parsed.success || !envelope.success || (parsed.data.tokens.bot ?? []).length === 0) return;
    track(() => uninstallWorkspace(db, envelope.data.team_id, log));
  });

  async function idle(): Promise<void> {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  }

  return {
    name: 'slack',
    get port() {
      return httpReceiver?.port ?? 0;
    },
    sender,
    live,
    installationStore,
    teamResolver,
    channelMessenger,
    idle,
    async start() {
      await app.start();
      if (options.botToken && !options.oauth) {
        // Which workspace the token belongs to; if it was uninstalled before, it is back now.
        try {
          const auth = z
            .looseObject({ team_id: z.string().optional() })
            .parse(await clientFor(options.botToken).auth.test());
          if (auth.team_id) await reactivateWorkspace(db, auth.team_id, core.deps.now(), core.deps.nextSlot, log);
        } catch (error) {
          log.warn(
            { event: 'slack.auth_test_failed', failure: classifySlackError(error) },
            'auth.test failed at start; the token may be invalid',
          );
        }
      }
      log.info(
        {
          event: 'slack.started',
          mode: options.appToken ? 'socket' : 'http',
          workspaces: options.oauth ? 'oauth' : 'single',
        },
        `Slack adapter started (${options.appToken ? 'Socket Mode' : `HTTP on port ${httpReceiver?.port}`})`,
      );
    },
    async stop() {
      await app.stop();
      await live.stopAll();
      await idle();
    },
  };
}
