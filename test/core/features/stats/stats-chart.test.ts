import { describe, expect, it } from 'vitest';
import { Resvg } from '@resvg/resvg-js';
import {
  chartColours,
  chartGeometry,
  chartSize,
  chartSvg,
  niceMax,
  pngRenderOptions,
  renderPng,
} from '../../../../src/core/features/stats/chart.js';
import { toWeekFigures } from '../../../../src/core/features/stats/privacy.js';
import type { WeekRow } from '../../../../src/core/features/stats/query.js';
import { decodePng, hex } from './stats-png.js';

const row = (weekStart: string, sessions: number, sessionPeople: number, delivered: number, done: number): WeekRow => ({
  weekStart,
  members: 20,
  optedIn: 12,
  delivered,
  deliveredPeople: delivered > 0 ? 10 : 0,
  done,
  donePeople: done > 0 ? 8 : 0,
  snoozed: 0,
  snoozedPeople: 0,
  skipped: 0,
  skippedPeople: 0,
  ignored: 0,
  ignoredPeople: 0,
  sessions,
  sessionPeople,
  unfinishedSessions: 0,
  unfinishedSessionPeople: 0,
  active: sessionPeople,
  medianStreak: 2,
});

// Baseline week first (not drawn), then four weeks: 40 sessions/50%, 10/80%, hidden (3 people), 25/25%.
const weeks = toWeekFigures(
  [
    row('2026-02-02', 5, 5, 10, 5),
    row('2026-02-09', 40, 9, 100, 50),
    row('2026-02-16', 10, 6, 50, 40),
    row('2026-02-23', 7, 3, 40, 20),
    row('2026-03-02', 25, 7, 80, 20),
  ],
  { floor: 5, today: '2026-03-04' },
);

describe('stats chart', () => {
  it('rounds the sessions axis up to 1, 2 or 5 × 10ⁿ', () => {
    expect([0, 1, 3, 11, 40, 51, 200].map(niceMax)).toEqual([1, 1, 5, 20, 50, 100, 200]);
  });

  it('draws bars proportional to the sessions asked for, a gap for a hidden week, and rate points on a 0–100% axis', () => {
    const g = chartGeometry(weeks);
    expect(g.sessionsMax).toBe(50);
    expect(g.bars.map((b) => [b.weekStart, b.value])).toEqual([
      ['2026-02-09', 40],
      ['2026-02-16', 10],
      ['2026-03-02', 25],
    ]);
    // Plot height is 280 px: 40 of 50 → 224 px, 10 → 56, 25 → 140, all standing on the same baseline.
    expect(g.bars.map((b) => b.height)).toEqual([224, 56, 140]);
    expect(new Set(g.bars.map((b) => b.y + b.height))).toEqual(new Set([344]));
    expect(g.hiddenBands.map((b) => b.weekStart)).toEqual(['2026-02-23']);
    // The hidden week's rate is shown (its nudge figures pass the floor); only its sessions are hidden.
    expect(g.points.map((p) => [p.weekStart, p.rate, p.cy])).toEqual([
      ['2026-02-09', 0.5, 204],
      ['2026-02-16', 0.8, 120],
      ['2026-02-23', 0.5, 204],
      ['2026-03-02', 0.25, 274],
    ]);
  });

  it('renders a valid PNG of the expected size whose pixels show those bars', async () => {
    const svg = chartSvg(weeks, { title: 'Team participation: Design & <Ops>', floor: 5 });
    expect(svg).toContain('Design &#38; &#60;Ops&#62;');
    const png = decodePng(await renderPng(svg));
    expect([png.width, png.height]).toEqual([chartSize.width, chartSize.height]);
    const g = chartGeometry(weeks);
    for (const bar of g.bars) {
      // Inside each bar, low enough to be clear of the rate line, it is bar green; just above the bar it is not.
      expect(hex(png.pixel(bar.x + 4, bar.y + bar.height - 6))).toBe(chartColours.bar);
      if (bar.y > 80) expect(hex(png.pixel(bar.x + 4, bar.y - 8))).not.toBe(chartColours.bar);
    }
    const band = g.hiddenBands[0]!;
    expect(hex(png.pixel(band.x + 3, 330))).toBe(chartColours.hidden);
    for (const point of g.points) expect(hex(png.pixel(point.cx, point.cy))).toBe(chartColours.line);
    // Nothing green where the hidden week's bar would be.
    for (let y = 70; y < 344; y += 6)
      expect(hex(png.pixel(band.x + band.width / 2 - 12, y))).not.toBe(chartColours.bar);
  });

  it('renders off the event loop the same PNG bytes as the synchronous render did', async () => {
    const svg = chartSvg(weeks, { title: 'Team participation: Design', floor: 5 });
    const before = new Resvg(svg, pngRenderOptions).render().asPng();
    let settled = false;
    const renders = Promise.all(Array.from({ length: 8 }, () => renderPng(svg))).finally(() => (settled = true));
    // A drawing on the event loop would be finished before the next timer could fire.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(settled).toBe(false);
    const after = await renders;
    for (const png of after) expect(Buffer.compare(png, before)).toBe(0);
    const decoded = decodePng(after[0]!);
    expect([decoded.width, decoded.height]).toEqual([chartSize.width, chartSize.height]);
  });

  it('turns a drawing that fails into a rejected promise, and draws the next chart all the same', async () => {
    await expect(renderPng('<svg this is not')).rejects.toThrow(/chart not drawn/);
    const png = decodePng(await renderPng(chartSvg(weeks, { title: 'After a failure', floor: 5 })));
    expect([png.width, png.height]).toEqual([chartSize.width, chartSize.height]);
  });

  it('draws no bar or point for a week whose figures are all hidden', () => {
    const tiny = toWeekFigures(
      [row('2026-02-02', 1, 1, 3, 1), { ...row('2026-02-09', 2, 2, 4, 2), deliveredPeople: 2, donePeople: 2 }],
      { floor: 5, today: '2026-03-04' },
    );
    const g = chartGeometry(tiny);
    expect(g.bars).toEqual([]);
    expect(g.points).toEqual([]);
    expect(g.hiddenBands).toHaveLength(1);
  });
});
