import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { healthPortFor, within } from '../../src/ops/runtime.js';
import { botCommand, isolatedEnv, repoRoot, tempDataDir } from '../support/spawn.js';

describe('which port serves health and metrics', () => {
  const env = (vars: Record<string, string>) => parseEnv({ PORT: '3000', ...vars });
  it.each([
    ['console only, no HEALTH_PORT: no server (npm start in a terminal grabs no port)', {}, ['console'], null],
    ['console only with HEALTH_PORT', { HEALTH_PORT: '9090' }, ['console'], 9090],
    ['Discord only: PORT', {}, ['discord'], 3000],
    ['Slack in Socket Mode: PORT', { SLACK_APP_TOKEN: 'xapp-1' }, ['slack'], 3000],
    ['Slack over HTTP owns PORT: none unless HEALTH_PORT', {}, ['slack'], null],
    ['Slack over HTTP with HEALTH_PORT', { HEALTH_PORT: '9090' }, ['slack', 'discord'], 9090],
    ['HEALTH_PORT always wins', { HEALTH_PORT: '9091' }, ['discord'], 9091],
  ] as const)('%s', (_, vars, adapters, expected) => {
    expect(healthPortFor(env(vars), adapters)).toBe(expected);
  });
});

describe('within', () => {
  afterEach(() => vi.useRealTimers());

  it('is true when the work finishes in time and false when the bound runs out', async () => {
    vi.useFakeTimers();
    const quick = within(new Promise((resolve) => setTimeout(resolve, 5_000)), 10_000);
    const stuck = within(new Promise(() => undefined), 10_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await quick).toBe(true);
    expect(await stuck).toBe(false);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('the bot serves health on HEALTH_PORT and stops cleanly on SIGTERM', () => {
  it(
    'GET /healthz, /readyz, /metrics while the console bot runs; SIGTERM → readiness off, exit 0',
    { timeout: 90_000 },
    async () => {
      const port = await freePort();
      const data = tempDataDir({ migrated: true });
      const child = spawn(botCommand[0], botCommand[1], {
        cwd: repoRoot,
        env: isolatedEnv({ BACKCARE_DATA_DIR: data.dir, HEALTH_PORT: String(port), LOG_LEVEL: 'info' }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      try {
        const base = `http://127.0.0.1:${port}`;
        for (let i = 0; i < 600 && !stderr.includes('"event":"ops.listening"'); i++)
          await new Promise((r) => setTimeout(r, 100));
        expect(stderr).toContain(`"port":${port}`);

        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        const ready = await fetch(`${base}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({
          status: 'ready',
          checks: { database: { ok: true }, migrations: { ok: true }, adapters: { ok: true } },
        });

        child.stdin.write('help\n');
        for (let i = 0; i < 100 && !stdout.includes('Backcare'); i++) await new Promise((r) => setTimeout(r, 100));
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toMatch(/^backcare_commands_total\{subcommand="help",adapter="console",outcome="ok"\} 1$/m);

        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect(stderr).toContain('"event":"shutdown.done"');
        await expect(fetch(`${base}/healthz`)).rejects.toThrow();
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        data.cleanup();
      }
    },
  );
});
