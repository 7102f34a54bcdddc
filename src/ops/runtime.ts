import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdapterName, Env } from '../config/env.js';
import type { Logger } from '../config/logger.js';
import type { Adapter } from '../core/adapter.js';
import { defaultExportDir } from '../core/features/data-rights/data-rights.js';
import type { Database } from '../db/client.js';
import { opsRequestHandler, startOpsServer, type OpsServer } from './health-server.js';
import { poolStatsOf, type Metrics } from './metrics.js';
import { adaptersCheck, databaseCheck, migrationsCheck, poolCheck } from './readiness.js';
import { purgeExportFiles, runRetention, startDailyJob, type DailyJob } from './retention.js';

/**
 * How long in-flight replies and claimed deliveries get to finish after SIGTERM/SIGINT (src/main.ts); every
 * orchestrator's grace period must be longer (docker-compose.yml, deploy/kubernetes.yaml, checked by tests).
 */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Where `/healthz`, `/readyz` and `/metrics` are served:
 * - HEALTH_PORT when set (always wins);
 * - console only: nowhere unless HEALTH_PORT is set, so `npm start` in a terminal never grabs a port;
 * - Slack over HTTP: PORT belongs to the Slack receiver, so nowhere unless HEALTH_PORT is set
 *   (or the Slack adapter mounts `handler` on its own server);
 * - otherwise (Socket Mode, Discord only): PORT.
 */
export function healthPortFor(
  env: Pick<Env, 'PORT' | 'HEALTH_PORT' | 'SLACK_APP_TOKEN'>,
  adapters: readonly AdapterName[],
): number | null {
  if (env.HEALTH_PORT !== undefined) return env.HEALTH_PORT;
  if (adapters.every((a) => a === 'console')) return null;
  if (adapters.includes('slack') && !env.SLACK_APP_TOKEN) return null;
  return env.PORT;
}

export interface Ops {
  readonly server: OpsServer | null;
  /** The ops routes, for an adapter that wants to serve them on its own HTTP server. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** From now on `/readyz` answers 503 so load balancers stop sending work. */
  beginDrain(): void;
  stop(): Promise<void>;
}

export interface OpsOptions {
  env: Env;
  log: Logger;
  database: Database;
  adapters: readonly Adapter[];
  adapterNames: readonly AdapterName[];
  metrics: Metrics;
  exportDir?: string;
  /** Overrides the port rule (tests use 0). */
  port?: number | null;
  /** Delay before the first retention run (default one minute after start). */
  retentionFirstDelayMs?: number;
}

/** Health server, readiness, metrics and the daily retention job, started once the adapters are up. */
export async function startOps(options: OpsOptions): Promise<Ops> {
  const { env, log, database, metrics } = options;
  let draining = false;
  const poolStats = poolStatsOf(database);
  const routes = {
    checks: [
      databaseCheck(database),
      migrationsCheck(database),
      adaptersCheck(options.adapters),
      ...(poolStats ? [poolCheck(poolStats)] : []),
    ],
    registry: metrics.registry,
    log,
    draining: () => draining,
  };
  const handler = opsRequestHandler(routes);
  const port = options.port !== undefined ? options.port : healthPortFor(env, options.adapterNames);
  if (
    port === null &&
    options.adapterNames.includes('slack') &&
    !env.SLACK_APP_TOKEN &&
    env.HEALTH_PORT === undefined
  ) {
    log.warn(
      { event: 'ops.no_port' },
      'Slack uses PORT for its HTTP receiver: set HEALTH_PORT to serve /healthz, /readyz and /metrics',
    );
  }
  const server = port === null ? null : await startOpsServer({ ...routes, port });

  const exportDir = options.exportDir ?? defaultExportDir();
  const retention: DailyJob = startDailyJob(
    'retention',
    async () => {
      const now = new Date();
      const report = await runRetention(
        database.db,
        { retentionMonths: env.RETENTION_MONTHS, auditRetentionMonths: env.AUDIT_RETENTION_MONTHS },
        now,
        log,
      );
      for (const [table, n] of Object.entries(report)) if (n > 0) metrics.retentionDeleted.inc({ table }, n);
      await purgeExportFiles(exportDir, now);
    },
    { log, ...(options.retentionFirstDelayMs !== undefined ? { firstDelayMs: options.retentionFirstDelayMs } : {}) },
  );

  return {
    server,
    handler,
    beginDrain() {
      draining = true;
    },
    async stop() {
      draining = true;
      await retention.stop();
      await server?.close();
    },
  };
}

/**
 * Resolves true when `work` finished within `ms`, false when the bound ran out first (the caller exits anyway:
 * a stuck platform call must not keep a container from stopping).
 */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
