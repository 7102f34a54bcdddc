import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { parseEnv } from '../../src/config/env.js';
import { silentLogger } from '../support/log.js';
import { botCommand, isolatedEnv, repoRoot, tempDataDir } from '../support/spawn.js';
import { PassThrough } from 'node:stream';

describe('a start that fails half-way', () => {
  const data = tempDataDir({ migrated: true });
  let blocker: Server;
  let port = 0;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', () => resolve()));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    data.cleanup();
  });

  it(
    'health port already taken: one line on stderr, no stack, and the process exits 1 within 5 s of it',
    { timeout: 120_000 },
    async () => {
      // The console adapter with stdin left open, as in a terminal: nothing ends by itself.
      const child = spawn(botCommand[0], botCommand[1], {
        cwd: repoRoot,
        env: isolatedEnv({
          BACKCARE_DATA_DIR: data.dir,
          BACKCARE_ADAPTER: 'console',
          HEALTH_PORT: String(port),
          LOG_LEVEL: 'info',
        }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      let failedAt = 0;
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (!failedAt && stderr.includes('backcare could not start')) failedAt = Date.now();
      });
      child.stdout.resume();
      const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
        child.on('exit', (code) => resolve({ code, at: Date.now() })),
      );
      const deadline = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 90_000));
      try {
        // Wait for the failure line, then give the process 5 s (plus a little for a loaded machine) to be gone.
        while (!failedAt && child.exitCode === null) {
          const settled = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 100)), deadline]);
          if (settled === 'still running') break;
        }
        expect(failedAt, stderr).toBeGreaterThan(0);
        const outcome = await Promise.race([
          exited,
          new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 6000)),
        ]);
        expect(outcome, 'the process stayed up after "could not start"').not.toBe('still running');
        if (outcome === 'still running') return;
        expect(outcome.code).toBe(1);
        expect(outcome.at - failedAt).toBeLessThan(5000);

        // Exactly one human line; the JSON log lines say what failed but carry no stack at info level.
        const lines = stderr.split('\n').filter(Boolean);
        const human = lines.filter((l) => !l.startsWith('{'));
        expect(human).toEqual([
          `backcare could not start: port ${port} is already in use: stop what is using it, or set PORT / HEALTH_PORT to a free port`,
        ]);
        expect(stderr).not.toMatch(/\n\s+at /);
        expect(stderr).not.toContain('"stack"');
        expect(lines.some((l) => l.includes('"event":"startup.failed"'))).toBe(true);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  );

  it('an adapter forced without its tokens fails before the database is opened', async () => {
    const dir = path.join(data.dir, 'discord-without-tokens');
    const env = parseEnv({ BACKCARE_DATA_DIR: dir, BACKCARE_ADAPTER: 'discord' });
    const stdin = new PassThrough();
    await expect(
      createApp(env, silentLogger(), { stdin, stdout: new PassThrough(), interactive: false }),
    ).rejects.toThrow('the discord adapter needs DISCORD_TOKEN and DISCORD_APPLICATION_ID');
    expect(existsSync(path.join(dir, 'pgdata'))).toBe(false);
  });
});
