import type { AddressInfo } from 'node:net';
import { expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createSlackAdapter, type SlackAdapter } from '../../../adapters/slack/adapter.js';
import { processedEvents } from '../../../src/db/schema.js';
import { buildTestCore } from '../../support/core.js';
import { describeEachDatabase } from '../../support/db.js';
import { silentLogger } from '../../support/log.js';
import { BOT_TOKEN, interceptSlack, SIGNING_SECRET } from '../../support/slack/http.js';
import { appHomeOpened, RESPONSE_URL, TEAM_ID, TRIGGER_ID, USER_ID } from '../../support/slack/payloads.js';
import { defaultAnswer } from './harness.js';

const APP_TOKEN = 'xapp-test-not-a-real-token';

/**
 * A loopback stand-in for Slack's Socket Mode server: apps.connections.open (intercepted) hands out its
 * ws:// URL, it says hello, pushes envelopes and collects the client's acks.
 */
async function fakeSocketServer() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const acks: { envelope_id: string; payload?: unknown }[] = [];
  let socket: WebSocket | undefined;
  server.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => acks.push(JSON.parse(String(data)) as { envelope_id: string }));
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        connection_info: { app_id: 'A0TESTAPP' },
        debug_info: { host: 'loopback' },
      }),
    );
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link/?ticket=test-ticket`,
    acks,
    connected: () => socket !== undefined,
    push: (envelope: Record<string, unknown>) => socket!.send(JSON.stringify(envelope)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeEachDatabase('Slack Socket Mode on loopback', (database) => {
  it('connects with the app token, acks envelopes, answers commands and de-duplicates event retries', async () => {
    const fake = await fakeSocketServer();
    const api = interceptSlack((call) =>
      call.method === 'apps.connections.open' ? { body: { ok: true, url: fake.url } } : defaultAnswer(call),
    );
    const core = buildTestCore(database().db);
    let adapter: SlackAdapter | undefined;
    try {
      adapter = createSlackAdapter({
        core,
        log: silentLogger(),
        signingSecret: SIGNING_SECRET,
        botToken: BOT_TOKEN,
        appToken: APP_TOKEN,
        port: 0,
        clientOptions: { retryConfig: { retries: 0 } },
      });
      await adapter.start();
      expect(api.of('apps.connections.open')[0]?.authorization).toBe(`Bearer ${APP_TOKEN}`);
      await vi.waitFor(() => expect(fake.connected()).toBe(true), { timeout: 5000, interval: 10 });

      fake.push({
        envelope_id: 'env-command-1',
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: {
          token: 'deprecated-verification-token',
          team_id: TEAM_ID,
          team_domain: 'backcare-test',
          channel_id: 'C0TESTCHAN',
          channel_name: 'general',
          user_id: USER_ID,
          user_name: 'ada',
          command: '/backcare',
          text: 'help',
          api_app_id: 'A0TESTAPP',
          is_enterprise_install: 'false',
          response_url: RESPONSE_URL,
          trigger_id: TRIGGER_ID,
        },
      });
      const event = appHomeOpened('Ev0SOCKET01');
      fake.push({
        envelope_id: 'env-event-1',
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: 0,
        retry_reason: '',
        payload: event,
      });
      fake.push({
        envelope_id: 'env-event-2',
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: 1,
        retry_reason: 'timeout',
        payload: event,
      });

      await vi.waitFor(
        () =>
          expect(fake.acks.map((a) => a.envelope_id).sort()).toEqual(['env-command-1', 'env-event-1', 'env-event-2']),
        { timeout: 5000, interval: 10 },
      );
      await vi.waitFor(() => expect(api.responses).toHaveLength(1), { timeout: 5000, interval: 10 });
      await adapter.idle();
      expect(api.responses[0]).toMatchObject({
        url: RESPONSE_URL,
        body: { response_type: 'ephemeral', text: 'Backcare commands' },
      });
      expect(api.of('views.publish')).toHaveLength(1);
      expect(await database().db.select().from(processedEvents)).toHaveLength(1);
    } finally {
      await adapter?.stop();
      await fake.close();
      api.done();
    }
  });
});
