import type { WeekRow } from './query.js';
import { describeWeek } from './weeks.js';

/** The smallest floor the product allows, whatever the configuration says. */
export const MIN_PRIVACY_FLOOR = 3;
export const HIDDEN_TEXT = 'not enough participants';

export const effectiveFloor = (configured: number): number => Math.max(MIN_PRIVACY_FLOOR, Math.floor(configured));

/** A figure as a lead may see it: a number, hidden by the privacy floor, or not applicable (no nudges, nobody active). */
export type Cell = { kind: 'value'; value: number } | { kind: 'hidden' } | { kind: 'none' };

export const metrics = [
  { key: 'members', label: 'Members', csv: 'members' },
  { key: 'optedIn', label: 'Opted in', csv: 'opted_in' },
  { key: 'delivered', label: 'Nudges delivered', csv: 'nudges_delivered' },
  { key: 'done', label: 'Done', csv: 'done' },
  { key: 'snoozed', label: 'Snoozed', csv: 'snoozed' },
  { key: 'skipped', label: 'Skipped', csv: 'skipped' },
  { key: 'ignored', label: 'Ignored', csv: 'ignored' },
  { key: 'completionRate', label: 'Completion rate', csv: 'completion_rate' },
  { key: 'sessions', label: 'Sessions completed', csv: 'sessions_completed' },
  { key: 'unfinishedSessions', label: 'Sessions started, not completed', csv: 'sessions_not_completed' },
  { key: 'active', label: 'Active members', csv: 'active_members' },
  { key: 'medianStreak', label: 'Median streak', csv: 'median_streak_days' },
] as const;
export type MetricKey = (typeof metrics)[number]['key'];

export interface WeekFigures {
  weekStart: string;
  isoWeek: string;
  label: string;
  /** The week that contains today: its figures are "so far". */
  current: boolean;
  cells: Record<MetricKey, Cell>;
  /** Against the week before; null when either side is not a shown number. Completion rate in percentage points. */
  change: Record<MetricKey, number | null>;
}

const value = (v: number): Cell => ({ kind: 'value', value: v });
const hidden: Cell = { kind: 'hidden' };
const none: Cell = { kind: 'none' };

/**
 * A count is shown only when the people behind it are none or at least the floor, and only in a week whose
 * whole group reaches the floor (so a zero never speaks for a handful of people either).
 */
function countCell(count: number, people: number, groupOk: boolean, floor: number): Cell {
  if (!groupOk) return hidden;
  if (people > 0 && people < floor) return hidden;
  return value(count);
}

function weekCells(row: WeekRow, floor: number): Record<MetricKey, Cell> {
  const groupOk = row.members >= floor;
  const delivered = countCell(row.delivered, row.deliveredPeople, groupOk, floor);
  const done = countCell(row.done, row.donePeople, groupOk, floor);
  let completionRate: Cell;
  if (delivered.kind === 'hidden' || done.kind === 'hidden') completionRate = hidden;
  else if (row.delivered === 0) completionRate = none;
  else completionRate = value(row.done / row.delivered);
  let medianStreak: Cell;
  if (!groupOk || (row.active > 0 && row.active < floor)) medianStreak = hidden;
  else if (row.active === 0 || row.medianStreak === null) medianStreak = none;
  else medianStreak = value(row.medianStreak);
  return {
    members: groupOk ? value(row.members) : hidden,
    optedIn: countCell(row.optedIn, row.optedIn, groupOk, floor),
    delivered,
    done,
    snoozed: countCell(row.snoozed, row.snoozedPeople, groupOk, floor),
    skipped: countCell(row.skipped, row.skippedPeople, groupOk, floor),
    ignored: countCell(row.ignored, row.ignoredPeople, groupOk, floor),
    completionRate,
    sessions: countCell(row.sessions, row.sessionPeople, groupOk, floor),
    unfinishedSessions: countCell(row.unfinishedSessions, row.unfinishedSessionPeople, groupOk, floor),
    active: countCell(row.active, row.active, groupOk, floor),
    medianStreak,
  };
}

function changeOf(current: Cell, previous: Cell | undefined, key: MetricKey): number | null {
  if (current.kind !== 'value' || previous?.kind !== 'value') return null;
  const delta = current.value - previous.value;
  return key === 'completionRate' ? Math.round(delta * 1000) / 10 : Math.round(delta * 10) / 10;
}

/**
 * Applies the privacy floor to the query's rows (the first row is the baseline week, used only for the
 * change) and returns the shown weeks, oldest first. Nothing in the result is about one person.
 */
export function toWeekFigures(rows: readonly WeekRow[], options: { floor: number; today: string }): WeekFigures[] {
  const floor = effectiveFloor(options.floor);
  const cells = rows.map((row) => weekCells(row, floor));
  return rows.slice(1).map((row, index) => {
    const mine = cells[index + 1]!;
    const before = cells[index];
    const described = describeWeek(row.weekStart);
    const change = Object.fromEntries(
      metrics.map((m) => [m.key, changeOf(mine[m.key], before?.[m.key], m.key)]),
    ) as Record<MetricKey, number | null>;
    return {
      weekStart: row.weekStart,
      isoWeek: described.isoWeek,
      label: described.label,
      current: row.weekStart <= options.today && options.today <= described.sunday,
      cells: mine,
      change,
    };
  });
}

/** Is the team as a whole big enough to show anything at all? Judged on the latest week. */
export function teamLargeEnough(rows: readonly WeekRow[], floor: number): boolean {
  const latest = rows[rows.length - 1];
  return latest !== undefined && latest.members >= effectiveFloor(floor);
}
