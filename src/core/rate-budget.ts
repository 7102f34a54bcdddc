import { RateLimiter } from './rate-limit.js';

/** What one kind of budget allows per key: at most `limit` takes in any window of `windowMs`. */
export interface BudgetSpec {
  /** Names the kind of budget; a key's stored name is `<name>:<key>` (e.g. `slack:chat.update:T0123`). */
  name: string;
  limit: number;
  windowMs: number;
  /**
   * A budget shared across processes is a token bucket: up to `burst` at once after a quiet spell, refilled at
   * `limit - burst` per window, so it too never exceeds `limit` in any window. Must be below `limit`; 1 means
   * evenly spaced. An in-process budget counts a sliding window exactly and does not need it.
   */
  burst: number;
}

export interface Grant {
  /** How many of the asked-for takes were granted (0 … count). */
  granted: number;
  /** When fewer were granted: ms until the next one could be (a pause included); 0 otherwise. */
  waitMs: number;
}

export interface TakeRequest {
  /** How many to take (default 1); as many as the budget allows are granted, up to this. */
  count?: number;
  /** Leave this many unused: a reserve only takes without `keep` may spend (a session's last message). */
  keep?: number;
}

/**
 * A per-key budget of platform calls (chat.update per workspace, posts per channel). In one process it is a
 * RateLimiter; with several replicas on one PostgreSQL it is a row per key (src/db/rate-budgets.ts), so the
 * replicas together stay within the platform's limit. Never rejects: a budget that cannot be reached grants
 * nothing and says when to ask again (a call not made is safer than a rate limit that blocks everyone).
 */
export interface RateBudget {
  take(key: string, request?: TakeRequest): Promise<Grant>;
  /** The platform said slow down (429, Retry-After): nothing is granted for this key for `ms`, on every replica. */
  pause(key: string, ms: number): Promise<void>;
}

/** Makes the budget of one kind; the app picks the implementation (in-process or PostgreSQL) by its database. */
export type RateBudgets = (spec: BudgetSpec) => RateBudget;

/** In-process budgets (one process: PGlite, tests, the console): the one rate limiter, a sliding window per key. */
export function localBudgets(now: () => number = Date.now): RateBudgets {
  return (spec) => {
    const limiter = new RateLimiter({ limit: spec.limit, windowMs: spec.windowMs, now });
    return {
      take(key, request = {}) {
        const count = request.count ?? 1;
        const options = { keep: request.keep ?? 0 };
        let granted = 0;
        while (granted < count && limiter.tryTake(key, options)) granted += 1;
        return Promise.resolve({ granted, waitMs: granted < count ? limiter.waitMs(key, options) : 0 });
      },
      pause(key, ms) {
        limiter.pause(key, ms);
        return Promise.resolve();
      },
    };
  };
}
