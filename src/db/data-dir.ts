import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
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
