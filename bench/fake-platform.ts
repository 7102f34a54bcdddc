import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * A chat platform's "post message" API on loopback, rate-limited the way Discord's global limit is:
 * at most `ratePerSecond` accepted messages per one-second window, and beyond it 429 with `Retry-After`
 * (whole seconds, header) and a precise `retry_after` (seconds, JSON body).
 *
 * It deliberately does NOT de-duplicate by nonce: every accepted POST counts, so a scheduler that posts one
 * slot twice shows up as a duplicate here. `GET /messages/<nonce>` is the reconcile lookup (like Slack's
 * history search or Discord's nonce), answering whether a message with that delivery id exists.
 */
export interface FakePlatform {
  url: string;
  /** Accepted messages per slot key (`user@slot`). */
  accepted: Map<string, number>;
  rejected429: number;
  /** When the first request arrived and when the last accepted one did (ms since epoch). */
  firstRequestAt: number | null;
  lastAcceptedAt: number | null;
  close(): Promise<void>;
}

const messageSchema = z.object({ nonce: z.string().min(1).max(25), key: z.string().min(1).max(100) });

export async function startFakePlatform(ratePerSecond: number): Promise<FakePlatform> {
  const byNonce = new Map<string, string>();
  let windowStart = 0;
  let inWindow = 0;
  let nextId = 1;
  const state: FakePlatform = {
    url: '',
    accepted: new Map(),
    rejected429: 0,
    firstRequestAt: null,
    lastAcceptedAt: null,
    close: async () => undefined,
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const now = Date.now();
      if (req.method === 'GET' && req.url?.startsWith('/messages/')) {
        const nonce = decodeURIComponent(req.url.slice('/messages/'.length));
        const id = byNonce.get(nonce);
        return id ? json(res, 200, { id, nonce }) : json(res, 404, { message: 'Unknown Message' });
      }
      if (req.method !== 'POST' || req.url !== '/messages') return json(res, 404, { message: 'not found' });
      // The body is read in full before anything counts: a sender killed mid-request posts nothing.
      const raw = await readBody(req);
      state.firstRequestAt ??= now;
      if (windowStart === 0) windowStart = now;
      const elapsedWindows = Math.floor((now - windowStart) / 1000);
      if (elapsedWindows > 0) {
        windowStart += elapsedWindows * 1000;
        inWindow = 0;
      }
      if (inWindow >= ratePerSecond) {
        state.rejected429 += 1;
        const retryAfter = (windowStart + 1000 - now) / 1000;
        return json(
          res,
          429,
          { message: 'You are being rate limited.', retry_after: retryAfter, global: true },
          { 'retry-after': String(Math.ceil(retryAfter)) },
        );
      }
      let message: z.infer<typeof messageSchema>;
      try {
        message = messageSchema.parse(JSON.parse(raw));
      } catch {
        return json(res, 400, { message: 'Invalid Form Body' });
      }
      inWindow += 1;
      const id = String(nextId++);
      byNonce.set(message.nonce, id);
      state.accepted.set(message.key, (state.accepted.get(message.key) ?? 0) + 1);
      state.lastAcceptedAt = Date.now();
      json(res, 200, { id, nonce: message.nonce });
    })().catch(() => {
      if (!res.headersSent) json(res, 500, { message: 'fake platform error' });
    });
  });
  // A killed client leaves half-open sockets behind; they must not keep the server from closing.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
