import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirBusyError, lockDataDir } from '../../src/db/data-dir.js';
import { botCommand, isolatedEnv, repoRoot, run, tempDataDir } from '../support/spawn.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one bot per embedded database directory', () => {
  // Starts from a migrated copy: the lock is the point here, not a first start (console.e2e covers that).
  const data = tempDataDir({ migrated: true });
  afterAll(() => data.cleanup());

  it(
    'a second start on the same BACKCARE_DATA_DIR exits 1 at once with one line; the first keeps running and frees the lock on exit',
    { timeout: 180_000 },
    async () => {
      const dir = data.dir;
      const first = spawn(botCommand[0], botCommand[1], {
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
        for (let i = 0; i < 900 && !firstErr.includes('"event":"adapters.starting"') && first.exitCode === null; i++)
          await sleep(100);
        expect(firstErr).toContain('"event":"adapters.starting"');
        expect(JSON.parse(readFileSync(path.join(dir, 'backcare.lock'), 'utf8'))).toMatchObject({
          pid: first.pid,
          host: hostname(),
        });

        const second = await run(botCommand[0], botCommand[1], {
          env: isolatedEnv({ BACKCARE_DATA_DIR: dir, BACKCARE_ADAPTER: 'console', LOG_LEVEL: 'info' }),
          input: 'help\n',
          timeoutMs: 90_000,
        });
        expect(second.code).toBe(1);
        expect(second.stderr).toBe(
          `another Backcare is using ${dir}; stop it or set BACKCARE_DATA_DIR, or use DATABASE_URL for several processes\n`,
        );
        expect(second.stdout).toBe('');
        expect(first.exitCode).toBeNull();

        first.kill('SIGTERM');
        expect(await Promise.race([firstExit, sleep(30_000).then(() => 'timeout')])).toBe(0);
        expect(existsSync(path.join(dir, 'backcare.lock'))).toBe(false);
      } finally {
        if (first.exitCode === null) first.kill('SIGKILL');
      }
    },
  );

  const BUSY =
    'another Backcare is using ./d; stop it or set BACKCARE_DATA_DIR, or use DATABASE_URL for several processes';
  let n = 0;
  /** A fresh directory holding a lock with these fields, its mtime `ageMs` in the past. */
  const withLock = (holder: { pid: number; host: string }, ageMs = 0) => {
    const dir = path.join(data.dir, `unit-${n++}`);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'backcare.lock');
    writeFileSync(file, `${JSON.stringify({ ...holder, startedAt: '2026-01-01T00:00:00.000Z' })}\n`);
    const at = new Date(Date.now() - ageMs);
    utimesSync(file, at, at);
    return { dir, file };
  };
  const deadPid = () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    return Number(gone.stdout.toString());
  };

  it('a same-host lock whose process is gone (kill -9) is taken over; a live same-host holder is refused', () => {
    const stale = withLock({ pid: deadPid(), host: hostname() });
    const lock = lockDataDir(stale.dir, './d');
    expect(JSON.parse(readFileSync(stale.file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
    expect(existsSync(stale.file)).toBe(false);

    // The parent of this test process is alive and is not us: its lock stands.
    const live = withLock({ pid: process.ppid, host: hostname() });
    expect(() => lockDataDir(live.dir, './d')).toThrow(DataDirBusyError);
    expect(() => lockDataDir(live.dir, './d')).toThrow(BUSY);
    expect(JSON.parse(readFileSync(live.file, 'utf8')).pid).toBe(process.ppid);
  });

  it('a lock from another host with a fresh heartbeat is refused, even when its pid is ours (every container is PID 1)', () => {
    const other = withLock({ pid: deadPid(), host: 'another-container' }, 5_000);
    expect(() => lockDataDir(other.dir, './d')).toThrow(BUSY);
    const samePid = withLock({ pid: process.pid, host: 'another-container' });
    expect(() => lockDataDir(samePid.dir, './d')).toThrow(BUSY);
    expect(JSON.parse(readFileSync(samePid.file, 'utf8')).host).toBe('another-container');
  });

  it('a lock from another host whose heartbeat stopped (mtime over 30 s old) is taken over', () => {
    const old = withLock({ pid: process.pid, host: 'another-container' }, 60_000);
    const lock = lockDataDir(old.dir, './d');
    expect(JSON.parse(readFileSync(old.file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
  });

  it('two takeovers of one stale lock at once: exactly one wins and its lock survives', () => {
    const stale = withLock({ pid: deadPid(), host: hostname() });
    let second: ReturnType<typeof lockDataDir> | undefined;
    // The second process judges and takes over while the first is between its judgement and its takeover.
    const first = () =>
      lockDataDir(stale.dir, './d', { beforeTakeover: () => (second ??= lockDataDir(stale.dir, './d')) });
    expect(first).toThrow(BUSY);
    expect(second).toBeDefined();
    const content = readFileSync(stale.file, 'utf8');
    expect(JSON.parse(content).pid).toBe(process.pid);
    expect(readdirSync(stale.dir)).toEqual(['backcare.lock']);
    second!.release();
    expect(existsSync(stale.file)).toBe(false);
  });
});
