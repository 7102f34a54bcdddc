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

/** PostgreSQL's percentile_cont(0.5): the middle value, or the mean of the two middle ones; null for none. */
function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort(); // typed: numeric order without a comparator call per step
  const position = (sorted.length - 1) / 2;
  const low = sorted[Math.floor(position)]!;
  const high = sorted[Math.ceil(position)]!;
  return low + (high - low) * (position - Math.floor(position));
}

/**
 * The median streak of each queried week's active members (null for a week nobody was active in).
 *
 * A person's streak for a week they were active in: consecutive working days with something done, counted back
 * from the week's last day (today for the current week, where a streak ending yesterday is still alive), at most
 * the working days of the last STREAK_WINDOW_DAYS. One forward pass per person gives the run of done working
 * days ending on each day (a day off carries it on) and the working days so far, so each week's streak is a
 * lookup rather than a walk back through the days.
 */
export function medianStreaks(people: readonly PersonWeeks[], window: StreakWindow): (number | null)[] {
  const perWeek: number[][] = Array.from({ length: window.weeks }, () => []);
  const days = (HISTORY_WEEKS + window.weeks) * 7;
  const done = new Uint8Array(days);
  const run = new Int32Array(days);
  /** worked[d]: working days before day d. */
  const worked = new Int32Array(days + 1);
  const active = new Uint8Array(window.weeks);
  for (const { workingDays, doneWords } of people) {
    active.fill(0);
    let streak = 0;
    for (let day = 0; day < days; day += 1) {
      const week = Math.floor(day / 7);
      const word = doneWords[Math.floor(week / WEEKS_PER_WORD)] ?? 0;
      const isDone = (word >>> (7 * (week % WEEKS_PER_WORD) + (day % 7))) & 1;
      const working = (workingDays >> (day % 7)) & 1;
      if (working) streak = isDone ? streak + 1 : 0;
      done[day] = isDone;
      run[day] = streak;
      worked[day + 1] = worked[day]! + working;
      if (isDone && week >= HISTORY_WEEKS) active[week - HISTORY_WEEKS] = 1;
    }
    for (let w = 0; w < window.weeks; w += 1) {
      if (!active[w]) continue;
      const last = Math.min((HISTORY_WEEKS + w) * 7 + 6, window.today);
      const cap = worked[last + 1]! - worked[Math.max(0, last + 1 - STREAK_WINDOW_DAYS)]!;
      const grace = last === window.today && (workingDays >> (last % 7)) & 1 && !done[last];
      const ending = grace ? (last > 0 ? run[last - 1]! : 0) : run[last]!;
      perWeek[w]!.push(Math.min(ending, cap));
    }
  }
  return perWeek.map(median);
}
