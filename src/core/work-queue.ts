/**
 * Work that follows an acknowledgement (answering a command, drawing a chart) waits here for one of a fixed
 * number of slots, so a burst of 200 requests cannot flood the event loop and hold up the next acks. Kinds take
 * turns when a slot frees: a burst of `stats` queues behind itself, not in front of someone's `help`.
 * Kinds must be a small bounded set (route names): they become metric labels.
 */
export interface WorkQueue {
  run<T>(kind: string, task: () => Promise<T>): Promise<T>;
  /**
   * For work about to wait a long time on something outside the process, a platform's rate limit above all: while
   * `wait` runs, one more task may start. Without this, 16 answers each waiting out a minute's Retry-After held
   * every slot, and any other command waited with them. The waiting task then carries on (the queue may run over
   * its limit by as many tasks as came back from a wait, until tasks end). Meant for work running in a slot; called
   * outside one it still lets one more task start. Passed explicitly rather than found through AsyncLocalStorage,
   * whose promise hooks (Node 20) slowed every promise in the process, the acks' too.
   */
  whileWaiting<T>(wait: () => Promise<T>): Promise<T>;
  /** Tasks waiting for a slot, by kind (kinds with none waiting are left out). */
  waiting(): Map<string, number>;
  readonly running: number;
  /** Resolves once nothing is running or waiting. */
  idle(): Promise<void>;
}

export interface WorkQueueOptions {
  concurrency: number;
  /** Told how long each task waited for its slot (for the wait-time histogram). */
  onStart?: (kind: string, waitedMs: number) => void;
  now?: () => number;
}

interface Job {
  enqueuedAt: number;
  start: () => void;
}

export function createWorkQueue(options: WorkQueueOptions): WorkQueue {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw new Error('a work queue needs a concurrency of at least 1');
  const now = options.now ?? (() => performance.now());
  const queues = new Map<string, Job[]>();
  // Turn order: the kind served least recently goes next, even if it queued after a burst of another kind.
  const lastServed = new Map<string, number>();
  let turns = 0;
  let running = 0;
  /** Slots lent by tasks waiting outside the process (see whileWaiting). */
  let lent = 0;
  let idleWaiters: (() => void)[] = [];

  function next(): void {
    while (running < options.concurrency + lent) {
      let kind: string | undefined;
      for (const candidate of queues.keys())
        if (kind === undefined || (lastServed.get(candidate) ?? -1) < (lastServed.get(kind) ?? -1)) kind = candidate;
      if (kind === undefined) break;
      const jobs = queues.get(kind)!;
      const job = jobs.shift()!;
      if (jobs.length === 0) queues.delete(kind);
      lastServed.set(kind, turns++);
      running += 1;
      options.onStart?.(kind, now() - job.enqueuedAt);
      job.start();
    }
    if (running === 0 && queues.size === 0) {
      lastServed.clear();
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  return {
    run<T>(kind: string, task: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const job: Job = {
          enqueuedAt: now(),
          start: () => {
            // A task that throws synchronously still frees its slot. Started from the event loop's check phase, so
            // requests already waiting in its poll phase are acknowledged before more work begins.
            new Promise<void>((r) => setImmediate(r))
              .then(() => task())
              .then(resolve, reject)
              .finally(() => {
                running -= 1;
                next();
              });
          },
        };
        const jobs = queues.get(kind);
        if (jobs) jobs.push(job);
        else queues.set(kind, [job]);
        next();
      });
    },
    async whileWaiting<T>(wait: () => Promise<T>): Promise<T> {
      lent += 1;
      next();
      try {
        return await wait();
      } finally {
        lent -= 1;
      }
    },
    waiting: () => new Map([...queues].map(([kind, jobs]) => [kind, jobs.length])),
    get running() {
      return running;
    },
    idle: () =>
      running === 0 && queues.size === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r)),
  };
}
