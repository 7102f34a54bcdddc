import { HIDDEN_TEXT, metrics, type Cell, type MetricKey, type WeekFigures } from './privacy.js';

function formatValue(key: MetricKey, v: number): string {
  if (key === 'completionRate') return `${Math.round(v * 100)}%`;
  if (key === 'medianStreak') return `${Number.isInteger(v) ? v : v.toFixed(1)} ${v === 1 ? 'day' : 'days'}`;
  return String(v);
}

export function formatCell(key: MetricKey, cell: Cell): string {
  switch (cell.kind) {
    case 'hidden':
      return HIDDEN_TEXT;
    case 'none':
      return '–';
    case 'value':
      return formatValue(key, cell.value);
  }
}

function formatChange(key: MetricKey, change: number | null): string {
  if (change === null) return '';
  const unit = key === 'completionRate' ? ' pts' : '';
  if (change === 0) return ` (±0${unit})`;
  return ` (${change > 0 ? '+' : '−'}${Math.abs(change)}${unit})`;
}

const part = (week: WeekFigures, key: MetricKey, label: string) =>
  `${label} ${formatCell(key, week.cells[key])}${formatChange(key, week.change[key])}`;

/** One week as a few short lines of light markup, changes against the week before in brackets. */
export function weekText(week: WeekFigures): string {
  return [
    `*${week.label}*${week.current ? ' (so far)' : ''}`,
    [part(week, 'members', 'Members'), part(week, 'optedIn', 'opted in')].join(' · '),
    [
      part(week, 'delivered', 'Nudges delivered'),
      part(week, 'done', 'done'),
      part(week, 'snoozed', 'snoozed'),
      part(week, 'skipped', 'skipped'),
      part(week, 'ignored', 'ignored'),
    ].join(' · '),
    part(week, 'completionRate', 'Completion rate'),
    [part(week, 'sessions', 'Sessions completed'), part(week, 'unfinishedSessions', 'started, not completed')].join(
      ' · ',
    ),
    [part(week, 'active', 'Active members'), part(week, 'medianStreak', 'median streak')].join(' · '),
  ].join('\n');
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvCell(key: MetricKey, cell: Cell): string {
  switch (cell.kind) {
    case 'hidden':
      return HIDDEN_TEXT;
    case 'none':
      return '';
    case 'value':
      return key === 'completionRate' ? cell.value.toFixed(4) : String(cell.value);
  }
}

/** The shown weeks as CSV (oldest first); hidden cells say so in words, never as a number. */
export function statsCsv(weeks: readonly WeekFigures[]): string {
  const header = ['iso_week', 'week_start', ...metrics.map((m) => m.csv)];
  const lines = weeks.map((w) =>
    [w.isoWeek, w.weekStart, ...metrics.map((m) => csvCell(m.key, w.cells[m.key]))].map(csvField).join(','),
  );
  return `${[header.join(','), ...lines].join('\n')}\n`;
}
