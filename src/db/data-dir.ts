import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
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
      throw new DataDirError(
        `the data directory ${shown} is not a directory${where}: move it aside or set BACKCARE_DATA_DIR`,
      );
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
      throw new DataDirError(
        `cannot create the data directory ${shown} (${errnoCode(error)} at ${level}): set BACKCARE_DATA_DIR to a directory you can write to`,
      );
    }
  }
  try {
    accessSync(target, constants.W_OK);
  } catch (error) {
    throw new DataDirError(
      `cannot write to the data directory ${shown} (${errnoCode(error)}: read-only or not yours): fix its permissions or set BACKCARE_DATA_DIR`,
    );
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

/** The holder touches its lock this often; a lock untouched for LOCK_STALE_MS has no live holder anywhere. */
const LOCK_HEARTBEAT_MS = 10_000;
const LOCK_STALE_MS = 30_000;
const LOCK_ATTEMPTS = 5;

interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

const parseHolder = (raw: string): LockHolder | null => {
  try {
    const value = JSON.parse(raw) as Partial<LockHolder> | null;
    if (value && Number.isInteger(value.pid) && typeof value.host === 'string' && typeof value.startedAt === 'string') {
      return { pid: value.pid!, host: value.host, startedAt: value.startedAt };
    }
  } catch {
    // Not ours (an older plain-pid lock, or one being written right now): judged by its age alone.
  }
  return null;
};

/** Lock contents this process holds right now: our own pid on our own host is then live, not a crashed predecessor. */
const held = new Set<string>();

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

export interface LockDataDirHooks {
  /** Runs after a lock was judged stale and before it is taken over (lets tests interleave two takeovers). */
  beforeTakeover?: () => void;
}

/**
 * Takes `<dir>/backcare.lock` (created exclusively, holding {pid, host, startedAt}) so a second bot on the same
 * embedded database stops at once. The holder touches it every 10 s. A pid alone cannot tell who holds it: in
 * Docker every bot is PID 1 and a pid from another container's namespace looks dead. So a lock is stale only
 * when its heartbeat stopped (untouched for 30 s), or when it is from this host and its pid is gone or is ours
 * (a restart after a crash, not something we hold). Released on exit, however the process ends short of SIGKILL.
 */
export function lockDataDir(dir: string, shown = dir, hooks: LockDataDirHooks = {}): DataDirLock {
  const file = path.join(path.resolve(dir), 'backcare.lock');
  const me = hostname();
  const content = `${JSON.stringify({ pid: process.pid, host: me, startedAt: new Date().toISOString() })}\n`;
  const busy = () =>
    new DataDirBusyError(
      `another Backcare is using ${shown}; stop it or set BACKCARE_DATA_DIR, or use DATABASE_URL for several processes`,
    );
  let acquired = false;
  for (let attempt = 0; attempt < LOCK_ATTEMPTS && !acquired; attempt++) {
    try {
      writeFileSync(file, content, { flag: 'wx' });
      acquired = true;
      break;
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') {
        throw new DataDirError(
          `cannot lock the data directory ${shown} (${errnoCode(error)}): fix its permissions or set BACKCARE_DATA_DIR`,
        );
      }
    }
    let raw: string;
    let mtimeMs: number;
    try {
      raw = readFileSync(file, 'utf8');
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      // Removed between our attempt and this read: just try again.
      continue;
    }
    const holder = parseHolder(raw);
    const heartbeatStopped = Date.now() - mtimeMs > LOCK_STALE_MS;
    const deadHere =
      holder !== null && holder.host === me && !held.has(raw) && (holder.pid === process.pid || !alive(holder.pid));
    if (!heartbeatStopped && !deadHere) throw busy();

    hooks.beforeTakeover?.();
    // Take over by renaming (atomic): of several processes judging the same stale lock, exactly one moves it.
    // Deleting it instead could delete the fresh lock another one created in between.
    const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(file, aside);
    } catch {
      continue;
    }
    let moved: string | null = null;
    try {
      moved = readFileSync(aside, 'utf8');
    } catch {
      // Vanished: nothing to compare, start over.
    }
    if (moved !== raw) {
      // We moved a lock someone created after our judgement: put it back unless a newer one already stands
      // (link never overwrites), then judge again from the start.
      try {
        linkSync(aside, file);
      } catch {
        // Another lock is already in place.
      }
    }
    try {
      unlinkSync(aside);
    } catch {
      // Already gone.
    }
  }
  if (!acquired) {
    throw new DataDirError(
      `cannot lock the data directory ${shown}: its lock kept changing while several processes started; start one Backcare at a time or set BACKCARE_DATA_DIR`,
    );
  }
  held.add(content);
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      // Gone or unwritable: the next start judges it by its age.
    }
  }, LOCK_HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    held.delete(content);
    process.off('exit', release);
    try {
      // Only our own lock: never remove one a later process has taken over.
      if (readFileSync(file, 'utf8') === content) unlinkSync(file);
    } catch {
      // Already gone.
    }
  };
  process.on('exit', release);
  return { file, release };
}
