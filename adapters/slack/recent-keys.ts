/**
 * Request keys seen lately by this process, checked synchronously before the ack: a replay to the same replica
 * is refused without a database round trip. Bounded in time (a signed request is valid for five minutes) and in
 * size (the oldest keys go first); the database record, written after the ack, covers other replicas and restarts.
 */
export interface RecentKeys {
  /** True the first time a key is added within its lifetime; false for a key already held. */
  add(key: string): boolean;
}

export function createRecentKeys(options: { ttlMs: number; maxEntries: number; now?: () => number }): RecentKeys {
  const now = options.now ?? Date.now;
  // Insertion order is arrival order, so expired keys are always at the front.
  const seenAt = new Map<string, number>();
  return {
    add(key) {
      const at = now();
      for (const [oldest, when] of seenAt) {
        if (at - when < options.ttlMs && seenAt.size < options.maxEntries) break;
        seenAt.delete(oldest);
      }
      if (seenAt.has(key)) return false;
      seenAt.set(key, at);
      return true;
    },
  };
}
