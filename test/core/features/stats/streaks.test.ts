import { describe, expect, it } from 'vitest';
import {
  HISTORY_WEEKS,
  WEEKS_PER_WORD,
  medianStreaks,
  type PersonWeeks,
} from '../../../../src/core/features/stats/streaks.js';
import { STREAK_WINDOW_DAYS } from '../../../../src/core/features/stats/weeks.js';
import { prng } from '../../../support/prng.js';

/** The definition, walked day by day: the oracle the one-pass version is held to. */
function referenceMedians(people: readonly PersonWeeks[], weeks: number, today: number): (number | null)[] {
  const perWeek: number[][] = Array.from({ length: weeks }, () => []);
  const days = (HISTORY_WEEKS + weeks) * 7;
  for (const { workingDays, doneWords } of people) {
    const done = (day: number) => {
      const week = Math.floor(day / 7);
      return ((doneWords[Math.floor(week / WEEKS_PER_WORD)] ?? 0) >>> (7 * (week % WEEKS_PER_WORD) + (day % 7))) & 1;
    };
    const working = (day: number) => (workingDays >> (day % 7)) & 1;
    for (let w = 0; w < weeks; w += 1) {
      const start = (HISTORY_WEEKS + w) * 7;
      if (![0, 1, 2, 3, 4, 5, 6].some((d) => done(start + d))) continue;
      const last = Math.min(start + 6, today);
      let cap = 0;
      for (let day = last; day > last - STREAK_WINDOW_DAYS; day -= 1) cap += working(day);
      const grace = last === today && working(last) === 1 && done(last) === 0;
      let streak = 0;
      for (let day = grace ? last - 1 : last; day >= 0 && day < days && streak < cap; day -= 1) {
        if (!working(day)) continue;
        if (!done(day)) break;
        streak += 1;
      }
      perWeek[w]!.push(streak);
    }
  }
  return perWeek.map((values) => {
    if (values.length === 0) return null;
    const sorted = [...values].sort((a, b) => a - b);
    const mid = (sorted.length - 1) / 2;
    return (sorted[Math.floor(mid)]! + sorted[Math.ceil(mid)]!) / 2;
  });
}

describe('medianStreaks', () => {
  it('gives the day-by-day definition on random people, working weeks and days of the current week', () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const random = prng(seed);
      const weeks = 1 + Math.floor(random() * 13);
      const words = Math.ceil((HISTORY_WEEKS + weeks) / WEEKS_PER_WORD);
      // Today anywhere in the current (last) week.
      const today = (HISTORY_WEEKS + weeks - 1) * 7 + Math.floor(random() * 7);
      const density = 0.3 + random() * 0.7;
      const people: PersonWeeks[] = Array.from({ length: 1 + Math.floor(random() * 12) }, () => ({
        workingDays: random() < 0.1 ? 0 : Math.floor(random() * 128),
        doneWords: Array.from({ length: words }, (_, j) => {
          let word = 0;
          for (let bit = 0; bit < 7 * WEEKS_PER_WORD; bit += 1) {
            const day = j * WEEKS_PER_WORD * 7 + bit;
            if (day <= today && random() < density) word |= 1 << bit;
          }
          return word;
        }),
      }));
      expect({ seed, medians: medianStreaks(people, { weeks, today }) }).toEqual({
        seed,
        medians: referenceMedians(people, weeks, today),
      });
    }
  });

  it('keeps a streak alive through today until today ends, and caps it at the window', () => {
    // Mon–Fri, everything done for the whole history, today a Wednesday with nothing done yet.
    const weeks = 1;
    const today = HISTORY_WEEKS * 7 + 2;
    // Every day before today done (Saturdays and Sundays too, which do not count).
    const doneWords = [0, 1].map((j) => {
      let word = 0;
      for (let bit = 0; bit < 7 * WEEKS_PER_WORD; bit += 1) if (j * WEEKS_PER_WORD * 7 + bit < today) word |= 1 << bit;
      return word;
    });
    const [median] = medianStreaks([{ workingDays: 0b11111, doneWords }], { weeks, today });
    // Yesterday's streak stands (grace), capped at the working days of the last STREAK_WINDOW_DAYS.
    expect(median).toBe((STREAK_WINDOW_DAYS / 7) * 5);
  });
});
