import type { InstallationRecords } from '../../src/core/ports.js';

export interface InstallationCacheOptions {
  /** Installations kept at most (least recently used go first). */
  maxEntries?: number;
  /**
   * How long a cached installation is trusted. Removal and reinstall on this replica update the cache at once;
   * the TTL only bounds how long another replica's uninstall can go unnoticed here.
   */
  ttlMs?: number;
  now?: () => number;
}

const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_TTL_MS = 5 * 60 * 1000;

interface Entry {
  loaded: Promise<unknown>;
  at: number;
}

/**
 * Installation records with a small in-memory cache in front: Bolt authorizes every request before its ack, so
 * without it each ack waits for a database read. Concurrent misses for one workspace share one read; saving or
 * removing an installation replaces or drops the cached one before the database is touched, so a read that was
 * in flight then cannot put a stale installation back. Only installations found are kept: a workspace without
 * one is read again next time (an install on another replica must work at once).
 */
export function cacheInstallationRecords(
  records: InstallationRecords,
  options: InstallationCacheOptions = {},
): InstallationRecords & {
  /**
   * Fills the cache with the most recently updated installations (as many as it holds), so that the first ack
   * after a start or a deploy does not wait for a database read either. Returns how many were loaded.
   */
  warm(): Promise<number>;
} {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recently used.
  const entries = new Map<string, Entry>();

  function remember(key: string, entry: Entry): void {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  }

  return {
    async warm() {
      const found = (await records.recent?.(maxEntries)) ?? [];
      // Oldest first, so the most recently updated end up the most recently used.
      for (const record of [...found].reverse())
        if (!entries.has(record.installKey))
          remember(record.installKey, { loaded: Promise.resolve(record.installation), at: now() });
      return found.length;
    },
    load(installKey) {
      const cached = entries.get(installKey);
      if (cached && now() - cached.at < ttlMs) {
        remember(installKey, cached);
        return cached.loaded;
      }
      const entry: Entry = { loaded: records.load(installKey), at: now() };
      remember(installKey, entry);
      const forget = () => {
        // Only this read's entry: a save or removal since then has already replaced it.
        if (entries.get(installKey) === entry) entries.delete(installKey);
      };
      entry.loaded.then((found) => (found === null ? forget() : undefined), forget);
      return entry.loaded;
    },
    async save(record) {
      entries.delete(record.installKey);
      await records.save(record);
      remember(record.installKey, { loaded: Promise.resolve(record.installation), at: now() });
    },
    async remove(installKey) {
      entries.delete(installKey);
      await records.remove(installKey);
      // A read that started during the delete may have cached the row it was about to remove.
      entries.delete(installKey);
    },
  };
}
