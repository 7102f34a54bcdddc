import { afterEach, beforeEach } from 'vitest';
import { createSlackAdapter, type SlackAdapter, type SlackAdapterOptions } from '../../../adapters/slack/adapter.js';
import type { Core } from '../../../src/core/router.js';
import type { Database } from '../../../src/db/client.js';
import { buildTestCore } from '../../support/core.js';
import { captureLogger } from '../../support/log.js';
import { BOT_TOKEN, interceptSlack, SIGNING_SECRET, type ApiCall } from '../../support/slack/http.js';
import { DM_CHANNEL, usersInfo } from '../../support/slack/payloads.js';

export type Answer = { status?: number; body: unknown; headers?: Record<string, string> } | undefined;

/** Sensible Slack answers for the calls every flow makes; tests override per method. */
export function defaultAnswer(call: ApiCall): Answer {
  switch (call.method) {
    case 'users.info':
      return { body: usersInfo({ id: String(call.args.user), admin: call.args.user === 'U0TESTADMIN' }) };
    case 'conversations.open':
      return { body: { ok: true, channel: { id: DM_CHANNEL } } };
    case 'chat.postMessage':
      return {
        body: {
          ok: true,
          channel: call.args.channel,
          ts: `1700000100.${String(1000 + Math.floor(Math.random() * 8999))}`,
        },
      };
    default:
      return undefined;
  }
}

export interface Harness {
  adapter: SlackAdapter;
  core: Core;
  api: ReturnType<typeof interceptSlack>;
  logs: ReturnType<typeof captureLogger>;
  /** Overrides the Slack answer for one method. */
  answer: Map<string, (call: ApiCall) => Answer>;
}

/**
 * Starts the Slack adapter's HTTP receiver on a loopback port with Web API calls intercepted,
 * before each test of a describeEachDatabase suite; stops it after.
 */
export function useSlackHarness(
  database: () => Database,
  overrides: Partial<SlackAdapterOptions> = {},
  wrapCore: (core: Core) => Core = (core) => core,
): () => Harness {
  let harness: Harness | undefined;
  beforeEach(async () => {
    const answer = new Map<string, (call: ApiCall) => Answer>();
    const api = interceptSlack((call) => answer.get(call.method)?.(call) ?? defaultAnswer(call));
    const logs = captureLogger();
    const core = wrapCore(buildTestCore(database().db, { log: logs.log, deps: { teamResolvers: [] } }));
    const adapter = createSlackAdapter({
      core,
      log: logs.log,
      signingSecret: SIGNING_SECRET,
      botToken: BOT_TOKEN,
      port: 0,
      host: '127.0.0.1',
      timeScale: 0.001,
      clientOptions: { retryConfig: { retries: 0 } },
      ...overrides,
    });
    // As src/app.ts does: the adapter's meaning of "a team" goes to the core.
    core.deps.teamResolvers?.push(adapter.teamResolver);
    await adapter.start();
    // Tests look at what requests cause; the start-up auth.test is not one of them.
    api.calls.length = 0;
    harness = { adapter, core, api, logs, answer };
  });
  afterEach(async () => {
    await harness?.adapter.stop();
    harness?.api.done();
    harness = undefined;
  });
  return () => {
    if (!harness) throw new Error('harness not started');
    return harness;
  };
}
