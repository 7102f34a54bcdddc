/**
 * The pace a platform showed it accepts. Until the first 429 calls go as fast as the workers ask; a 429 means the
 * burst met the platform's limit, so from then on calls start no faster than 90 % of what was getting through in
 * the window before it (lower again on each further 429). Without it every second of a large fan-out met the
 * limit afresh and every send in flight got a 429 (`npm run bench -- nudges --only slack`: 1.15 Web API calls per
 * nudge). The pace is forgotten after a quiet while: the limit that caused it (a burst of the workspace's own,
 * another app's traffic) may have passed.
 *
 * The window is a second for sends (chat.postMessage is limited per second) and a minute for the reads reconcile
 * makes (Slack's conversations.history is limited per minute, to one a minute for some apps: a per-second pace
 * could not go below 60 a minute).
 */
export interface LearnedPace {
  /**
   * Waits until a call may start on this platform, and counts it. False, without waiting, when that turn would
   * come after `deadline` (epoch ms): the caller leaves the call for later.
   */
  turn(platform: string, deadline?: number): Promise<boolean>;
  /** A call was answered. */
  accepted(platform: string): void;
  /** A call met the platform's rate limit. */
  limited(platform: string): void;
  /** Calls a window now allowed (undefined: not paced). */
  perWindow(platform: string): number | undefined;
}

/** How long a learned pace holds after its last 429. */
const FORGET_AFTER_MS = 5 * 60_000;

interface PlatformPace {
  starts: number[];
  accepts: number[];
  perWindow?: number;
  limitedAt?: number;
}

export function createLearnedPace(options: {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** The span the platform counts calls over (default a second). */
  windowMs?: number;
}): LearnedPace {
  const { now, sleep } = options;
  const windowMs = options.windowMs ?? 1000;
  const platforms = new Map<string, PlatformPace>();
  const of = (platform: string): PlatformPace => {
    let pace = platforms.get(platform);
    if (!pace) platforms.set(platform, (pace = { starts: [], accepts: [] }));
    const cutoff = now() - windowMs;
    pace.starts = pace.starts.filter((t) => t > cutoff);
    pace.accepts = pace.accepts.filter((t) => t > cutoff);
    if (pace.limitedAt !== undefined && now() - pace.limitedAt > FORGET_AFTER_MS) {
      delete pace.perWindow;
      delete pace.limitedAt;
    }
    return pace;
  };
  return {
    async turn(platform, deadline = Number.POSITIVE_INFINITY) {
      // Bounded: a clock that never moves must not hold a worker for ever.
      for (let i = 0; i < 1000; i++) {
        const pace = of(platform);
        if (pace.perWindow === undefined || pace.starts.length < pace.perWindow) {
          pace.starts.push(now());
          return true;
        }
        const wait = Math.max(1, pace.starts[pace.starts.length - pace.perWindow]! + windowMs - now() + 1);
        if (now() + wait > deadline) return false;
        await sleep(wait);
      }
      return false;
    },
    accepted(platform) {
      of(platform).accepts.push(now());
    },
    limited(platform) {
      const pace = of(platform);
      // The calls in flight when the limit is met all come back 429: one lowering per window, not one each.
      if (pace.limitedAt !== undefined && now() - pace.limitedAt < windowMs) return;
      const through = Math.floor(pace.accepts.length * 0.9);
      const lowered = pace.perWindow === undefined ? through : Math.min(through, Math.floor(pace.perWindow * 0.8));
      pace.perWindow = Math.max(1, lowered);
      pace.limitedAt = now();
    },
    perWindow: (platform) => of(platform).perWindow,
  };
}
