import type { Env } from './config/env.js';
import { selectAdapters } from './config/env.js';
import { resolveActionSecret } from './config/action-secret.js';
import { setActionValueSecret } from './core/command.js';
import type { Logger } from './config/logger.js';
import type { Adapter } from './core/adapter.js';
import { features } from './core/features/index.js';
import { createCore, type Core } from './core/router.js';
import { databaseOptionsFromEnv, openDatabase, type Database } from './db/client.js';
import { loadRoutineLibrary } from './core/content/loader.js';
import { triageRules } from './core/features/triage/load.js';
import { nextSlot } from './jobs/slots.js';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { routineSourceOf } from './core/nudge-message.js';
import type { Platform } from './core/request.js';
import type { Sender } from './core/sender.js';
import { postgresInstance, soloInstance } from './jobs/instance.js';
import { createScheduler } from './jobs/scheduler.js';
import { createWorkspaceRoutineSources } from './core/content/workspace-routines.js';
import { createMetrics, instrumentSenders, poolStatsOf, type Metrics } from './ops/metrics.js';
import { createWorkQueue, type WorkQueue } from './core/work-queue.js';
import { startOps, within, type Ops } from './ops/runtime.js';
import { localBudgets, type RateBudgets } from './core/rate-budget.js';
import { postgresBudgets } from './db/rate-budgets.js';
import { createLiveSessionStore, type Liveness } from './core/live-session-store.js';
import { postgresListener } from './db/listen.js';

export interface App {
  core: Core;
  database: Database;
  adapters: Adapter[];
  /** Resolves when every adapter that can finish by itself has (the console at end of input). */
  finished: Promise<void> | null;
  /** Health server, metrics and the retention job. */
  ops: Ops;
  metrics: Metrics;
  stop(): Promise<void>;
}

/**
 * Settings an adapter cannot start without, checked before anything is opened (BACKCARE_ADAPTER can force an
 * adapter whose tokens are missing): a start that cannot succeed should not open the database first.
 */
function adapterConfigProblem(env: Env, names: readonly string[]): string | null {
  if (names.includes('slack') && !env.SLACK_SIGNING_SECRET) return 'the slack adapter needs SLACK_SIGNING_SECRET';
  if (names.includes('discord') && (!env.DISCORD_TOKEN || !env.DISCORD_APPLICATION_ID))
    return 'the discord adapter needs DISCORD_TOKEN and DISCORD_APPLICATION_ID';
  return null;
}

/** How long each opened piece gets to close when start-up fails half-way (the process exits right after). */
const ABORT_CLOSE_MS = 1500;

export interface AppIo {
  stdin: NodeJS.ReadableStream & Readable;
  stdout: Writable;
  interactive: boolean;
}

/** Each adapter's module, imported only when the adapter is selected. */
const adapterModules: Partial<Record<string, () => Promise<unknown>>> = {
  slack: () => import('../adapters/slack/adapter.js'),
  discord: () => import('../adapters/discord/adapter.js'),
};

/**
 * The adapters the config selects, built around one core. Each adapter that can deliver nudges registers its
 * Sender; Slack and Discord also give the core their team resolver and channel messenger. Each adapter's module
 * is imported only when it is selected: discord.js alone takes half a second to load.
 */
async function createAdapters(
  env: Env,
  log: Logger,
  io: AppIo,
  core: Core,
  database: Database,
  names: readonly string[],
  work: WorkQueue,
  shared: { budgets: RateBudgets; liveness: Liveness },
): Promise<{ adapters: Adapter[]; senders: Partial<Record<Platform, Sender>> }> {
  const { budgets, liveness } = shared;
  const library = core.deps.library;
  const adapters: Adapter[] = [];
  // Each adapter that can deliver nudges registers its Sender here; the scheduler knows senders, not platforms.
  const senders: Partial<Record<Platform, Sender>> = {};
  for (const name of names) {
    switch (name) {
      case 'console': {
        const { createConsoleAdapter } = await import('../adapters/console/adapter.js');
        const { createConsoleSender } = await import('../adapters/console/sender.js');
        const consoleAdapter = createConsoleAdapter({
          core,
          log,
          input: io.stdin,
          output: io.stdout,
          interactive: io.interactive,
          timeScale: env.BACKCARE_TIME_SCALE,
        });
        adapters.push(consoleAdapter);
        senders.console = createConsoleSender(consoleAdapter, {
          logFile: path.resolve(env.BACKCARE_DATA_DIR, 'console-nudges.log'),
        });
        break;
      }
      case 'slack': {
        if (!env.SLACK_SIGNING_SECRET) throw new Error('the slack adapter needs SLACK_SIGNING_SECRET');
        const { createSlackAdapter } = await import('../adapters/slack/adapter.js');
        const slackAdapter = createSlackAdapter({
          work,
          core,
          log,
          signingSecret: env.SLACK_SIGNING_SECRET,
          busyStatusEmoji: env.SLACK_BUSY_STATUS_EMOJI?.split(',')
            .map((e) => e.trim())
            .filter(Boolean),
          botToken: env.SLACK_BOT_TOKEN,
          appToken: env.SLACK_APP_TOKEN,
          ...(env.SLACK_API_URL ? { clientOptions: { slackApiUrl: env.SLACK_API_URL } } : {}),
          oauth:
            env.SLACK_CLIENT_ID && env.SLACK_CLIENT_SECRET && env.SLACK_STATE_SECRET
              ? {
                  clientId: env.SLACK_CLIENT_ID,
                  clientSecret: env.SLACK_CLIENT_SECRET,
                  stateSecret: env.SLACK_STATE_SECRET,
                }
              : undefined,
          port: env.PORT,
          timeScale: env.BACKCARE_TIME_SCALE,
          budgets,
          warmUp: true,
          // Live sessions in the database: several replicas share them, and a restart hands them over. A Stop
          // pressed on another replica reaches the player through LISTEN on PostgreSQL (PGlite: one process).
          liveStore: createLiveSessionStore({
            db: database.db,
            platform: 'slack',
            listen: env.DATABASE_URL ? postgresListener(env.DATABASE_URL, log) : undefined,
            liveness,
          }),
          healthy: () =>
            database.ping().then(
              () => true,
              () => false,
            ),
        });
        adapters.push(slackAdapter);
        senders.slack = slackAdapter.sender;
        core.deps.teamResolvers?.push(slackAdapter.teamResolver);
        (core.deps.channelMessengers ??= []).push(slackAdapter.channelMessenger);
        break;
      }
      case 'discord': {
        if (!env.DISCORD_TOKEN || !env.DISCORD_APPLICATION_ID)
          throw new Error('the discord adapter needs DISCORD_TOKEN and DISCORD_APPLICATION_ID');
        const { createDiscordAdapter } = await import('../adapters/discord/adapter.js');
        const discordAdapter = createDiscordAdapter({
          core,
          log,
          token: env.DISCORD_TOKEN,
          applicationId: env.DISCORD_APPLICATION_ID,
          timeScale: env.BACKCARE_TIME_SCALE,
          routineChoices: () => library?.all().map((r) => ({ id: r.id, title: r.title })) ?? [],
          work,
          ...(env.SHARD_COUNT !== undefined ? { shards: { count: env.SHARD_COUNT, ids: env.SHARD_IDS } } : {}),
          // On a shared PostgreSQL, live sessions are stored like Slack's so replicas share them (Stop anywhere,
          // take-over, hand-over at SIGTERM). That stores each session's interaction token while it plays; PGlite
          // is one process with nobody to hand over to, so there they stay in memory and the token is never written.
          liveStore: env.DATABASE_URL
            ? createLiveSessionStore({
                db: database.db,
                platform: 'discord',
                listen: postgresListener(env.DATABASE_URL, log),
                liveness,
              })
            : undefined,
        });
        adapters.push(discordAdapter);
        senders.discord = discordAdapter.sender;
        core.deps.teamResolvers?.push(discordAdapter.teamResolver);
        (core.deps.channelMessengers ??= []).push(discordAdapter.channelMessenger);
        break;
      }
    }
  }
  return { adapters, senders };
}

/** Builds the whole bot from parsed config: database (migrated), core, and the adapters the config selects. */
/** Tells each adapter the app is ready; a failure there is logged, never a failed start. */
function announceStarted(adapters: readonly Adapter[], log: Logger): void {
  for (const adapter of adapters) {
    try {
      adapter.started?.();
    } catch (error) {
      log.warn(
        { event: 'adapter.started_failed', adapter: adapter.name, err: error },
        'adapter after-start step failed',
      );
    }
  }
}

export async function createApp(env: Env, log: Logger, io: AppIo): Promise<App> {
  // Content first: a broken routine file stops start-up (file, path inside it, problem) before anything opens.
  const library = loadRoutineLibrary();
  log.info({ event: 'content.loaded', routines: library.size }, `loaded ${library.size} routines`);
  // The triage rules too: a broken content/triage.yaml stops start-up with its line, not the first person's check.
  triageRules();
  // Button values are signed with one secret shared by every replica (unset: derived or generated, see action-secret.ts).
  const actionSecret = resolveActionSecret(env);
  setActionValueSecret(actionSecret.secret);
  log.info(
    { event: 'buttons.secret', source: actionSecret.source },
    `button values signed with a secret from ${actionSecret.source}`,
  );
  const problem = adapterConfigProblem(env, selectAdapters(env));
  if (problem) throw new Error(problem);
  // The selected adapters' modules (Bolt alone takes about half a second) load while the database opens and
  // migrates; createAdapters' own import() then finds them loaded. A failure surfaces there, not here.
  for (const name of selectAdapters(env)) void adapterModules[name]?.().catch(() => undefined);
  const dbOptions = databaseOptionsFromEnv(env);
  log.info(
    { event: 'db.opening', driver: dbOptions.driver },
    `opening database (${dbOptions.driver === 'postgres' ? 'PostgreSQL' : 'embedded PGlite'})`,
  );
  const database = await openDatabase(dbOptions);
  // What start-up has opened so far, closed in reverse when a later step fails (a port in use, a refused token):
  // an open pool, socket or stdin reader would otherwise keep a process that could not start alive.
  const opened: { name: string; close: () => Promise<unknown> }[] = [
    { name: 'database', close: () => database.close() },
  ];
  const abort = async (error: unknown): Promise<never> => {
    for (const item of opened.reverse()) {
      const closed = await within(
        item.close().catch(() => undefined),
        ABORT_CLOSE_MS,
      );
      if (!closed) log.warn({ event: 'startup.close_timeout', part: item.name }, `${item.name} did not close in time`);
    }
    throw error;
  };
  const metrics = createMetrics({ poolStats: poolStatsOf(database) });
  const core = createCore(
    {
      db: database.db,
      log,
      now: () => new Date(),
      privacyFloor: env.STATS_PRIVACY_FLOOR,
      retention: { months: env.RETENTION_MONTHS, auditMonths: env.AUDIT_RETENTION_MONTHS },
      nextSlot,
      library,
      onHandled: metrics.observeHandled,
      exportDir: path.resolve(env.BACKCARE_DATA_DIR, 'exports'),
      chartDir: path.resolve(env.BACKCARE_DATA_DIR, 'charts'),
      teamResolvers: [],
    },
    features,
  );

  const names = selectAdapters(env);
  log.info({ event: 'adapters.starting', adapters: names }, `starting adapters: ${names.join(', ')}`);
  // Work after an ack waits for one of a fixed number of slots, shared by the adapters (see work-queue.ts).
  const work = createWorkQueue({ concurrency: env.WORK_CONCURRENCY, onStart: metrics.observeWorkWait });
  metrics.watchWorkQueue(work);
  // Platform rate budgets (chat.update per workspace, posts per channel): on PostgreSQL one bucket per key shared
  // by every replica; PGlite is one process, so its budgets stay in memory.
  const budgets = database.driver === 'postgres' ? postgresBudgets(database.db, { log }) : localBudgets();
  // Liveness for live sessions (a dead player's session is taken over or stopped at once): a lock of its own,
  // held until the adapters have handed their sessions over (the scheduler closes its own before that).
  const liveness = env.DATABASE_URL ? await postgresInstance(env.DATABASE_URL).catch(abort) : soloInstance();
  opened.push({ name: 'liveness', close: () => liveness.close() });
  const shared = { budgets, liveness };
  const { adapters, senders } = await createAdapters(env, log, io, core, database, names, work, shared).catch(abort);
  for (const adapter of adapters) {
    // Registered before start: an adapter that fails half-way (socket open, login refused) is closed too.
    opened.push({ name: adapter.name, close: () => adapter.stop() });
    await adapter.start().catch(abort);
  }
  // The health port is bound before any nudge is claimed: a port in use stops the start before anything is sent.
  const ops = await startOps({
    env,
    log,
    database,
    adapters,
    adapterNames: names,
    metrics,
    exportDir: path.resolve(env.BACKCARE_DATA_DIR, 'exports'),
  }).catch(abort);
  opened.push({ name: 'ops', close: () => ops.stop() });
  // Ready from here on (/readyz): whatever an adapter does once started must not hold up the rest of the start.
  announceStarted(adapters, log);
  // Nudges start once the adapters can deliver them: reconcile what a previous run left claimed, then tick.
  const scheduler = createScheduler({
    db: database.db,
    log,
    senders: instrumentSenders(senders, metrics),
    instance: env.DATABASE_URL ? await postgresInstance(env.DATABASE_URL).catch(abort) : soloInstance(),
    routines: routineSourceOf(core.deps),
    workspaceRoutines: createWorkspaceRoutineSources(database.db, library, log),
    onTick: metrics.observeTick,
    budgets,
  });
  opened.push({ name: 'scheduler', close: () => scheduler.stop() });
  await scheduler.start().catch(abort);

  const finishing = adapters.map((a) => a.finished).filter((p): p is Promise<void> => p !== undefined);
  let stopped: Promise<void> | null = null;
  return {
    core,
    database,
    adapters,
    finished: finishing.length > 0 ? Promise.all(finishing).then(() => undefined) : null,
    ops,
    metrics,
    stop() {
      stopped ??= (async () => {
        // Readiness fails first so a load balancer stops routing here while in-flight work finishes.
        ops.beginDrain();
        await scheduler
          .stop()
          .catch((error: unknown) =>
            log.warn({ event: 'scheduler.stop_failed', err: error }, 'scheduler did not stop cleanly'),
          );
        for (const adapter of adapters) {
          try {
            await adapter.stop();
          } catch (error) {
            log.warn(
              { event: 'adapter.stop_failed', adapter: adapter.name, err: error },
              'adapter did not stop cleanly',
            );
          }
        }
        // Sessions are handed over by now: other replicas may take them at once.
        await liveness.close();
        await ops.stop();
        await database.close();
      })();
      return stopped;
    },
  };
}
