import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path after /api/v10, e.g. /interactions/123/tok/callback */
  path: string;
  query: string;
  body: unknown;
  at: number;
}

export type Responder = (
  req: RecordedRequest,
) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

/**
 * A stand-in for discord.com/api on loopback: records every request discord.js makes (route, body) and answers
 * like Discord does. Tests push one-off responders (a 429, a 50007) in front of the defaults.
 */
export async function startFakeDiscordApi(): Promise<{
  api: string;
  requests: RecordedRequest[];
  respondOnce(
    match: (req: RecordedRequest) => boolean,
    response: { status: number; body?: unknown; headers?: Record<string, string> },
  ): void;
  respondAlways(responder: Responder): void;
  close(): Promise<void>;
}> {
  const requests: RecordedRequest[] = [];
  const once: {
    match: (req: RecordedRequest) => boolean;
    response: { status: number; body?: unknown; headers?: Record<string, string> };
  }[] = [];
  const always: Responder[] = [];
  let messageCounter = 1000;

  const message = (channelId: string, body: Record<string, unknown> = {}) => ({
    id: String(900000000000000000n + BigInt(messageCounter++)),
    channel_id: channelId,
    type: 0,
    content: body.content ?? '',
    embeds: body.embeds ?? [],
    components: body.components ?? [],
    attachments: [],
    mentions: [],
    mention_roles: [],
    pinned: false,
    mention_everyone: false,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    flags: body.flags ?? 0,
    nonce: body.nonce,
    author: {
      id: '111111111111111111',
      username: 'Backcare',
      discriminator: '0',
      global_name: null,
      avatar: null,
      bot: true,
    },
  });

  function defaults(req: RecordedRequest): { status: number; body?: unknown } {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (/^\/interactions\/\d+\/[^/]+\/callback$/.test(req.path)) return { status: 204 };
    if (/^\/webhooks\/\d+\/[^/]+\/messages\/@original$/.test(req.path) && req.method === 'PATCH')
      return { status: 200, body: message('333333333333333333', body) };
    if (/^\/webhooks\/\d+\/[^/]+\/messages\/@original$/.test(req.path) && req.method === 'DELETE')
      return { status: 204 };
    if (/^\/webhooks\/\d+\/[^/]+$/.test(req.path) && req.method === 'POST')
      return { status: 200, body: message('333333333333333333', body) };
    if (req.path === '/users/@me/channels') {
      return {
        status: 200,
        body: {
          id: `7${String(body.recipient_id).slice(1)}`,
          type: 1,
          recipients: [{ id: body.recipient_id, username: 'someone', discriminator: '0' }],
        },
      };
    }
    const channelMessages = /^\/channels\/(\d+)\/messages$/.exec(req.path);
    if (channelMessages && req.method === 'POST') return { status: 200, body: message(channelMessages[1]!, body) };
    if (channelMessages && req.method === 'GET') return { status: 200, body: [] };
    const channelMessage = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(req.path);
    if (channelMessage && req.method === 'PATCH')
      return { status: 200, body: { ...message(channelMessage[1]!, body), id: channelMessage[2] } };
    if (/^\/applications\/\d+\/(guilds\/\d+\/)?commands$/.test(req.path) && req.method === 'PUT') {
      return {
        status: 200,
        body: (req.body as unknown[]).map((c, i) => ({
          ...(c as object),
          id: String(i + 1),
          application_id: '111111111111111111',
          version: '1',
        })),
      };
    }
    return { status: 404, body: { message: 'Unknown route in fake', code: 0 } };
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    if (!raw) return undefined;
    const type = req.headers['content-type'] ?? '';
    if (type.includes('application/json')) return JSON.parse(raw);
    // multipart (files): keep the payload_json part only
    const match = /name="payload_json"[\s\S]*?\r\n\r\n([\s\S]*?)\r\n--/.exec(raw);
    return match ? JSON.parse(match[1]!) : raw;
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(url.pathname).replace(/^\/api\/v10/, ''),
        query: url.search,
        body: await readBody(req),
        at: Date.now(),
      };
      requests.push(recorded);
      const index = once.findIndex((o) => o.match(recorded));
      let response: { status: number; body?: unknown; headers?: Record<string, string> } | undefined;
      if (index >= 0) response = once.splice(index, 1)[0]!.response;
      for (const responder of always) response ??= responder(recorded);
      response ??= defaults(recorded);
      res.writeHead(response.status, {
        ...(response.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(response.headers ?? {}),
      });
      res.end(response.body === undefined ? undefined : JSON.stringify(response.body));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    api: `http://127.0.0.1:${port}/api`,
    requests,
    respondOnce: (match, response) => once.push({ match, response }),
    respondAlways: (responder) => always.push(responder),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
