import { STREAK_WINDOW_DAYS } from './weeks.js';

/** Weeks of history read before the first week queried, enough for a streak window ending on its Sunday. */
export const HISTORY_WEEKS = Math.ceil(STREAK_WINDOW_DAYS / 7);

/** Weeks packed into one word of `PersonWeeks.doneWords`: 4 × 7 bits fit a PostgreSQL int4 (bit_or builds them). */
export const WEEKS_PER_WORD = 4;

/**
 * One person's weeks as the rollups give them. Bit i (0 = Monday) of `workingDays` is the person's own
 * working day; bit 7 × (w mod WEEKS_PER_WORD) + i of `doneWords[⌊w / WEEKS_PER_WORD⌋]` is a day with something
 * done on weekday i of week w, counted in weeks from the start of the history (missing words: nothing done).
 */
export interface PersonWeeks {
  workingDays: number;
  doneWords: readonly number[];
}

export interface StreakWindow {
  /** Weeks queried (history not included); the first is at offset HISTORY_WEEKS. */
  weeks: number;
  /** Today, in days from the start of the history. */
  today: number;
}

/**
 * A person's streak for a week they were active in: consecutive working days with something done, counted
 * back from the week's last day (today for the current week, where a streak ending yesterday is still alive),
 * at most the working days of the last STREAK_WINDOW_DAYS.
 */
function streakAt(done: Uint8Array, workingDays: number, weekStart: number, today: number): number {
  const working = (day: number) => (workingDays >> (day % 7)) & 1;
  const last = Math.min(weekStart + 6, today);
  let cap = 0;
  for (let day = last; day > last - STREAK_WINDOW_DAYS; day -= 1) cap += working(day);
  const grace = last === today && working(last) === 1 && done[last] === 0;
  let streak = 0;
  for (let day = grace ? last - 1 : last; day >= 0 && streak < cap; day -= 1) {
    if (!working(day)) continue;
    if (!done[day]) break;
    streak += 1;
  }
  return streak;
}

/** PostgreSQL's percentile_cont(0.5): the middle value, or the mean of the two middle ones; null for none. */
function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) / 2;
  const low = sorted[Math.floor(position)]!;
  const high = sorted[Math.ceil(position)]!;
  return low + (high - low) * (position - Math.floor(position));
}

/** The median streak of each queried week's active members (null for a week nobody was active in). */
export function medianStreaks(people: readonly PersonWeeks[], window: StreakWindow): (number | null)[] {
  const perWeek: number[][] = Array.from({ length: window.weeks }, () => []);
  const weeks = HISTORY_WEEKS + window.weeks;
  for (const person of people) {
    const done = new Uint8Array(weeks * 7);
    const active: number[] = [];
    for (let week = 0; week < weeks; week += 1) {
      const word = person.doneWords[Math.floor(week / WEEKS_PER_WORD)] ?? 0;
      const mask = (word >>> (7 * (week % WEEKS_PER_WORD))) & 0x7f;
      if (mask === 0) continue;
      for (let d = 0; d < 7; d += 1) if ((mask >> d) & 1) done[week * 7 + d] = 1;
      if (week >= HISTORY_WEEKS) active.push(week);
    }
    for (const week of active) {
      perWeek[week - HISTORY_WEEKS]!.push(streakAt(done, person.workingDays, week * 7, window.today));
    }
  }
  return perWeek.map(median);
}
