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
): InstallationRecords {
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
