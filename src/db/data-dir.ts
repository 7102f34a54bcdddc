import { accessSync, constants, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A data directory Backcare cannot use: one line naming the directory, the likely cause and what to do. */
export class DataDirError extends Error {
  override name = 'DataDirError';
}

const errnoCode = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : 'unknown error';
};

const isDirectory = (p: string): boolean | null => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return null;
  }
};

/**
 * Makes sure `dir` exists and is writable, creating it one level at a time: `mkdirSync(…, { recursive: true })`
 * spins for ever on some paths (a missing directory under /proc), where a plain mkdir fails at once.
 * `shown` is how the person wrote the path (e.g. ./.backcare), used in messages.
 */
export function prepareDataDir(dir: string, shown = dir): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    const state = isDirectory(existing);
    if (state === true) break;
    if (state === false) {
      const where = existing === target ? '' : ` (${existing} is a file)`;
      throw new DataDirError(`the data directory ${shown} is not a directory${where}: move it aside or set BACKCARE_DATA_DIR`);
    }
    missing.unshift(existing);
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      if (errnoCode(error) === 'EEXIST' && isDirectory(level)) continue;
      throw new DataDirError(`cannot create the data directory ${shown} (${errnoCode(error)} at ${level}): set BACKCARE_DATA_DIR to a directory you can write to`);
    }
  }
  try {
    accessSync(target, constants.W_OK);
  } catch (error) {
    throw new DataDirError(`cannot write to the data directory ${shown} (${errnoCode(error)}: read-only or not yours): fix its permissions or set BACKCARE_DATA_DIR`);
  }
}

/** The embedded database would not open: most likely corrupt, or written by another PGlite/PostgreSQL version. */
export function pgliteOpenError(dir: string, error: unknown): DataDirError {
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 160);
  return new DataDirError(
    `the embedded database in ${dir} could not be opened (${reason}); it may be corrupt or from another version: move it aside or set BACKCARE_DATA_DIR`,
    { cause: error },
  );
}

/** Another live process holds the data directory: PGlite is single-process, two bots would corrupt each other. */
export class DataDirBusyError extends DataDirError {
  override name = 'DataDirBusyError';
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else, which still counts as "in use".
    return errnoCode(error) === 'EPERM';
  }
};

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes `<dir>/backcare.lock` (created exclusively, holding our pid) so a second bot on the same embedded
 * database stops at once. A lock whose pid is gone (kill -9, a crash, a previous container where we had the
 * same pid) is taken over. Released on exit, however the process ends short of SIGKILL.
 */
export function lockDataDir(dir: string, shown = dir): DataDirLock {
  const file = path.join(path.resolve(dir), 'backcare.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST' || attempt >= 3) {
        throw new DataDirError(`cannot lock the data directory ${shown} (${errnoCode(error)}): fix its permissions or set BACKCARE_DATA_DIR`);
      }
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    } catch {
      // Removed between our attempt and this read: just try again.
      continue;
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new DataDirBusyError(`another Backcare is using ${shown}; stop it or set BACKCARE_DATA_DIR, or use DATABASE_URL for several processes`);
    }
    // Stale: its process is gone.
    rmSync(file, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      // Only our own lock: never remove one a later process has taken over.
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      // Already gone.
    }
  };
  process.on('exit', release);
  return { file, release };
}
