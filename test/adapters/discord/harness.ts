import {
  createDiscordAdapter,
  type DiscordAdapter,
  type DiscordAdapterOptions,
} from '../../../adapters/discord/adapter.js';
import type { Db } from '../../../src/db/client.js';
import type { Core } from '../../../src/core/router.js';
import { buildTestCore } from '../../support/core.js';
import { startFakeDiscordApi, type RecordedRequest } from '../../support/discord/fake-api.js';
import { APP_ID, BOT_TOKEN } from '../../support/discord/payloads.js';
import { captureLogger } from '../../support/log.js';

export interface ClientActions {
  InteractionCreate: { handle(data: unknown): void };
  GuildDelete: { handle(data: unknown): unknown };
}

export interface Harness {
  adapter: DiscordAdapter;
  core: Core;
  api: Awaited<ReturnType<typeof startFakeDiscordApi>>;
  logs: () => Record<string, unknown>[];
  /** Feeds a raw INTERACTION_CREATE payload through discord.js's own handling and waits until it is answered. */
  emit(payload: unknown): Promise<void>;
  /** Interaction callbacks (POST /interactions/:id/:token/callback) for one interaction. */
  callbacks(interactionId: string): { type: number; data?: Record<string, unknown> }[];
  requestsAfter(index: number): RecordedRequest[];
  close(): Promise<void>;
}

export async function startHarness(db: Db, overrides: Partial<DiscordAdapterOptions> = {}): Promise<Harness> {
  const api = await startFakeDiscordApi();
  const captured = captureLogger();
  const core = overrides.core ?? buildTestCore(db, { log: captured.log });
  const adapter = createDiscordAdapter({
    core,
    log: captured.log,
    token: BOT_TOKEN,
    applicationId: APP_ID,
    rest: { api: api.api, retries: 1, timeout: 5000 },
    ...(core.deps.library
      ? { routineChoices: () => core.deps.library!.all().map((r) => ({ id: r.id, title: r.title })) }
      : {}),
    ...overrides,
  });
  adapter.attach();
  // discord.js keeps its gateway actions private; this is the same entry point a real INTERACTION_CREATE packet takes.
  const actions = (adapter.client as unknown as { actions: ClientActions }).actions;
  return {
    adapter,
    core,
    api,
    logs: captured.lines,
    async emit(payload) {
      actions.InteractionCreate.handle(payload);
      await adapter.idle();
    },
    callbacks: (interactionId) =>
      api.requests
        .filter(
          (r) =>
            r.method === 'POST' && r.path.startsWith(`/interactions/${interactionId}/`) && r.path.endsWith('/callback'),
        )
        .map((r) => r.body as { type: number; data?: Record<string, unknown> }),
    requestsAfter: (index) => api.requests.slice(index),
    async close() {
      adapter.live.stopAll();
      await adapter.client.destroy();
      await api.close();
    },
  };
}
