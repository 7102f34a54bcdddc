import type { ResvgRenderOptions } from '@resvg/resvg-js';
import { createPngRenderer } from './png-worker.js';
import type { WeekFigures } from './privacy.js';

/**
 * The lead's chart: completed sessions per week as bars (left axis), completion rate as a line (right
 * axis, 0–100%). Built as SVG here (so its geometry can be checked) and rasterised by resvg. A week whose
 * figure is hidden by the privacy floor gets a grey band saying so, never a bar or a point.
 */
export const chartSize = { width: 800, height: 420 } as const;
const plot = { left: 64, right: 736, top: 64, bottom: 344 } as const;
export const chartColours = { bar: '#3f9b6e', line: '#2563eb', hidden: '#e5e7eb', background: '#ffffff' } as const;

export interface ChartGeometry {
  bars: { weekStart: string; value: number; x: number; y: number; width: number; height: number }[];
  points: { weekStart: string; rate: number; cx: number; cy: number }[];
  /** Weeks whose sessions are hidden: drawn as a grey band over the whole plot height. */
  hiddenBands: { weekStart: string; x: number; width: number }[];
  sessionsMax: number;
}

/** The smallest 1, 2 or 5 × 10ⁿ at or above `value` (at least 1), so axis ticks are round. */
export function niceMax(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const round = (n: number) => Math.round(n * 10) / 10;

export function chartGeometry(weeks: readonly WeekFigures[]): ChartGeometry {
  const slot = (plot.right - plot.left) / Math.max(weeks.length, 1);
  const height = plot.bottom - plot.top;
  const shownSessions = weeks.flatMap((w) => (w.cells.sessions.kind === 'value' ? [w.cells.sessions.value] : []));
  const sessionsMax = niceMax(Math.max(0, ...shownSessions));
  const geometry: ChartGeometry = { bars: [], points: [], hiddenBands: [], sessionsMax };
  weeks.forEach((week, i) => {
    const slotLeft = plot.left + i * slot;
    const centre = slotLeft + slot / 2;
    const sessions = week.cells.sessions;
    if (sessions.kind === 'hidden') {
      const bandWidth = Math.min(slot * 0.8, 80);
      geometry.hiddenBands.push({
        weekStart: week.weekStart,
        x: round(centre - bandWidth / 2),
        width: round(bandWidth),
      });
    } else if (sessions.kind === 'value') {
      const barHeight = (sessions.value / sessionsMax) * height;
      const barWidth = Math.min(slot * 0.6, 60);
      geometry.bars.push({
        weekStart: week.weekStart,
        value: sessions.value,
        x: round(centre - barWidth / 2),
        y: round(plot.bottom - barHeight),
        width: round(barWidth),
        height: round(barHeight),
      });
    }
    const rate = week.cells.completionRate;
    if (rate.kind === 'value') {
      geometry.points.push({
        weekStart: week.weekStart,
        rate: rate.value,
        cx: round(centre),
        cy: round(plot.bottom - rate.value * height),
      });
    }
  });
  return geometry;
}

export function chartSvg(weeks: readonly WeekFigures[], options: { title: string; floor: number }): string {
  const g = chartGeometry(weeks);
  const { width, height } = chartSize;
  const slot = (plot.right - plot.left) / Math.max(weeks.length, 1);
  const text = (
    x: number,
    y: number,
    value: string,
    style: { size?: number; fill?: string; bold?: boolean; anchor?: 'middle' | 'end'; rotate?: boolean } = {},
  ) =>
    `<text x="${round(x)}" y="${round(y)}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="${style.size ?? 12}" fill="${style.fill ?? '#374151'}"` +
    (style.bold ? ' font-weight="bold"' : '') +
    (style.anchor ? ` text-anchor="${style.anchor}"` : '') +
    (style.rotate ? ` transform="rotate(-90 ${round(x)} ${round(y)})"` : '') +
    `>${escapeXml(value)}</text>`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="${chartColours.background}"/>`,
    text(plot.left, 28, options.title.length > 80 ? `${options.title.slice(0, 79)}…` : options.title, {
      size: 16,
      bold: true,
      fill: '#111827',
    }),
    `<rect x="${plot.left}" y="40" width="14" height="10" fill="${chartColours.bar}"/>`,
    text(plot.left + 20, 50, 'sessions completed per week (left axis)'),
    `<line x1="${plot.left + 300}" y1="45" x2="${plot.left + 322}" y2="45" stroke="${chartColours.line}" stroke-width="3"/>`,
    text(plot.left + 328, 50, 'nudge completion rate (right axis)'),
  ];
  // Grid and axes: sessions on the left, completion rate on the right.
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const y = plot.bottom - fraction * (plot.bottom - plot.top);
    parts.push(
      `<line x1="${plot.left}" y1="${round(y)}" x2="${plot.right}" y2="${round(y)}" stroke="#f3f4f6" stroke-width="1"/>`,
    );
    const sessions = fraction * g.sessionsMax;
    if (Number.isInteger(sessions)) parts.push(text(plot.left - 8, y + 4, String(sessions), { anchor: 'end' }));
    parts.push(text(plot.right + 8, y + 4, `${Math.round(fraction * 100)}%`));
  }
  parts.push(
    `<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}" stroke="#9ca3af" stroke-width="1"/>`,
  );
  for (const band of g.hiddenBands) {
    parts.push(
      `<rect data-hidden="${band.weekStart}" x="${band.x}" y="${plot.top}" width="${band.width}" height="${plot.bottom - plot.top}" fill="${chartColours.hidden}"/>`,
    );
    const cx = band.x + band.width / 2;
    const cy = (plot.top + plot.bottom) / 2;
    parts.push(
      text(cx + 4, cy, 'not enough participants', { anchor: 'middle', size: 11, fill: '#6b7280', rotate: true }),
    );
  }
  for (const bar of g.bars) {
    parts.push(
      `<rect data-week="${bar.weekStart}" x="${bar.x}" y="${bar.y}" width="${bar.width}" height="${bar.height}" fill="${chartColours.bar}"/>`,
    );
  }
  // The line breaks where a week's rate is hidden or undefined, rather than bridging the gap.
  let run: string[] = [];
  const flush = () => {
    if (run.length > 1)
      parts.push(`<polyline points="${run.join(' ')}" fill="none" stroke="${chartColours.line}" stroke-width="3"/>`);
    run = [];
  };
  weeks.forEach((week) => {
    const point = g.points.find((p) => p.weekStart === week.weekStart);
    if (point) run.push(`${point.cx},${point.cy}`);
    else flush();
  });
  flush();
  for (const point of g.points) {
    parts.push(
      `<circle data-week="${point.weekStart}" cx="${point.cx}" cy="${point.cy}" r="5" fill="${chartColours.line}"/>`,
    );
  }
  weeks.forEach((week, i) => {
    const label = week.isoWeek.slice(5) + (week.current ? '*' : '');
    parts.push(text(plot.left + (i + 0.5) * slot, plot.bottom + 18, label, { anchor: 'middle', size: 11 }));
  });
  const footer = `Grey: fewer than ${options.floor} people behind the figure (not enough participants).${weeks.some((w) => w.current) ? ' * this week so far.' : ''}`;
  parts.push(text(plot.left, plot.bottom + 48, footer, { size: 11, fill: '#6b7280' }));
  parts.push('</svg>');
  return parts.join('\n');
}

export const pngRenderOptions: ResvgRenderOptions = {
  font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  background: chartColours.background,
};

/**
 * The chart as PNG, drawn and encoded on a worker thread (see png-worker.ts): a render costs 20–45 ms of CPU,
 * which on the event loop would delay every other answer (acks included) queued behind it.
 */
export const renderPng = createPngRenderer(pngRenderOptions);
