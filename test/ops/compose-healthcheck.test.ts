import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseEnv } from '../../src/config/env.js';
import { startOpsServer } from '../../src/ops/health-server.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { repoRoot } from '../support/spawn.js';
import { silentLogger } from '../support/log.js';

const run = promisify(execFile);

const botSchema = z.object({
  environment: z.record(z.string(), z.string()),
  healthcheck: z.object({ test: z.tuple([z.literal('CMD'), z.literal('node'), z.literal('-e'), z.string()]) }),
  stop_grace_period: z.string().regex(/^\d+s$/),
});

const bot = botSchema.parse(
  z
    .object({ services: z.object({ bot: z.unknown() }) })
    .parse(parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'))).services.bot,
);

async function exitCode(script: string): Promise<number> {
  try {
    await run(process.execPath, ['-e', script], { timeout: 10_000 });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

describe('docker-compose bot healthcheck', () => {
  const port = parseEnv(bot.environment).HEALTH_PORT;
  const script = bot.healthcheck.test[3];

  it('asks /healthz on the HEALTH_PORT the bot is given, and outlasts the 10 s drain before SIGKILL', () => {
    expect(port).toBeDefined();
    expect(script).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(Number.parseInt(bot.stop_grace_period, 10)).toBeGreaterThan(10);
  });

  it('the check command really passes against a live health server and fails when nothing answers', async () => {
    const server = await startOpsServer({
      checks: [],
      registry: createMetrics({ defaultMetrics: false }).registry,
      log: silentLogger(),
      port: 0,
      host: '127.0.0.1',
    });
    const pointed = script.replace(`:${port}/`, `:${server.port}/`);
    try {
      expect(await exitCode(pointed)).toBe(0);
    } finally {
      await server.close();
    }
    expect(await exitCode(pointed)).toBe(1);
  });
});
