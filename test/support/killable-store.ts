import type { LiveSessionStore } from '../../src/core/live-session-store.js';

/**
 * A live-session store that dies with its process (SIGKILL): from then on every call fails, as if the database
 * were unreachable, and nothing is released.
 */
export function killable(store: LiveSessionStore): LiveSessionStore & { kill(): void } {
  let dead = false;
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      dead ? Promise.reject(new Error('process is gone')) : fn(...args);
  return {
    owner: store.owner,
    open: guard(store.open),
    renew: guard(store.renew),
    end: guard(store.end),
    release: guard(store.release),
    claimExpired: guard(store.claimExpired),
    requestStop: guard(store.requestStop),
    onStopRequested: store.onStopRequested,
    kill: () => void (dead = true),
  };
}
