import { App, SocketModeReceiver, type Logger as BoltLogger, LogLevel, type Receiver } from '@slack/bolt';
import { InstallProvider, type InstallationStore } from '@slack/oauth';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from '../../src/config/logger.js';
import { botScopes } from './scopes.js';
import { BackcareHttpReceiver } from './receiver.js';
import { botTokenFor } from './installation-store.js';

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

export interface ReceiverOptions {
  log: Logger;
  signingSecret: string;
  botToken?: string | undefined;
  oauth?: { clientId: string; clientSecret: string; stateSecret: string } | undefined;
  appToken?: string | undefined;
  port: number;
  host?: string | undefined;
  clientOptions: WebClientOptions;
  healthy: () => Promise<boolean>;
  onWork: (work: Promise<unknown>) => void;
  firstSeen: (key: string) => Promise<boolean>;
  installationStore: InstallationStore | null;
}

/** Socket Mode for one workspace without a public URL, otherwise our verified HTTP receiver (with OAuth if set). */
export function createReceiver(options: ReceiverOptions): { receiver: Receiver; http: BackcareHttpReceiver | null } {
  const { log, installationStore } = options;
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
    return { receiver: new SocketModeReceiver({ appToken: options.appToken, logger: boltLogger(log) }), http: null };
  }
  const http = new BackcareHttpReceiver({
    signingSecret: options.signingSecret,
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    log,
    healthy: options.healthy,
    onWork: options.onWork,
    // Kept in the database (all replicas, across restarts); the retention job removes keys after a week.
    firstSeen: options.firstSeen,
    ...(options.oauth && installationStore
      ? {
          installer: {
            provider: new InstallProvider({
              ...options.oauth,
              installationStore,
              logger: boltLogger(log),
              clientOptions: options.clientOptions,
            }),
            urlOptions: installUrlOptions,
          },
        }
      : {}),
  });
  return { receiver: http, http };
}

/** Bolt's App on that receiver: the bot token comes from the installation store (OAuth) or the one configured. */
export function createBoltApp(
  receiver: Receiver,
  options: Pick<ReceiverOptions, 'log' | 'clientOptions' | 'installationStore' | 'botToken'>,
): App {
  const { installationStore } = options;
  const app = new App({
    receiver,
    logger: boltLogger(options.log),
    clientOptions: options.clientOptions,
    // Bolt's conversation store (state kept per conversation, in memory) is unused here; it cost every request a
    // read and a promise chain before the listeners (7-9 ms of a 200-request burst in a profile).
    convoStore: false,
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
    options.log.error({ event: 'slack.bolt_error', err: error }, 'Bolt reported an error');
  });
  return app;
}
