import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../config/logger.js';
import { runChecks, type ReadinessCheck } from './readiness.js';

export interface OpsRoutesOptions {
  checks: readonly ReadinessCheck[];
  registry: Registry;
  log: Logger;
  /** True once shutdown has begun: readiness fails so a load balancer stops sending work. */
  draining?: () => boolean;
}

/**
 * `GET /healthz` (the process answers), `GET /readyz` (database, migrations, adapters; 503 with the failing
 * checks otherwise) and `GET /metrics` (Prometheus text). Returns false for any other path so the same
 * handler can be mounted beside another server's routes (e.g. a Slack HTTP receiver's custom routes).
 */
export function opsRequestHandler(
  options: OpsRoutesOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  return async (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!['/healthz', '/readyz', '/metrics'].includes(pathname)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return true;
    }
    try {
      if (pathname === '/healthz') {
        json(res, 200, { status: 'ok' });
      } else if (pathname === '/readyz') {
        if (options.draining?.()) {
          json(res, 503, { status: 'shutting down', checks: {} });
          return true;
        }
        const report = await runChecks(options.checks);
        json(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', checks: report.checks });
      } else {
        const body = await options.registry.metrics();
        res.writeHead(200, { 'content-type': options.registry.contentType, 'cache-control': 'no-store' });
        res.end(body);
      }
    } catch (error) {
      options.log.error({ event: 'ops.request_failed', path: pathname, err: error }, 'ops endpoint failed');
      if (!res.headersSent) json(res, 500, { status: 'error' });
      else res.end();
    }
    return true;
  };
}

export interface OpsServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** A small HTTP server for the ops routes alone (Socket Mode, Discord-only, or beside a Slack receiver on HEALTH_PORT). */
export async function startOpsServer(options: OpsRoutesOptions & { port: number; host?: string }): Promise<OpsServer> {
  const handle = opsRequestHandler(options);
  const server: Server = createServer((req, res) => {
    void handle(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('not found\n');
      }
    });
  });
  // Probes are short; a stuck client must not hold shutdown open.
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info({ event: 'ops.listening', port }, `health and metrics on :${port} (/healthz, /readyz, /metrics)`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
