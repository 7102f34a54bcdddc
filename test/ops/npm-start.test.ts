import { execFileSync, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { isolatedEnv, repoRoot, tempDataDir } from '../support/spawn.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** What a person (or an orchestrator) does: SIGTERM to the `npm start` process itself, not to the node inside. */
describe('npm start and SIGTERM', () => {
  // About signals through npm, not a first start: begins from a migrated database.
  const data = tempDataDir({ migrated: true });
  afterAll(() => data.cleanup());

  it(
    'SIGTERM to npm shuts the bot down gracefully, npm exits 0 and no node process is left behind',
    { timeout: 180_000 },
    async () => {
      const npm = spawn('npm', ['start', '--silent'], {
        cwd: repoRoot,
        env: isolatedEnv({ BACKCARE_DATA_DIR: data.dir, BACKCARE_ADAPTER: 'console', LOG_LEVEL: 'info' }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      npm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      npm.stdout.resume();
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        npm.on('exit', (code, signal) => resolve({ code, signal })),
      );
      let children: number[] = [];
      try {
        for (let i = 0; i < 1200 && !stderr.includes('"event":"adapters.starting"') && npm.exitCode === null; i++)
          await sleep(100);
        expect(stderr).toContain('"event":"adapters.starting"');
        await sleep(500);
        // Everything npm started (the bot, and a shell if one sat in between).
        const listed = execFileSync('ps', ['-o', 'pid=', '--ppid', String(npm.pid)]).toString();
        children = listed
          .split('\n')
          .map((l) => Number(l.trim()))
          .filter((pid) => pid > 0);
        expect(children.length).toBeGreaterThan(0);

        npm.kill('SIGTERM');
        const outcome = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
        expect(outcome).toEqual({ code: 0, signal: null });
        expect(stderr).toContain('"event":"shutdown"');
        expect(stderr).toContain('"event":"shutdown.done"');
        await sleep(1000);
        expect(children.filter(alive)).toEqual([]);
      } finally {
        if (npm.exitCode === null) npm.kill('SIGKILL');
        for (const pid of children.filter(alive)) process.kill(pid, 'SIGKILL');
      }
    },
  );

  // A terminal Ctrl-C, `kill -- -PGID` and a systemd stop signal npm and the bot at once, and npm forwards its
  // copy: the bot sees SIGTERM twice within milliseconds, which must still be one graceful shutdown.
  it(
    'SIGTERM to the whole process group (npm and node at once) still drains and exits 0',
    { timeout: 180_000 },
    async () => {
      const npm = spawn('npm', ['start', '--silent'], {
        cwd: repoRoot,
        env: isolatedEnv({ BACKCARE_DATA_DIR: data.dir, BACKCARE_ADAPTER: 'console', LOG_LEVEL: 'debug' }),
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      let stderr = '';
      npm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      npm.stdout.resume();
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        npm.on('exit', (code, signal) => resolve({ code, signal })),
      );
      try {
        for (let i = 0; i < 1200 && !stderr.includes('"event":"adapters.starting"') && npm.exitCode === null; i++)
          await sleep(100);
        expect(stderr).toContain('"event":"adapters.starting"');
        await sleep(500);
        const bot = Number(
          execFileSync('ps', ['-o', 'pid=', '--ppid', String(npm.pid)])
            .toString()
            .trim()
            .split('\n')[0],
        );
        process.kill(-npm.pid!, 'SIGTERM');
        // npm forwards its copy a few milliseconds later, unless the kernel merged it with the first while still
        // pending: send that copy ourselves, as npm does, so the duplicate is certain.
        await sleep(30);
        try {
          process.kill(bot, 'SIGTERM');
        } catch {
          // Already gone.
        }
        const outcome = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
        expect(outcome).toEqual({ code: 0, signal: null });
        expect(stderr).toContain('"event":"shutdown.done"');
        expect(stderr).not.toContain('"event":"shutdown.forced"');
      } finally {
        try {
          process.kill(-npm.pid!, 'SIGKILL');
        } catch {
          // The group is already gone.
        }
      }
    },
  );
});
