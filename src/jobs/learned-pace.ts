/**
 * The pace a platform showed it accepts. Until the first 429 sends go as fast as the workers ask; a 429 means the
 * burst met the platform's limit, so from then on sends start no faster than 90 % of what was getting through in
 * the second before it (lower again on each further 429). Without it every second of a large fan-out met the
 * limit afresh and every send in flight got a 429 (`npm run bench -- nudges --only slack`: 1.15 Web API calls per
 * nudge). The pace is forgotten after a quiet while: the limit that caused it (a burst of the workspace's own,
 * another app's traffic) may have passed.
 */
export interface LearnedPace {
  /** Waits until a send may start on this platform, and counts it. */
  turn(platform: string): Promise<void>;
  /** A send was accepted. */
  accepted(platform: string): void;
  /** A send met the platform's rate limit. */
  limited(platform: string): void;
  /** Sends a second now allowed (undefined: not paced). */
  perSecond(platform: string): number | undefined;
}

const WINDOW_MS = 1000;
/** How long a learned pace holds after its last 429. */
const FORGET_AFTER_MS = 5 * 60_000;

interface PlatformPace {
  starts: number[];
  accepts: number[];
  perSecond?: number;
  limitedAt?: number;
}

export function createLearnedPace(options: { now: () => number; sleep: (ms: number) => Promise<void> }): LearnedPace {
  const { now, sleep } = options;
  const platforms = new Map<string, PlatformPace>();
  const of = (platform: string): PlatformPace => {
    let pace = platforms.get(platform);
    if (!pace) platforms.set(platform, (pace = { starts: [], accepts: [] }));
    const cutoff = now() - WINDOW_MS;
    pace.starts = pace.starts.filter((t) => t > cutoff);
    pace.accepts = pace.accepts.filter((t) => t > cutoff);
    if (pace.limitedAt !== undefined && now() - pace.limitedAt > FORGET_AFTER_MS) {
      delete pace.perSecond;
      delete pace.limitedAt;
    }
    return pace;
  };
  return {
    async turn(platform) {
      // Bounded: a clock that never moves must not hold a worker for ever.
      for (let i = 0; i < 1000; i++) {
        const pace = of(platform);
        if (pace.perSecond === undefined || pace.starts.length < pace.perSecond) {
          pace.starts.push(now());
          return;
        }
        await sleep(Math.max(1, pace.starts[pace.starts.length - pace.perSecond]! + WINDOW_MS - now() + 1));
      }
    },
    accepted(platform) {
      of(platform).accepts.push(now());
    },
    limited(platform) {
      const pace = of(platform);
      // The sends in flight when the limit is met all come back 429: one lowering per window, not one each.
      if (pace.limitedAt !== undefined && now() - pace.limitedAt < WINDOW_MS) return;
      const through = Math.floor(pace.accepts.length * 0.9);
      const lowered = pace.perSecond === undefined ? through : Math.min(through, Math.floor(pace.perSecond * 0.8));
      pace.perSecond = Math.max(1, lowered);
      pace.limitedAt = now();
    },
    perSecond: (platform) => of(platform).perSecond,
  };
}
