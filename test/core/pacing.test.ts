import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { programmePlan, routinePlan, SESSION_INTRO_BUDGET, sessionIntroBlocks } from '../../src/core/content/plans.js';
import { DISCLAIMER } from '../../src/core/disclaimer.js';
import { LiveSessions } from '../../src/core/live-sessions.js';
import {
  breathingFrames,
  breathingPatterns,
  breathingStaticBlocks,
  cycleSeconds,
  cyclesFor,
  parseBreathingPattern,
  progressBar,
  readingSeconds,
  framesSeconds,
  stepFrames,
} from '../../src/core/pacing.js';
import { blockText, type Frame } from '../../src/core/reply.js';
import { testLibrary } from '../support/core.js';

const library = testLibrary();

/** A seeded generator, so property-style loops are repeatable. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}

describe('breathing patterns → frames', () => {
  it('N cycles have exactly N × phases frames, in order, each as long as its phase', () => {
    for (const pattern of Object.values(breathingPatterns)) {
      for (const cycles of [1, 2, 7]) {
        const frames = breathingFrames(pattern, cycles);
        expect(frames).toHaveLength(cycles * pattern.phases.length);
        frames.forEach((frame, i) => {
          const phase = pattern.phases[i % pattern.phases.length]!;
          expect(frame.ms).toBe(phase.seconds * 1000);
          expect(blockText(frame.blocks[0]!)).toBe(`*${phase.label}* ${phase.seconds}`);
          expect(blockText(frame.blocks[1]!)).toContain(
            `breath ${Math.floor(i / pattern.phases.length) + 1} of ${cycles}`,
          );
        });
        expect(frames.reduce((s, f) => s + f.ms, 0)).toBe(cycleSeconds(pattern) * cycles * 1000);
      }
    }
  });

  it('uses the timings each technique is taught with', () => {
    const seconds = (id: keyof typeof breathingPatterns) =>
      breathingPatterns[id].phases.map((p) => `${p.action}:${p.seconds}`);
    expect(seconds('box')).toEqual(['in:4', 'hold:4', 'out:4', 'rest:4']);
    expect(seconds('4-7-8')).toEqual(['in:4', 'hold:7', 'out:8']);
    // Six breaths a minute.
    expect(60 / cycleSeconds(breathingPatterns.coherent)).toBe(6);
    expect(seconds('diaphragmatic')).toEqual(['in:4', 'out:6']);
  });

  it('fills the minutes with whole cycles (at least one)', () => {
    expect(cyclesFor(breathingPatterns.box, 1)).toBe(4);
    // 4-7-8 is taught as only a few rounds: never more than 4, however many minutes.
    expect(cyclesFor(breathingPatterns['4-7-8'], 2)).toBe(4);
    expect(cyclesFor(breathingPatterns['4-7-8'], 1)).toBe(3);
    expect(cyclesFor(breathingPatterns.coherent, 10)).toBe(60);
    expect(cyclesFor(breathingPatterns['4-7-8'], 0)).toBe(1);
  });

  it('knows the pattern names people type', () => {
    expect(parseBreathingPattern('BOX')).toBe('box');
    expect(parseBreathingPattern('478')).toBe('4-7-8');
    expect(parseBreathingPattern('slow')).toBe('coherent');
    expect(parseBreathingPattern('belly')).toBe('diaphragmatic');
    expect(parseBreathingPattern('2')).toBeNull();
  });

  it('writes the same session out for adapters that cannot update live', () => {
    const text = breathingStaticBlocks(breathingPatterns['4-7-8'], 6).map(blockText).join(' ');
    expect(text).toContain('Breathe in for 4 s, then Hold for 7 s, then Breathe out for 8 s');
    expect(text).toContain('Repeat 6 times (1 min 54 s)');
  });

  it('draws progress', () => {
    expect(progressBar(0, 10)).toBe('▱▱▱▱▱▱▱▱▱▱');
    expect(progressBar(5, 10)).toBe('▰▰▰▰▰▱▱▱▱▱');
    expect(progressBar(10, 10)).toBe('▰▰▰▰▰▰▰▰▰▰');
  });
});

describe('playing a breathing sequence with fake timers', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shows each phase exactly when the previous one has run its length', async () => {
    const pattern = breathingPatterns['4-7-8'];
    const frames = breathingFrames(pattern, 3);
    const shownAt: number[] = [];
    const t0 = Date.now();
    const live = new LiveSessions();
    const dispatch = vi.fn();
    const session = live.play(
      {
        sessionId: 's',
        frames,
        staticBlocks: [],
        actions: [],
        onComplete: { actionId: 'guided.complete', value: '{}' },
      },
      { edit: () => void shownAt.push(Date.now() - t0), complete: dispatch },
    );
    await vi.advanceTimersByTimeAsync(3 * 19_000 - 1);
    expect(dispatch).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(await session.done).toBe('completed');
    const expected: number[] = [];
    let at = 0;
    for (const frame of frames) {
      expected.push(at);
      at += frame.ms;
    }
    expect(shownAt).toEqual(expected);
    expect(dispatch).toHaveBeenCalledTimes(1);
  });

  it('Stop mid-phase: nothing more is shown and no timer is left', async () => {
    const frames = breathingFrames(breathingPatterns.box, 2);
    const shown: Frame[] = [];
    const live = new LiveSessions();
    const session = live.play(
      { sessionId: 's', frames, staticBlocks: [], actions: [] },
      { edit: (f) => void shown.push(f) },
    );
    await vi.advanceTimersByTimeAsync(9_000);
    expect(shown).toHaveLength(3);
    live.stop('s');
    expect(await session.done).toBe('stopped');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(shown).toHaveLength(3);
  });
});

describe('routine steps → frames', () => {
  it('timed steps last their seconds; untimed ones get a reading pause of 6–20 s', () => {
    const frames = stepFrames(
      [{ text: 'Get ready.' }, { text: 'Hold the stretch.', seconds: 30 }, { text: Array(80).fill('word').join(' ') }],
      { label: 'Test' },
    );
    expect(frames.map((f) => f.ms)).toEqual([6000, 30_000, 20_000]);
    expect(blockText(frames[1]!.blocks[0]!)).toBe('*Step 2 of 3* (30 s): Hold the stretch.');
    expect(readingSeconds('one two three four five six seven eight nine ten')).toBe(7);
  });
});

describe('programmes', () => {
  it('fill the minutes (within 10 s, never over), with no routine twice and several kinds', () => {
    const random = seeded(42);
    for (const minutes of [5, 6, 8, 10, 15, 20, 30]) {
      for (let i = 0; i < 40; i++) {
        const plan = programmePlan(library, minutes, { random });
        const seconds = plan.frames.reduce((s, f) => s + f.ms, 0) / 1000;
        expect(seconds).toBeLessThanOrEqual(minutes * 60);
        expect(seconds).toBeGreaterThanOrEqual(minutes * 60 - 10);
        const ids = plan.parts!.map((p) => p.routineId);
        expect(new Set(ids).size).toBe(ids.length);
        expect(new Set(plan.parts!.map((p) => p.kind)).size).toBeGreaterThanOrEqual(3);
        expect(plan.parts!.at(-1)!.kind).toBe('breathing');
        // Kinds take turns: never the same kind twice in a row, except stretching.
        for (let k = 1; k < plan.parts!.length; k++) {
          const [a, b] = [plan.parts![k - 1]!.kind, plan.parts![k]!.kind];
          if (a !== 'stretch') expect(b).not.toBe(a);
        }
      }
    }
  });

  it('ten minutes: a heat tip, stretches, a roll, and about two minutes of breathing to finish', () => {
    const random = seeded(7);
    for (let i = 0; i < 20; i++) {
      const plan = programmePlan(library, 10, { random });
      const kinds = plan.parts!.map((p) => p.kind);
      expect(kinds[0]).toBe('habit');
      expect(kinds.filter((k) => k === 'stretch').length).toBeGreaterThanOrEqual(2);
      expect(kinds.filter((k) => k === 'foam_roll' || k === 'trigger_point')).toHaveLength(1);
      expect(plan.parts!.at(-1)!.seconds).toBeGreaterThanOrEqual(120);
    }
  });

  it('avoid recent routines when there is enough else', () => {
    const recent = ['shoulder-blade-squeezes', 'chin-tucks', 'ball-paraspinals-chair'];
    const random = seeded(3);
    for (let i = 0; i < 20; i++) {
      const ids = programmePlan(library, 10, { avoid: recent, random }).parts!.map((p) => p.routineId);
      for (const id of recent) expect(ids).not.toContain(id);
    }
  });
});

describe('cautions before a session', () => {
  // Tens of thousands of checks: plain comparisons gathered into one assertion, as `expect` per check costs
  // more than the programmes themselves. A sample that fails is named with what went wrong.
  it('5,200 sampled programmes show every caution of every routine in them, each once, within the room a Discord embed has', () => {
    const random = seeded(2026);
    let longest = 0;
    const problems: string[] = [];
    for (let i = 0; i < 5200; i++) {
      const minutes = 5 + (i % 26);
      const plan = programmePlan(library, minutes, { random });
      const blocks = sessionIntroBlocks(plan, framesSeconds(plan.frames), DISCLAIMER);
      const cautionLines = blocks.filter((b) => b.type === 'caution').flatMap((b) => blockText(b).split('\n'));
      const expected = plan.parts!.flatMap((p) => library.get(p.routineId)?.cautions ?? []);
      const sample = `programme ${minutes} min #${i}`;
      for (const c of expected) if (!cautionLines.includes(c)) problems.push(`${sample}: caution missing: ${c}`);
      if (new Set(cautionLines).size !== cautionLines.length) problems.push(`${sample}: a caution shown twice`);
      const length = blocks.slice(1).map(blockText).join('\n').length;
      longest = Math.max(longest, length);
      if (length > SESSION_INTRO_BUDGET) problems.push(`${sample}: ${length} characters > ${SESSION_INTRO_BUDGET}`);
    }
    expect(problems).toEqual([]);
    expect(longest).toBeGreaterThan(0);
  });

  it('when room is short the outline gives way, never a caution', () => {
    const plan = routinePlan(library.get('foam-roll-upper-back')!, 'routine');
    const crowded = {
      ...plan,
      intro: Array.from({ length: 80 }, (_, i) => `Part ${i + 1}: ${'a long outline line '.repeat(3)}`),
    };
    const blocks = sessionIntroBlocks(crowded, 480, DISCLAIMER);
    const text = blocks.map(blockText).join('\n');
    for (const c of plan.cautions) expect(text).toContain(c);
    expect(text).toMatch(/…and \d+ more, shown as the session plays\./);
    expect(text.length).toBeLessThanOrEqual(SESSION_INTRO_BUDGET);
  });
});

describe('platform limits for everything a session shows', () => {
  const plans = [
    ...library.all().map((r) => routinePlan(r, 'routine')),
    ...Array.from({ length: 5 }, (_, i) => programmePlan(library, [5, 10, 15, 20, 30][i]!, { random: seeded(i + 1) })),
  ];

  it('every frame and static block fits a Slack section (3,000) and a Discord embed (4,096)', () => {
    for (const plan of plans) {
      for (const frame of plan.frames) {
        const whole = frame.blocks.map(blockText).join('\n');
        expect(whole.length, plan.routineId).toBeLessThanOrEqual(3000);
        expect(whole.length).toBeLessThanOrEqual(4096);
        for (const block of frame.blocks) expect(blockText(block).trim().length).toBeGreaterThan(0);
      }
      for (const block of plan.staticBlocks) expect(blockText(block).length, plan.routineId).toBeLessThanOrEqual(3000);
      expect(plan.staticBlocks.length).toBeLessThanOrEqual(50);
      expect(plan.frames.length).toBeGreaterThan(0);
    }
  });
});
