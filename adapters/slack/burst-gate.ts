/** Nothing new for this long after the last ack: the burst is over (200 requests sent at once come < 15 ms apart). */
const BURST_QUIET_MS = 30;
/**
 * How long a burst holds work back while it is acknowledged, counted from its first request: well inside a modal
 * trigger's 3 s, and long enough for 200 requests (0.15-0.35 s here with the event loop free). Traffic that goes
 * on longer is steady, not a burst: work then runs beside it.
 */
export const BURST_MAX_MS = 1000;

/**
 * What the HTTP receiver knows about bursts: how many requests wait for their ack, when the last connection or
 * request arrived, and when the burst under way began. Work after the acks waits here (`wait`), so a burst is
 * acknowledged before the work it asked for competes with it: measured, 200 requests sent at once reach the
 * handler over 0.15 s while the event loop is free, but over 1-2 s while work fills it with 30-80 ms turns, since
 * the rest of the burst waits in the kernel's queue meanwhile.
 */
export class BurstGate {
  private unanswered = 0;
  private lastArrival = -Infinity;
  private lastRequest = -Infinity;
  private burstSince: number | null = null;
  private waiters: (() => void)[] = [];
  private recheck: NodeJS.Timeout | undefined;
  private staggered = false;
  private quiet = BURST_QUIET_MS;
  private maxBurst = Infinity;

  /** A connection (the first sign of a request, before it is read) or a request. */
  arrived(): void {
    const now = performance.now();
    if (this.burstSince === null || this.quietNow(now)) this.burstSince = now;
    this.lastArrival = now;
  }

  /** A request to acknowledge: returns how long after the previous request it came. */
  requestArrived(): number {
    this.arrived();
    const now = performance.now();
    const sincePrevious = now - this.lastRequest;
    this.lastRequest = now;
    this.unanswered += 1;
    return sincePrevious;
  }

  answered(): void {
    this.unanswered -= 1;
    if (this.unanswered === 0) this.wakeOrWait();
  }

  get waitingForAcks(): number {
    return this.unanswered;
  }

  /** Whether anything arrived after `at` (a `performance.now()` time). */
  arrivedSince(at: number): boolean {
    return this.lastArrival > at;
  }

  /** A request that came this soon after the previous one is part of a burst. */
  closeBehind(sincePrevious: number): boolean {
    return sincePrevious < this.quiet;
  }

  /**
   * Resolves once the burst is over: every request that arrived has its ack and none arrived for `quietMs`, or
   * once the burst has lasted `maxMs` (traffic that long is steady, not a burst: work then runs beside it until the
   * next quiet moment). Waiters wake one per turn of the event loop: sixteen woken together ran their first steps
   * in one long turn, and a request arriving meanwhile waited for all of them.
   */
  wait(maxMs: number, quietMs = BURST_QUIET_MS): Promise<void> {
    this.quiet = quietMs;
    this.maxBurst = maxMs;
    if (this.waiters.length === 0 && this.over(performance.now())) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.wakeOrWait();
    });
  }

  /** Stopping: nothing waits for a burst any more (work and replay records go ahead; the stop would wait on them). */
  close(): void {
    this.stopRechecking();
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private stopRechecking(): void {
    clearTimeout(this.recheck);
    this.recheck = undefined;
  }

  private quietNow(now: number): boolean {
    return this.unanswered === 0 && now - this.lastArrival >= this.quiet;
  }

  private over(now: number): boolean {
    if (this.quietNow(now)) return true;
    return this.burstSince !== null && now - this.burstSince >= this.maxBurst;
  }

  /** Wakes a waiter if the burst is over, else looks again when it could be (an ack also looks at once). */
  private wakeOrWait(): void {
    if (this.waiters.length === 0) return;
    const now = performance.now();
    if (this.over(now)) {
      this.stopRechecking();
      this.waiters.shift()!();
      if (this.waiters.length > 0 && !this.staggered) {
        this.staggered = true;
        setImmediate(() => {
          this.staggered = false;
          this.wakeOrWait();
        });
      }
      return;
    }
    if (this.recheck) return;
    const untilQuiet = this.unanswered === 0 ? this.lastArrival + this.quiet - now : Infinity;
    const untilMax = this.burstSince === null ? Infinity : this.burstSince + this.maxBurst - now;
    this.recheck = setTimeout(
      () => {
        this.recheck = undefined;
        this.wakeOrWait();
      },
      Math.max(1, Math.ceil(Math.min(untilQuiet, untilMax, this.quiet))),
    );
  }
}
