import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Charts and CSVs only need to live until the adapter has uploaded them. */
const KEEP_MS = 60 * 60 * 1000;

export const defaultStatsDir = () => path.join(tmpdir(), 'backcare-charts');

/**
 * Writes a chart or export where adapters can pick it up for upload, under an unguessable name;
 * files of ours older than an hour are removed on the way.
 */
export async function writeStatsFile(
  directory: string,
  extension: 'png' | 'csv',
  data: Buffer | string,
  now: Date,
): Promise<string> {
  await mkdir(directory, { recursive: true });
  for (const name of await readdir(directory)) {
    if (!/^stats-[\w-]+\.(png|csv)$/.test(name)) continue;
    const file = path.join(directory, name);
    const info = await stat(file).catch(() => null);
    if (info && now.getTime() - info.mtimeMs > KEEP_MS) await unlink(file).catch(() => undefined);
  }
  const file = path.join(directory, `stats-${now.getTime()}-${randomBytes(6).toString('hex')}.${extension}`);
  await writeFile(file, data);
  return file;
}
