import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirBusyError, lockDataDir } from '../../src/db/data-dir.js';
import { isolatedEnv, repoRoot, run, tempDataDir } from '../support/spawn.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one bot per embedded database directory', () => {
  const data = tempDataDir();
  afterAll(() => data.cleanup());

  it('a second start on the same BACKCARE_DATA_DIR exits 1 at once with one line; the first keeps running and frees the lock on exit', { timeout: 180_000 }, async () => {
    const dir = path.join(data.dir, 'shared');
    const first = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: repoRoot,
      env: isolatedEnv({ BACKCARE_DATA_DIR: dir, BACKCARE_ADAPTER: 'console', LOG_LEVEL: 'info' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let firstErr = '';
    first.stderr.on('data', (chunk: Buffer) => (firstErr += chunk.toString()));
    first.stdout.resume();
    const firstExit = new Promise<number | null>((resolve) => first.on('exit', (code) => resolve(code)));
    try {
      // Running: the database is open and the console adapter is up (stdin stays open, like a terminal).
      for (let i = 0; i < 900 && !firstErr.includes('"event":"adapters.starting"') && first.exitCode === null; i++) await sleep(100);
      expect(firstErr).toContain('"event":"adapters.starting"');
      expect(readFileSync(path.join(dir, 'backcare.lock'), 'utf8').trim()).toBe(String(first.pid));

      const second = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: isolatedEnv({ BACKCARE_DATA_DIR: dir, BACKCARE_ADAPTER: 'console', LOG_LEVEL: 'info' }),
        input: 'help\n',
        timeoutMs: 90_000,
      });
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(`another Backcare is using ${dir}; stop it or set BACKCARE_DATA_DIR, or use DATABASE_URL for several processes\n`);
      expect(second.stdout).toBe('');
      expect(first.exitCode).toBeNull();

      first.kill('SIGTERM');
      expect(await Promise.race([firstExit, sleep(30_000).then(() => 'timeout')])).toBe(0);
      expect(existsSync(path.join(dir, 'backcare.lock'))).toBe(false);
    } finally {
      if (first.exitCode === null) first.kill('SIGKILL');
    }
  });

  it('a lock left by a process that is gone (kill -9) is taken over; a live holder is refused', () => {
    const dir = path.join(data.dir, 'stale');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(gone.stdout.toString());
    expect(deadPid).toBeGreaterThan(0);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'backcare.lock');
    writeFileSync(file, `${deadPid}\n`);
    const lock = lockDataDir(dir, './stale');
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(file)).toBe(false);

    // The parent of this test process is alive and is not us: its lock stands.
    writeFileSync(file, `${process.ppid}\n`);
    expect(() => lockDataDir(dir, './stale')).toThrow(DataDirBusyError);
    expect(() => lockDataDir(dir, './stale')).toThrow('another Backcare is using ./stale; stop it or set BACKCARE_DATA_DIR, or use DATABASE_URL for several processes');
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.ppid));
  });
});
