import { describe, expect, it } from 'vitest';
import { createLearnedPace } from '../../src/jobs/learned-pace.js';

/** A clock the test moves; sleeping moves it. */
function clock() {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => t,
    advance: (ms: number) => void (t += ms),
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

describe('learned send pace', () => {
  it('sends freely until the first 429, then at 90 % of what was getting through, lowered once per burst of 429s', async () => {
    const c = clock();
    const pace = createLearnedPace(c);
    for (let i = 0; i < 50; i++) {
      await pace.turn('slack');
      pace.accepted('slack');
    }
    expect(c.slept).toEqual([]);
    expect(pace.perWindow('slack')).toBeUndefined();
    // Eight sends in flight meet the limit together: one lowering, not eight.
    for (let i = 0; i < 8; i++) pace.limited('slack');
    expect(pace.perWindow('slack')).toBe(45);
    c.advance(1001);
    for (let i = 0; i < 45; i++) await pace.turn('slack');
    expect(c.slept).toEqual([]);
    await pace.turn('slack');
    expect(c.slept).toHaveLength(1);
    // Other platforms are not slowed.
    expect(pace.perWindow('discord')).toBeUndefined();
  });

  it('a 429 while paced lowers the pace further; a quiet five minutes forgets it', () => {
    const c = clock();
    const pace = createLearnedPace(c);
    for (let i = 0; i < 100; i++) pace.accepted('slack');
    pace.limited('slack');
    expect(pace.perWindow('slack')).toBe(90);
    c.advance(2000);
    for (let i = 0; i < 90; i++) pace.accepted('slack');
    pace.limited('slack');
    expect(pace.perWindow('slack')).toBe(72);
    c.advance(5 * 60_000 + 1);
    expect(pace.perWindow('slack')).toBeUndefined();
  });

  it('over a minute window it learns a per-minute limit, down to one a minute; a turn past the deadline is refused without waiting', async () => {
    const c = clock();
    const pace = createLearnedPace({ ...c, windowMs: 60_000 });
    // Four calls start at once: one a minute gets through, the other three meet the limit.
    for (let i = 0; i < 4; i++) await pace.turn('slack');
    pace.accepted('slack');
    for (let i = 0; i < 3; i++) pace.limited('slack');
    expect(pace.perWindow('slack')).toBe(1);
    expect(c.slept).toEqual([]);
    // The next turn is a minute after the last start: refused if that is past the deadline, waited for if not.
    expect(await pace.turn('slack', c.now() + 30_000)).toBe(false);
    expect(c.slept).toEqual([]);
    expect(await pace.turn('slack', c.now() + 61_000)).toBe(true);
    expect(c.slept).toEqual([60_001]);
    // A second turn in that minute waits for the next.
    expect(await pace.turn('slack', c.now() + 30_000)).toBe(false);
  });
});
