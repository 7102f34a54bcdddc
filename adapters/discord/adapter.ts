import { Client, GatewayIntentBits, Options, Partials, type RESTOptions } from 'discord.js';
import type { Logger } from '../../src/config/logger.js';
import {
  createActionRefStore,
  createFormDraftStore,
  createLeadRoles,
  createWorkspaceLifecycle,
  knownPeople,
  type Adapter,
  type ChannelMessenger,
  type Core,
  type LiveSessionStore,
  type TeamResolver,
  createWorkQueue,
  type WorkQueue,
} from '../../src/core/ports.js';
import { createAnswering } from './answering.js';
import { createDiscordChannelMessenger } from './channel-messenger.js';
import { subcommandSpecs, type SubcommandSpec } from './commands.js';
import { createComponents } from './components.js';
import type { DiscordContext } from './context.js';
import { ActionRefs } from './custom-id.js';
import { createDeliver } from './deliver.js';
import { createDirectMessages } from './dm.js';
import { createFormFlow } from './form-flow.js';
import { createFormInput } from './form-input.js';
import { FormDrafts } from './forms.js';
import { createGateway } from './gateway.js';
import { createLeadRoleCommand } from './lead-role.js';
import { createDiscordLiveSessions, type DiscordLiveSessions, type LiveOptions } from './live.js';
import { createLiveReply } from './live-reply.js';
import { createDiscordSender, type DiscordSender } from './sender.js';
import { createSlash } from './slash.js';
import { createDiscordTeamResolver } from './team-resolver.js';
import { createWho } from './who.js';

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
  /** The process's work queue (src/app.ts shares one between the adapters); by default one of 16 slots. */
  work?: WorkQueue;
  live?: Partial<Omit<LiveOptions, 'rest' | 'log' | 'shared'>> & { sweepMs?: number };
  /**
   * Live sessions kept in the database: shared with the other replicas (a Stop on any of them, take-over when
   * one goes away) and handed over at shutdown. Without it they live in this process only.
   */
  liveStore?: LiveSessionStore | undefined;
  /** The gateway shards this process connects (SHARD_COUNT, SHARD_IDS); unset: one shard for every server. */
  shards?: { count: number; ids?: readonly number[] | undefined };
}

export interface DiscordAdapter extends Adapter {
  readonly client: Client;
  readonly sender: DiscordSender;
  readonly live: DiscordLiveSessions;
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

/** The gateway client: no privileged intent, and caches bounded so large servers do not grow memory. */
function createClient(options: DiscordAdapterOptions): Client {
  const client = new Client({
    // Guilds: joins and leaves; GuildVoiceStates (not privileged): who is in a call, so no nudge then;
    // DirectMessages: messages typed to Backcare in a DM (a DM's text needs no MessageContent intent).
    // Interactions need no intent; nothing privileged.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildVoiceStates, GatewayIntentBits.DirectMessages],
    // DM channels are not cached before their first message arrives; without this partial discord.js drops it.
    partials: [Partials.Channel],
    // Each replica connects its own shards; Discord routes a server's events (and DMs: shard 0) to one shard.
    // Nudges go out through REST, so any replica delivers to anyone whatever shards it holds.
    ...(options.shards
      ? { shardCount: options.shards.count, shards: [...(options.shards.ids ?? range(options.shards.count))] }
      : {}),
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
  client.rest.setToken(options.token);
  return client;
}

/**
 * Backcare on Discord: one `/backcare` slash command with subcommands, buttons and selects, modals, DMs.
 * Translates interactions into core requests (parse.ts), the core's replies into embeds and components
 * (render.ts), forms into a select/modal wizard (form-flow.ts, form-input.ts) and timed sequences into an edited
 * reply (live-reply.ts); gateway.ts wires the events to those handlers.
 */
export function createDiscordAdapter(options: DiscordAdapterOptions): DiscordAdapter {
  const { core, log } = options;
  const specs = subcommandSpecs(core.commands, core.deps.library);
  // Long button values and form drafts live in the database, so a restart or another replica carries on.
  const refs = new ActionRefs(createActionRefStore(core.deps, { platform: 'discord' }), (error) =>
    log.error({ event: 'discord.action_refs_failed', err: error }, 'button references could not be stored'),
  );
  const drafts = new FormDrafts(createFormDraftStore(core.deps));
  const client = createClient(options);

  const sender = createDiscordSender({
    rest: client.rest,
    log,
    botUserId: options.applicationId,
    refs,
    inVoice: (guildId, userId) => Boolean(client.guilds.cache.get(guildId)?.voiceStates.cache.get(userId)?.channelId),
  });
  const { sweepMs, ...liveOptions } = options.live ?? {};
  const live = createDiscordLiveSessions({
    rest: client.rest,
    log,
    timeScale: options.timeScale ?? 1,
    ...liveOptions,
    shared: options.liveStore && {
      store: options.liveStore,
      handle: (actor, input) => core.handle({ actor, input }),
      refs,
      ...(sweepMs !== undefined ? { sweepMs } : {}),
    },
  });
  let stopSharing: (() => Promise<void>) | null = null;

  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  const ctx: DiscordContext = {
    core,
    log,
    client,
    live,
    refs,
    drafts,
    specs,
    leadRoles: createLeadRoles(core.deps),
    lifecycle: createWorkspaceLifecycle(core.deps),
    deferAfterMs: options.deferAfterMs ?? 2000,
    work: options.work ?? createWorkQueue({ concurrency: 16 }),
    routineChoices: options.routineChoices,
  };
  const who = createWho(ctx);
  const answering = createAnswering(ctx, who);
  const flow = createFormFlow(ctx, who, answering);
  const formInput = createFormInput(ctx, who, flow);
  const deliver = createDeliver(ctx, who, flow, createLiveReply(ctx, who, answering));
  const attach = createGateway(ctx, {
    slash: createSlash(ctx, who, answering, createLeadRoleCommand(ctx), deliver),
    onComponent: createComponents(ctx, who, answering, deliver, formInput.onFormStep),
    formInput,
    onDirectMessage: createDirectMessages(ctx, who, answering),
    track,
  });

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
    teamResolver: createDiscordTeamResolver({
      rest: client.rest,
      knownUsers: (guildId) => knownPeople(core.deps, 'discord', guildId),
      log,
    }),
    channelMessenger: createDiscordChannelMessenger({ rest: client.rest, refs, log, dmChannel: sender.dmChannel }),
    specs,
    attach,
    idle,
    isConnected: () => client.isReady(),
    async start() {
      attach();
      await client.login(options.token);
      // Sessions another replica (or this one before a restart) left behind are taken over from here on: they
      // are edited through REST, whichever shards this replica holds.
      stopSharing = await live.share();
    },
    async stop() {
      await stopSharing?.();
      // With the database holding them, sessions carry on on another replica instead of ending here.
      await live.handOver();
      await Promise.race([Promise.all([...inFlight]), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      await client.destroy();
    },
  };
}

const range = (count: number) => Array.from({ length: count }, (_, id) => id);
