import type { InstallationStore } from '@slack/oauth';
import type { WebClient, WebClientOptions } from '@slack/web-api';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import {
  createInstallationRecords,
  createWorkQueue,
  createWorkspaceLifecycle,
  firstSeen,
  type Adapter,
  type ChannelMessenger,
  type Core,
  type RateBudgets,
  type LiveSessionStore,
  type Sender,
  type TeamResolver,
  type WorkQueue,
  type WorkspaceLifecycle,
} from '../../src/core/ports.js';
import { createBoltApp, createReceiver } from './bolt.js';
import { BURST_MAX_MS } from './burst-gate.js';
import type { BackcareHttpReceiver } from './receiver.js';
import { createSlackChannelMessenger } from './channel-messenger.js';
import type { SlackContext } from './context.js';
import { registerEventDedupe, registerEvents } from './events.js';
import { cacheInstallationRecords } from './installation-cache.js';
import { botTokenFor, createInstallationStore } from './installation-store.js';
import { registerInteractions } from './interactions.js';
import { createSlackLiveSessions, type SharedSessions, type SlackLiveSessions } from './live.js';
import { createSlackPeople } from './people.js';
import { createSlackReplies } from './replies.js';
import { createSlackSender } from './sender.js';
import {
  classifySlackError,
  createClientPool,
  defaultClientOptions,
  waitingOutRateLimits,
  type TokenLookup,
  type WaitOut,
} from './slack-api.js';
import { createSlackTeamResolver } from './team-resolver.js';
import { registerViewSubmission } from './view-submission.js';
import { keepWarmingUp, warmUpAckPath, type BackgroundWarmUp } from './warm-up.js';

export { botScopes } from './scopes.js';

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
  /** Where that count is kept: in this process by default; the app passes one shared in PostgreSQL by every replica. */
  budgets?: RateBudgets | undefined;
  clientOptions?: WebClientOptions;
  healthy?: () => Promise<boolean>;
  /** Deadline for the core to answer a modal submission inside Slack's 3 s. */
  submitDeadlineMs?: number;
  /** Where work after the ack waits for a slot (the app shares one, with metrics); default a queue of 16. */
  work?: WorkQueue;
  /**
   * Live sessions kept in the database: shared with the other replicas (a Stop on any of them, take-over when
   * one goes away) and handed over at shutdown. Without it they live in this process only.
   */
  liveStore?: LiveSessionStore | undefined;
  /**
   * Run the ack path's pure code before listening (see warm-up.ts), so a first burst after a start is not answered
   * by cold code, and more of it between bursts once the app is ready (`started`, HTTP receiver only). The app
   * turns it on; tests leave it off and start faster.
   */
  warmUp?: boolean;
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

/**
 * Work after the ack, queued for a slot, logged if it fails; `idle` waits for all of it (tests, graceful stop),
 * and for the live sessions it started, which play outside the queue.
 */
function workTracker(
  log: Logger,
  queue: WorkQueue,
  sessions: { idle(): Promise<void> },
  acksFirst: () => Promise<void>,
) {
  const pending = new Set<Promise<unknown>>();
  const watch = (promise: Promise<unknown>) => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  };
  // One person's requests are answered in the order they came: two messages typed in a row, or a command and a
  // button right after it, wait for each other (slots and the end of a burst could otherwise reorder them). Not for
  // ever: an answer waiting out a Slack rate limit (up to minutes) does not hold the person's next one.
  const lastOfPerson = new Map<string, Promise<unknown>>();
  const track = (kind: string, work: () => Promise<unknown>, person?: string) => {
    const run = () => queue.run(kind, () => acksFirst().then(work));
    const before = person === undefined ? undefined : lastOfPerson.get(person);
    const done = (before ? atMost(before, PERSON_ORDER_MAX_WAIT_MS).then(run) : run()).catch((error: unknown) =>
      log.error({ event: 'slack.work_failed', err: error }, 'Slack background work failed'),
    );
    if (person !== undefined) {
      lastOfPerson.set(person, done);
      void done.finally(() => {
        if (lastOfPerson.get(person) === done) lastOfPerson.delete(person);
      });
    }
    watch(done);
  };
  const queued = <T>(kind: string, work: () => Promise<T>): Promise<T> => {
    const result = queue.run(kind, () => acksFirst().then(work));
    watch(result.catch(() => undefined));
    return result;
  };
  // Not queued, but after the acks of a burst like queued work (bounded: a modal's trigger lasts 3 s).
  const urgent = (work: () => Promise<unknown>) =>
    watch(
      acksFirst()
        .then(work)
        .catch((error: unknown) => log.error({ event: 'slack.work_failed', err: error }, 'Slack work failed')),
    );
  async function idle(): Promise<void> {
    do {
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await sessions.idle();
    } while (pending.size > 0);
  }
  return { watch, track, queued, urgent, idle };
}

/** How long one person's work waits for their previous work to finish before it goes ahead anyway. */
const PERSON_ORDER_MAX_WAIT_MS = 5000;

/** Resolves when `promise` settles or after `ms`, whichever is first. */
function atMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.then(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Before the first request: its ack must not wait for the installation to be read (a slow database). */
async function warmInstallations(installations: { warm(): Promise<number> }, log: Logger): Promise<void> {
  const warmed = await installations.warm().catch((error: unknown) => {
    log.warn({ event: 'slack.installations_warm_failed', err: error }, 'installations not preloaded');
    return 0;
  });
  log.info({ event: 'slack.installations_warmed', count: warmed }, `${warmed} installations preloaded`);
}

/** What another replica's live session needs here: the workspace's Web API from its token, and the core. */
function sharedLive(
  store: LiveSessionStore,
  core: Core,
  tokens: TokenLookup,
  clientFor: ReturnType<typeof createClientPool>,
): SharedSessions {
  return {
    store,
    async apiFor(workspace) {
      const token = await tokens(workspace);
      if (!token) return null;
      const client = clientFor(token);
      return {
        post: () => Promise.reject(new Error('a session taken over already has its message')),
        async update(channel, ts, message) {
          await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
        },
      };
    },
    handle: (actor, input) => core.handle({ actor, input }),
  };
}

/** Which workspace the bot token belongs to: if it was uninstalled before, it is back now. */
async function tokenWorkspaceBack(
  client: WebClient,
  lifecycle: Pick<WorkspaceLifecycle, 'restored'>,
  log: Logger,
): Promise<void> {
  try {
    const auth = z.looseObject({ team_id: z.string().optional() }).parse(await client.auth.test());
    if (auth.team_id) await lifecycle.restored({ platform: 'slack', externalId: auth.team_id });
  } catch (error) {
    log.warn(
      { event: 'slack.auth_test_failed', failure: classifySlackError(error) },
      'auth.test failed at start; the token may be invalid',
    );
  }
}

/** Only an optimisation: if it fails, the adapter starts all the same. */
function warmUp(core: Core, log: Logger): void {
  try {
    log.info({ event: 'slack.warmed_up', ...warmUpAckPath(core) }, 'ack path warmed up');
  } catch (error) {
    log.warn({ event: 'slack.warm_up_failed', err: error }, 'warming up the ack path failed; starting anyway');
  }
}

/** The rest of the warm-up, between bursts once the app listens (see keepWarmingUp); a failure only ends it. */
function warmUpMore(core: Core, log: Logger, quiet: () => Promise<void>): BackgroundWarmUp {
  const warming = keepWarmingUp(core, { quiet });
  void warming.done.then(
    (rounds) => log.info({ event: 'slack.warmed_up_more', rounds }, 'ack path warm-up finished'),
    (error: unknown) => log.warn({ event: 'slack.warm_up_failed', err: error }, 'warming up the ack path failed'),
  );
  return warming;
}

/** A step waiting out a rate limit lends its work slot meanwhile: other people's answers go on. */
function lendingSlot(work: WorkQueue): WaitOut {
  return (call) =>
    waitingOutRateLimits(call, {
      sleep: (ms) => work.whileWaiting(() => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    });
}

/**
 * The Slack adapter: Bolt with either our verified HTTP receiver or Socket Mode, one workspace (bot token)
 * or many (OAuth). Every handler acknowledges first and works after; replies are rendered as Block Kit,
 * forms as modals, sequences as live DM messages. The handlers live by concern: interactions.ts,
 * view-submission.ts, events.ts; replies.ts shows the core's answers.
 */
export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const { core, log } = options;
  const clientOptions = { ...defaultClientOptions, ...options.clientOptions };
  const clientFor = createClientPool(clientOptions);
  const lifecycle = createWorkspaceLifecycle(core.deps);
  // Bolt reads the installation before every ack in OAuth mode: keep it in memory (see installation-cache.ts).
  const installations = cacheInstallationRecords(createInstallationRecords(core.deps));
  const installationStore: InstallationStore | null = options.oauth
    ? createInstallationStore(installations, log, {
        onInstalled: async (teamId) => void (await lifecycle.restored({ platform: 'slack', externalId: teamId })),
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
    budgets: options.budgets,
    shared: options.liveStore && sharedLive(options.liveStore, core, tokens, clientFor),
  });
  let stopSharing: (() => Promise<void>) | null = null;
  let warming: BackgroundWarmUp | null = null;
  const healthy = options.healthy ?? (async () => true);

  // Work waits until the HTTP receiver, created below, has acknowledged the burst (at most BURST_MAX_MS).
  let receiverRef: BackcareHttpReceiver | null = null;
  const acksFirst = () => receiverRef?.allAnswered(BURST_MAX_MS) ?? Promise.resolve();
  const work = options.work ?? createWorkQueue({ concurrency: 16 });
  const { watch, track, queued, urgent, idle } = workTracker(log, work, live, acksFirst);

  const { receiver, http: httpReceiver } = createReceiver({
    ...options,
    clientOptions,
    healthy,
    onWork: watch,
    firstSeen: (key) => firstSeen(core.deps, key),
    installationStore,
  });
  receiverRef = httpReceiver;
  const app = createBoltApp(receiver, { log, clientOptions, installationStore, botToken: options.botToken });
  const people = createSlackPeople({ log, now: core.deps.now });
  const replies = createSlackReplies({ core, log, live, people, waitOut: lendingSlot(work) });
  const ctx: SlackContext = {
    app,
    core,
    log,
    live,
    people,
    replies,
    track,
    queued,
    urgent,
    lifecycle,
    installations,
    submitDeadlineMs: options.submitDeadlineMs,
  };
  registerEventDedupe(ctx);
  registerInteractions(ctx);
  registerViewSubmission(ctx);
  registerEvents(ctx);

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
      if (installationStore) await warmInstallations(installations, log);
      if (options.warmUp) warmUp(core, log);
      await app.start();
      // Sessions another replica (or this one before a restart) left behind are taken over from here on.
      stopSharing = await live.share();
      if (options.botToken && !options.oauth) await tokenWorkspaceBack(clientFor(options.botToken), lifecycle, log);
      log.info(
        {
          event: 'slack.started',
          mode: options.appToken ? 'socket' : 'http',
          workspaces: options.oauth ? 'oauth' : 'single',
        },
        `Slack adapter started (${options.appToken ? 'Socket Mode' : `HTTP on port ${httpReceiver?.port}`})`,
      );
    },
    started() {
      // HTTP only: it rehearses signature checks and form bodies, and the burst gate it waits on is the receiver's.
      if (options.warmUp && httpReceiver) warming ??= warmUpMore(core, log, acksFirst);
    },
    async stop() {
      warming?.stop();
      await app.stop();
      await stopSharing?.();
      // With the database holding them, sessions carry on on another replica instead of ending here.
      await live.handOver();
      await idle();
    },
  };
}
