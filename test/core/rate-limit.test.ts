import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/core/rate-limit.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('RateLimiter', () => {
  it('allows at most `limit` takes in any window; each take comes back one window after it was made', () => {
    const c = clock();
    const limiter = new RateLimiter({ limit: 3, windowMs: 1000, now: c.now });
    expect([1, 2, 3, 4].map(() => limiter.tryTake('k'))).toEqual([true, true, true, false]);
    c.advance(400);
    expect(limiter.tryTake('k')).toBe(false);
    expect(limiter.waitMs('k')).toBe(601);
    c.advance(599);
    expect(limiter.tryTake('k')).toBe(false);
    c.advance(1);
    expect([1, 2, 3, 4].map(() => limiter.tryTake('k'))).toEqual([true, true, true, false]);
  });

  it('keys are independent', () => {
    const c = clock();
    const limiter = new RateLimiter({ limit: 1, windowMs: 1000, now: c.now });
    expect(limiter.tryTake('a')).toBe(true);
    expect(limiter.tryTake('a')).toBe(false);
    expect(limiter.tryTake('b')).toBe(true);
    expect([limiter.used('a'), limiter.used('b'), limiter.used('c')]).toEqual([1, 1, 0]);
  });

  it('`keep` leaves a reserve that only takes without it may spend; `cap` lowers the limit for one take', () => {
    const c = clock();
    const limiter = new RateLimiter({ limit: 5, windowMs: 60_000, now: c.now });
    const frames = [1, 2, 3, 4].map(() => limiter.tryTake('ws', { keep: 2 }));
    expect(frames).toEqual([true, true, true, false]);
    expect(limiter.waitMs('ws', { keep: 2 })).toBe(60_001);
    expect(limiter.waitMs('ws')).toBe(0);
    expect(limiter.tryTake('ws')).toBe(true);
    expect(limiter.tryTake('ws')).toBe(true);
    expect(limiter.tryTake('ws')).toBe(false);

    const shares = new RateLimiter({ limit: 100, windowMs: 60_000, now: c.now });
    expect([1, 2, 3].map(() => shares.tryTake('s', { cap: 2.5 }))).toEqual([true, true, true]);
    expect(shares.tryTake('s', { cap: 2.5 })).toBe(false);
  });

  it('a pause refuses every take for its key until it lifts, limit or not', () => {
    const c = clock();
    const limiter = new RateLimiter({ limit: 10, windowMs: 1000, now: c.now });
    limiter.pause('slack', 30_000);
    limiter.pause('slack', 5_000); // a shorter Retry-After does not shorten the pause
    expect(limiter.tryTake('slack')).toBe(false);
    expect(limiter.tryTake('discord')).toBe(true);
    expect(limiter.pausedMs('slack')).toBe(30_000);
    expect(limiter.waitMs('slack')).toBe(30_000);
    c.advance(30_000);
    expect(limiter.pausedMs('slack')).toBe(0);
    expect(limiter.tryTake('slack')).toBe(true);

    const gate = new RateLimiter({ now: c.now });
    expect(Array.from({ length: 1000 }, () => gate.tryTake('p')).every(Boolean)).toBe(true);
    gate.pause('p', 10);
    expect(gate.tryTake('p')).toBe(false);
  });

  it('wait() sleeps until the pause lifts (what the scheduler does before each send), and not at all when free', async () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      c.advance(ms);
    };
    await limiter.wait('slack', sleep);
    expect(slept).toEqual([]);
    limiter.pause('slack', 12_000);
    await limiter.wait('slack', sleep);
    expect(slept).toEqual([12_000]);
    expect(limiter.tryTake('slack')).toBe(true);

    // A clock that never moves cannot hang the caller: the wait gives up after a bounded number of sleeps.
    limiter.pause('stuck', 1000);
    let sleeps = 0;
    await limiter.wait('stuck', async () => void (sleeps += 1));
    expect(sleeps).toBe(100);
  });
});
