import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { DataDirError } from '../../src/db/data-dir.js';
import { botCommand, run, isolatedEnv, tempDataDir } from '../support/spawn.js';

describe('embedded database directory problems', () => {
  const temps: { cleanup: () => void }[] = [];
  afterEach(() => {
    for (const t of temps.splice(0)) t.cleanup();
  });
  const temp = () => {
    const t = tempDataDir();
    temps.push(t);
    return t.dir;
  };

  async function openError(dataDir: string): Promise<Error> {
    const error = await openDatabase({ driver: 'pglite', dataDir }).then(
      async (db) => {
        await db.close();
        return null;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataDirError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return error as Error;
  }

  it('a file where the directory should be: names it, says it is not a directory and what to do', async () => {
    const dir = temp();
    writeFileSync(path.join(dir, 'taken'), 'not a directory');
    const error = await openError(path.join(dir, 'taken', 'pgdata'));
    expect(error.message).toContain(path.join(dir, 'taken', 'pgdata'));
    expect(error.message).toContain('is not a directory');
    expect(error.message).toContain('move it aside or set BACKCARE_DATA_DIR');
  });

  it('a corrupt database directory: names it, says it may be corrupt, move it aside or set BACKCARE_DATA_DIR', async () => {
    const dir = path.join(temp(), 'pgdata');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'PG_VERSION'), 'garbage\n');
    writeFileSync(path.join(dir, 'postgresql.conf'), 'garbage\n');
    const error = await openError(dir);
    expect(error.message).toContain(`the embedded database in ${dir} could not be opened`);
    expect(error.message).toContain('corrupt');
    expect(error.message).toContain('move it aside or set BACKCARE_DATA_DIR');
  });

  // Root may write anywhere: the permission check only means something for an ordinary user.
  it.skipIf(process.getuid?.() === 0)('a read-only directory: names it and says it cannot be written', async () => {
    const dir = temp();
    chmodSync(dir, 0o555);
    try {
      const error = await openError(path.join(dir, 'pgdata'));
      expect(error.message).toContain(path.join(dir, 'pgdata'));
      expect(error.message).toMatch(/cannot (create|write to) the data directory/);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  // `mkdirSync(…, { recursive: true })` loops for ever on a missing directory under /proc: the start must fail at once.
  it.runIf(process.platform === 'linux')(
    'a data directory that cannot be created stops the real start at once with one line',
    { timeout: 120_000 },
    async () => {
      const result = await run(botCommand[0], botCommand[1], {
        env: isolatedEnv({
          BACKCARE_DATA_DIR: '/proc/backcare-test-missing/data',
          BACKCARE_ADAPTER: 'console',
          LOG_LEVEL: 'silent',
        }),
        timeoutMs: 90_000,
      });
      expect(result.code).toBe(1);
      const lines = result.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('cannot create the data directory /proc/backcare-test-missing/data');
      expect(lines[0]).toContain('set BACKCARE_DATA_DIR');
    },
  );
});
