export interface RateLimiterOptions {
  /** Takes allowed per key in any `windowMs`; without it only pauses limit (a gate for Retry-After). */
  limit?: number;
  windowMs?: number;
  now?: () => number;
}

export interface TakeOptions {
  /** Leave this many takes unused (a reserve only other callers may spend, e.g. a session's last message). */
  keep?: number;
  /** A lower limit for this take only (a caller's fair share of the window). */
  cap?: number;
}

/**
 * The one rate limiter: per key (a platform, a workspace, a session), at most `limit` takes in any window of
 * `windowMs`, like a bucket of `limit` tokens where each token spent comes back `windowMs` later; and a pause
 * (the platform said 429, Retry-After) during which nothing is taken. A sliding window rather than a refilling
 * bucket because platforms count calls per window: no burst can exceed the limit in any minute.
 */
export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #now: () => number;
  readonly #taken = new Map<string, number[]>();
  readonly #pausedUntil = new Map<string, number>();

  constructor(options: RateLimiterOptions = {}) {
    this.limit = options.limit ?? Number.POSITIVE_INFINITY;
    this.windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** The takes still inside the window; keys whose window emptied are forgotten so the map does not grow. */
  #recent(key: string): number[] {
    const cutoff = this.#now() - this.windowMs;
    const list = (this.#taken.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.#taken.delete(key);
    else this.#taken.set(key, list);
    return list;
  }

  #cap(options: TakeOptions): number {
    return Math.min(this.limit - (options.keep ?? 0), options.cap ?? Number.POSITIVE_INFINITY);
  }

  used(key: string): number {
    return this.#recent(key).length;
  }

  /** Milliseconds the key stays paused (0: not paused). */
  pausedMs(key: string): number {
    const left = (this.#pausedUntil.get(key) ?? 0) - this.#now();
    if (left <= 0) this.#pausedUntil.delete(key);
    return Math.max(0, left);
  }

  /** Takes one if the key is not paused and the window allows it. */
  tryTake(key: string, options: TakeOptions = {}): boolean {
    if (this.pausedMs(key) > 0) return false;
    const list = this.#recent(key);
    if (list.length >= this.#cap(options)) return false;
    if (Number.isFinite(this.limit)) this.#taken.set(key, [...list, this.#now()]);
    return true;
  }

  /** Milliseconds until `tryTake(key, options)` could succeed. */
  waitMs(key: string, options: TakeOptions = {}): number {
    const paused = this.pausedMs(key);
    const list = this.#recent(key);
    const cap = this.#cap(options);
    const full = list.length >= cap && cap > 0 ? list[list.length - cap]! + this.windowMs - this.#now() + 1 : 0;
    return Math.max(paused, full, 0);
  }

  /** The platform said slow down: nothing is taken for this key until `ms` have passed. */
  pause(key: string, ms: number): void {
    this.#pausedUntil.set(key, Math.max(this.#pausedUntil.get(key) ?? 0, this.#now() + ms));
  }

  /** Waits out a pause (bounded, in case the clock never moves), for callers that queue rather than skip. */
  async wait(key: string, sleep: (ms: number) => Promise<void>): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const ms = this.pausedMs(key);
      if (ms <= 0) return;
      await sleep(ms);
    }
  }
}
