import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { botCommand, isolatedEnv, repoRoot, tempDataDir } from '../support/spawn.js';

/**
 * A deploy can stop a bot that is still starting (adapters load after the database is open). Its SIGTERM must
 * not kill the process half-started: the start finishes, then the bot stops cleanly and exits 0.
 */
describe('SIGTERM during start-up', () => {
  const data = tempDataDir({ migrated: true });
  afterAll(() => data.cleanup());

  it(
    'a SIGTERM sent the moment adapters start loading still ends in a clean stop, exit 0',
    { timeout: 120_000 },
    async () => {
      const bot = spawn(botCommand[0], botCommand[1], {
        cwd: repoRoot,
        env: isolatedEnv({ BACKCARE_DATA_DIR: data.dir, BACKCARE_ADAPTER: 'console', LOG_LEVEL: 'info' }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      let signalled = false;
      bot.stdout.resume();
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        bot.on('exit', (code, signal) => resolve({ code, signal })),
      );
      bot.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // At once, while the adapter modules are still being imported.
        if (!signalled && stderr.includes('"event":"adapters.starting"')) {
          signalled = true;
          bot.kill('SIGTERM');
        }
      });
      const outcome = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 60_000))]);
      if (bot.exitCode === null) bot.kill('SIGKILL');
      expect(signalled).toBe(true);
      expect(outcome).toEqual({ code: 0, signal: null });
      expect(stderr).toContain('"event":"shutdown.done"');
    },
  );
});
