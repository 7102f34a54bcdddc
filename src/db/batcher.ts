/**
 * Group commit for small statements: calls made while earlier groups are in flight wait and then go out together
 * as one call of `run` (a multi-row statement). Under a burst, 200 callers then cost a few round trips instead of
 * 200, so a pool of 10 connections with a slow database is no longer what limits them (10 connections doing k
 * round trips of 250 ms each serve at most 10/(k*0.25) callers a second); a lone caller waits for nothing but the
 * microtasks already queued.
 */
export interface BatcherOptions<In, Out> {
  /** One result per item, in the same order. */
  run: (items: readonly In[]) => Promise<Out[]>;
  /** Largest group (bound parameters and statement size); default 200. */
  maxBatch?: number;
  /** Groups running at once (each holds a pooled connection); default 2. */
  maxInFlight?: number;
}

export function createBatcher<In, Out>(options: BatcherOptions<In, Out>): (item: In) => Promise<Out> {
  const maxBatch = options.maxBatch ?? 200;
  const maxInFlight = options.maxInFlight ?? 2;
  let queue: { item: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;

  async function runGroup(group: typeof queue): Promise<void> {
    try {
      const results = await options.run(group.map((g) => g.item));
      if (results.length !== group.length) throw new Error(`batch returned ${results.length} of ${group.length}`);
      group.forEach((g, i) => g.resolve(results[i]!));
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      // One bad item must not fail the others: each goes again on its own and gets its own error.
      await Promise.all(
        group.map((g) =>
          options
            .run([g.item])
            .then(
              (out) => (out.length === 1 ? g.resolve(out[0]!) : g.reject(new Error('batch of one returned no row'))),
              g.reject,
            ),
        ),
      );
    }
  }

  function flush(): void {
    scheduled = false;
    while (inFlight < maxInFlight && queue.length > 0) {
      const group = queue.slice(0, maxBatch);
      queue = queue.slice(maxBatch);
      inFlight += 1;
      void runGroup(group).finally(() => {
        inFlight -= 1;
        if (queue.length > 0) flush();
      });
    }
  }

  return (item) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      // Callers arriving before the current microtasks are done share the group; later ones queue behind the
      // groups in flight. A microtask, not setImmediate: no timer, so a test's fake timers cannot hold it back.
      if (!scheduled && inFlight < maxInFlight) {
        scheduled = true;
        queueMicrotask(flush);
      }
    });
}

/** One batcher per database handle (the pool, a test's database), created on first use. */
export function batcherPer<Key extends object, In, Out>(
  make: (key: Key) => (item: In) => Promise<Out>,
): (key: Key) => (item: In) => Promise<Out> {
  const batchers = new WeakMap<Key, (item: In) => Promise<Out>>();
  return (key) => {
    let batcher = batchers.get(key);
    if (!batcher) {
      batcher = make(key);
      batchers.set(key, batcher);
    }
    return batcher;
  };
}
