import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { InstallProvider, InstallURLOptions } from '@slack/oauth';
import type { Logger } from '../../src/config/logger.js';
import { BURST_MAX_MS, BurstGate } from './burst-gate.js';
import { parseRequestBody } from './parse.js';
import { createRecentKeys } from './recent-keys.js';
import { IN_BURST, OTHERS_ARRIVED, OTHERS_UNANSWERED, RECEIVED_AT, REPLAY_CHECK } from './replay-guard.js';
import { verifySlackSignature } from './verify.js';

/** Slack's request bodies are small; anything much larger is not Slack. */
const MAX_BODY_BYTES = 256 * 1024;
/** Slack waits 3 s; if no listener has answered by then we answer empty so Slack does not show an error or retry. */
const DEFAULT_ACK_DEADLINE_MS = 2500;
/** How long the database replay check may take before the request is handled as new (it runs after the ack). */
const DEFAULT_REPLAY_CHECK_MS = 2000;
/** Requests remembered in memory: a signature is valid for five minutes, a minute more covers clock skew. */
const RECENT_KEYS_TTL_MS = 6 * 60 * 1000;
const RECENT_KEYS_MAX = 100_000;
/**
 * Slack sends a whole small request at once; a client that trickles headers or a body is not Slack and must not
 * hold a connection for Node's default of five minutes.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

const slackPaths = {
  events: '/slack/events',
  commands: '/slack/commands',
  interactivity: '/slack/interactivity',
  install: '/slack/install',
  oauthRedirect: '/slack/oauth_redirect',
  health: '/healthz',
} as const;

export interface HttpReceiverOptions {
  signingSecret: string;
  port: number;
  host?: string;
  log: Logger;
  /** OAuth mode: serves the install page and the redirect. */
  installer?: { provider: InstallProvider; urlOptions: InstallURLOptions };
  /** `/healthz` answers 200 when this resolves true. */
  healthy: () => Promise<boolean>;
  ackDeadlineMs?: number;
  /** Time a client gets to send the request headers, and the whole request (default 10 s each). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Largest request body accepted (default 256 KiB); a larger one gets 413 and the connection is closed. */
  maxBodyBytes?: number;
  now?: () => number;
  /** Told about each request's processing (which goes on after the ack) so the adapter can wait for it. */
  onWork?: (work: Promise<unknown>) => void;
  /**
   * Records a verified request's key and says whether it is new. A signed request stays valid for five minutes,
   * so a captured slash command or button press could be sent again: only its first delivery is processed.
   * Called without waiting before the ack; its verdict reaches the listeners (see replay-guard.ts).
   * Events are not keyed here (Slack re-signs its retries; their event_id is checked instead).
   */
  firstSeen?: (key: string) => Promise<boolean>;
  replayCheckMs?: number;
}

/**
 * A small HTTP receiver for Bolt (Bolt's `Receiver` interface: init/start/stop): verifies every request with
 * the pure `verifySlackSignature`, answers url_verification itself, and hands everything else to Bolt with
 * an `ack` that writes the HTTP response. Nothing unverified reaches Bolt, let alone the core.
 */
export class BackcareHttpReceiver implements Receiver {
  private app: App | undefined;
  private server: Server | undefined;
  private readonly recentKeys = createRecentKeys({ ttlMs: RECENT_KEYS_TTL_MS, maxEntries: RECENT_KEYS_MAX });

  constructor(private readonly options: HttpReceiverOptions) {}

  init(app: App): void {
    this.app = app;
  }

  /** The port actually listened on (useful with port 0 in tests). */
  get port(): number {
    const address = this.server?.address();
    return address && typeof address === 'object' ? (address as AddressInfo).port : 0;
  }

  start(): Promise<Server> {
    const requestTimeout = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const headersTimeout = Math.min(this.options.headersTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, requestTimeout);
    // Node checks both timeouts only every connectionsCheckingInterval (30 s by default): check often enough to honour them.
    const server = createServer(
      {
        requestTimeout,
        headersTimeout,
        connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
      },
      (req, res) => {
        this.handle(req, res).catch((error: unknown) => {
          this.options.log.error({ event: 'slack.http.failed', err: error }, 'Slack request handling failed');
          if (!res.headersSent) {
            res.writeHead(500);
            res.end();
          }
        });
      },
    );
    this.server = server;
    // A connection is the first sign of a request: it counts as an arrival before its request is read.
    server.on('connection', () => this.gate.arrived());
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        this.options.log.info(
          { event: 'slack.http.listening', port: this.port },
          `Slack HTTP receiver on port ${this.port}`,
        );
        resolve(server);
      });
    });
  }

  stop(): Promise<void> {
    this.gate.close();
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private readonly gate = new BurstGate();

  /** Work after the acks waits here until the burst it came in is acknowledged (see BurstGate.wait). */
  allAnswered(maxMs: number, quietMs?: number): Promise<void> {
    return this.gate.wait(maxMs, quietMs);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sincePrevious = this.gate.requestArrived();
    let counted = true;
    let ackGate: () => void = () => undefined;
    const acked = new Promise<void>((resolve) => (ackGate = resolve));
    const answered = () => {
      ackGate();
      if (counted) this.gate.answered();
      counted = false;
    };
    try {
      await this.handleRequest(req, res, answered, acked, sincePrevious);
    } finally {
      answered();
    }
  }

  private async handleRequest(
    req: IncomingMessage,
    res: ServerResponse,
    answered: () => void,
    acked: Promise<void>,
    sincePrevious: number,
  ): Promise<void> {
    const receivedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { log } = this.options;

    if (req.method === 'GET' && url.pathname === slackPaths.health) {
      const ok = await this.options.healthy().catch(() => false);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok }));
      return;
    }
    if (req.method === 'GET' && this.options.installer && url.pathname === slackPaths.install) {
      await this.options.installer.provider.handleInstallPath(req, res, {}, this.options.installer.urlOptions);
      return;
    }
    if (req.method === 'GET' && this.options.installer && url.pathname === slackPaths.oauthRedirect) {
      await this.options.installer.provider.handleCallback(req, res, {}, this.options.installer.urlOptions);
      return;
    }
    const isSlackPath =
      url.pathname === slackPaths.events ||
      url.pathname === slackPaths.commands ||
      url.pathname === slackPaths.interactivity;
    if (req.method !== 'POST' || !isSlackPath) {
      res.writeHead(404);
      res.end();
      return;
    }

    const rawBody = await readBody(req, this.options.maxBodyBytes ?? MAX_BODY_BYTES);
    if (rawBody === null) {
      // Stop at the limit: answer, then close the connection rather than read (or buffer) the rest.
      log.warn({ event: 'slack.http.too_large', path: url.pathname }, 'Slack request body over the limit rejected');
      res.writeHead(413, { connection: 'close', 'content-type': 'text/plain' });
      res.end('request body too large', () => req.socket.destroy());
      return;
    }
    const verified = verifySlackSignature({
      signingSecret: this.options.signingSecret,
      timestamp: header(req, 'x-slack-request-timestamp'),
      signature: header(req, 'x-slack-signature'),
      rawBody,
      nowMs: (this.options.now ?? Date.now)(),
    });
    if (!verified.ok) {
      log.warn(
        { event: 'slack.http.rejected', reason: verified.reason, path: url.pathname },
        'unverified Slack request rejected',
      );
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('invalid request signature');
      return;
    }

    const body = parseRequestBody(rawBody, header(req, 'content-type'));
    if (!body) {
      res.writeHead(400);
      res.end();
      return;
    }
    if (body.type === 'url_verification' && typeof body.challenge === 'string') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ challenge: body.challenge }));
      return;
    }
    if (body.ssl_check !== undefined) {
      res.writeHead(200);
      res.end();
      return;
    }
    let replayCheck: (() => Promise<boolean>) | undefined;
    if (body.type !== 'event_callback' && this.options.firstSeen) {
      // The signature covers the timestamp and the body: the same one twice is the same request replayed.
      const key = `slack:request:${createHash('sha256')
        .update(`${header(req, 'x-slack-request-timestamp')}:${header(req, 'x-slack-signature')}`)
        .digest('hex')}`;
      // Nothing slow before the ack: a replay to this process is caught in memory; the database record (other
      // replicas, restarts) is written after the ack (see recordAfterAck), or sooner when a listener asks for the
      // verdict (a form answered in its ack); listeners wait for it before doing anything.
      if (!this.recentKeys.add(key)) {
        log.warn({ event: 'slack.http.replayed', path: url.pathname }, 'replayed Slack request ignored');
        res.writeHead(200);
        res.end();
        return;
      }
      const firstSeen = this.options.firstSeen;
      let asked: Promise<boolean> | undefined;
      replayCheck = () => (asked ??= this.verdict(firstSeen, key, url.pathname));
      const check = replayCheck;
      void acked.then(() => this.recordAfterAck(check, sincePrevious, receivedAt));
    }
    await this.dispatch(req, res, body, { replayCheck, receivedAt, answered, sincePrevious });
  }

  /** Replay records waiting for the burst under way to be acknowledged (see recordAfterAck). */
  private deferredRecords: (() => unknown)[] = [];

  /**
   * Starts writing a request's replay record once it is acknowledged: at once for a request on its own, and for
   * one of a burst (others wait for their acks, or one came right before or after it) once the whole burst is:
   * started at each ack, a burst's 200 writes ran between the later acks. One waiter per burst starts them all
   * together (not one per turn of the event loop between the work that follows).
   */
  private recordAfterAck(record: () => unknown, sincePrevious: number, receivedAt: number): void {
    const alone =
      this.gate.waitingForAcks === 0 && !this.gate.closeBehind(sincePrevious) && !this.gate.arrivedSince(receivedAt);
    if (alone) {
      void record();
      return;
    }
    this.deferredRecords.push(record);
    if (this.deferredRecords.length > 1) return;
    void this.gate.wait(BURST_MAX_MS).then(() => {
      const records = this.deferredRecords;
      this.deferredRecords = [];
      for (const start of records) void start();
    });
  }

  /**
   * Whether the database had not seen the key: true (fresh), false (a replay another replica took). Fails open
   * (an error, or no answer within the bound): the core then answers, at worst with its trouble message.
   */
  private verdict(firstSeen: (key: string) => Promise<boolean>, key: string, path: string): Promise<boolean> {
    const { log } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((resolve) => {
      timer = setTimeout(() => resolve('slow'), this.options.replayCheckMs ?? DEFAULT_REPLAY_CHECK_MS);
    });
    return Promise.race([Promise.resolve(key).then(firstSeen), slow])
      .catch((error: unknown) => {
        log.warn({ event: 'slack.http.replay_check_failed', err: error }, 'could not check for a replayed request');
        return 'failed' as const;
      })
      .finally(() => clearTimeout(timer))
      .then((checked) => {
        if (checked === 'slow')
          log.warn({ event: 'slack.http.replay_check_slow' }, 'replay check too slow; request handled as new');
        if (checked === false)
          log.warn({ event: 'slack.http.replayed', path }, 'replayed Slack request ignored after the ack');
        return checked !== false;
      });
  }

  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    body: Record<string, unknown>,
    request: {
      replayCheck: (() => Promise<boolean>) | undefined;
      receivedAt: number;
      answered: () => void;
      sincePrevious: number;
    },
  ): Promise<void> {
    const { replayCheck, receivedAt } = request;
    const { log } = this.options;
    let acked = false;
    const respond = (payload: unknown) => {
      if (acked) return;
      acked = true;
      request.answered();
      clearTimeout(deadline);
      if (payload === undefined || payload === '') {
        res.writeHead(200);
        res.end();
      } else if (typeof payload === 'string') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(payload);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      }
    };
    const deadline = setTimeout(() => {
      if (acked) return;
      log.warn({ event: 'slack.http.ack_deadline' }, 'no listener acknowledged in time; answered empty');
      respond(undefined);
    }, this.options.ackDeadlineMs ?? DEFAULT_ACK_DEADLINE_MS);

    const retryNum = Number(header(req, 'x-slack-retry-num'));
    const event: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => respond(response),
      ...(Number.isFinite(retryNum) && retryNum > 0 ? { retryNum } : {}),
      ...(header(req, 'x-slack-retry-reason') ? { retryReason: header(req, 'x-slack-retry-reason')! } : {}),
      customProperties: {
        [RECEIVED_AT]: receivedAt,
        [OTHERS_UNANSWERED]: () => this.gate.waitingForAcks - (acked ? 0 : 1),
        [OTHERS_ARRIVED]: () => this.gate.arrivedSince(receivedAt),
        [IN_BURST]: () => this.gate.closeBehind(request.sincePrevious) || this.gate.arrivedSince(receivedAt),
        ...(replayCheck ? { [REPLAY_CHECK]: replayCheck } : {}),
      },
    };
    if (!this.app) throw new Error('receiver used before Bolt initialised it');
    const processing = this.app.processEvent(event).catch((error: unknown) => {
      log.error({ event: 'slack.http.process_failed', err: error }, 'Bolt could not process a Slack request');
      respond(undefined);
    });
    this.options.onWork?.(processing);
    await processing;
    // Nothing matched (or a listener forgot to ack): answer now rather than at the deadline.
    if (!acked) respond(undefined);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as text, or null as soon as it is over `limit` bytes (declared or received): the rest is never read. */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const declared = Number(header(req, 'content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    req.pause();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      resolve(null);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
