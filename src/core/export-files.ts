import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Data export files, one directory per person named by their internal user id (`user-42/`): a person's files
 * can be found and deleted with their data, and no name, platform id or health answer is in any path.
 */
const personDir = /^user-(\d+)$/;

function exportDirOf(dir: string, userId: number): string {
  if (!Number.isSafeInteger(userId) || userId < 0) throw new Error('export directory needs an internal user id');
  return path.join(dir, `user-${userId}`);
}

/** Writes the export where only this process's user can read it; the retention job removes old files. */
export async function writeExportFile(dir: string, userId: number, data: unknown): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const own = exportDirOf(dir, userId);
  await mkdir(own, { recursive: true, mode: 0o700 });
  const file = path.join(own, `${randomUUID()}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** Deletes every export file of one person (forget-me, admin forget). Returns how many files went. */
export async function deleteExportFiles(dir: string, userId: number): Promise<number> {
  const own = exportDirOf(dir, userId);
  const names = await readdir(own).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  await rm(own, { recursive: true, force: true });
  return names.filter((n) => n.endsWith('.json')).length;
}

/**
 * Removes export files older than `maxAgeHours` (they hold personal data), in the per-person directories and any
 * left at the top level by older versions; a person's directory goes once empty. Returns how many files went.
 */
export async function purgeOldExportFiles(dir: string, now: Date, maxAgeHours: number): Promise<number> {
  const purge = async (folder: string): Promise<{ removed: number; left: number }> => {
    let removed = 0;
    let left = 0;
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const file = path.join(folder, name);
      const info = await stat(file).catch(() => null);
      if (!info) continue;
      if (info.isDirectory()) {
        if (folder !== dir || !personDir.test(name)) {
          left += 1;
          continue;
        }
        const inner = await purge(file);
        removed += inner.removed;
        if (inner.left === 0) await rmdir(file).catch(() => undefined);
        else left += 1;
        continue;
      }
      if (name.endsWith('.json') && now.getTime() - info.mtimeMs > maxAgeHours * 3_600_000) {
        await unlink(file).catch(() => undefined);
        removed += 1;
      } else left += 1;
    }
    return { removed, left };
  };
  return (await purge(dir)).removed;
}
