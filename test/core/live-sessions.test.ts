import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveSessions } from '../../src/core/live-sessions.js';
import { text, type Sequence } from '../../src/core/reply.js';
import { playSequence } from '../../src/core/sequence-player.js';

function sequence(sessionId: string, durations: number[], label = 'f'): Sequence {
  return {
    sessionId,
    frames: durations.map((ms, i) => ({ blocks: [text(`${label}${i}`)], ms })),
    staticBlocks: [text('static')],
    onComplete: { actionId: 'guided.complete', value: `{"l":"${label}"}` },
    actions: [],
  };
}

describe('LiveSessions', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shows every frame at its time and dispatches onComplete once at the end', async () => {
    const live = new LiveSessions();
    const shown: [string, number][] = [];
    const dispatched: string[] = [];
    const session = live.play(sequence('u1', [4000, 7000, 8000]), {
      edit: (frame) => void shown.push([(frame.blocks[0] as { text: string }).text, Date.now()]),
      complete: (a) => void dispatched.push(a?.value ?? 'no completion'),
    });
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(3999);
    expect(shown.map((s) => s[0])).toEqual(['f0']);
    await vi.advanceTimersByTimeAsync(1);
    expect(shown.map((s) => s[0])).toEqual(['f0', 'f1']);
    await vi.advanceTimersByTimeAsync(15000);
    expect(await session.done).toBe('completed');
    expect(shown.map(([, at]) => at - t0)).toEqual([0, 4000, 11000]);
    expect(dispatched).toEqual(['{"l":"f"}']);
    expect(live.size).toBe(0);
  });

  it('stop cancels every pending update and does not dispatch', async () => {
    const live = new LiveSessions();
    const show = vi.fn();
    const dispatch = vi.fn();
    const session = live.play(sequence('u1', [1000, 1000, 1000]), { edit: show, complete: dispatch });
    await vi.advanceTimersByTimeAsync(1500);
    expect(live.stop('u1')).toBe(true);
    expect(await session.done).toBe('stopped');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(show).toHaveBeenCalledTimes(2);
    expect(dispatch).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    expect(live.stop('u1')).toBe(false);
  });

  it('a second sequence for the same session replaces the first; the two never interleave', async () => {
    const live = new LiveSessions();
    const shown: string[] = [];
    const dispatched: string[] = [];
    const show = (frame: { blocks: unknown[] }) => void shown.push((frame.blocks[0] as { text: string }).text);
    const dispatch = (a?: { value: string }) => void dispatched.push(a?.value ?? 'no completion');
    const first = live.play(sequence('u1', [1000, 1000, 1000], 'a'), { edit: show, complete: dispatch });
    await vi.advanceTimersByTimeAsync(1200);
    const second = live.play(sequence('u1', [1000, 1000], 'b'), { edit: show, complete: dispatch });
    const other = live.play(sequence('u2', [500], 'c'), { edit: show, complete: dispatch });
    await vi.advanceTimersByTimeAsync(5000);
    expect(await first.done).toBe('stopped');
    expect(await second.done).toBe('completed');
    expect(await other.done).toBe('completed');
    expect(shown).toEqual(['a0', 'a1', 'b0', 'c0', 'b1']);
    expect(dispatched.sort()).toEqual(['{"l":"b"}', '{"l":"c"}']);
  });

  it('scales time, and a failing show ends the session as failed without a dispatch', async () => {
    const live = new LiveSessions({ timeScale: 0.01 });
    const shown: number[] = [];
    const ok = live.play(sequence('u1', [4000, 4000]), { edit: () => void shown.push(Date.now()) });
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(80);
    expect(await ok.done).toBe('completed');
    expect(shown.map((t) => t - t0)).toEqual([0, 40]);

    const dispatch = vi.fn();
    const onEnd = vi.fn();
    const broken = live.play(sequence('u2', [1000, 1000]), {
      edit: (_f, i) => {
        if (i === 1) throw new Error('message deleted');
      },
      complete: dispatch,
      onEnd,
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(await broken.done).toBe('failed');
    expect(dispatch).not.toHaveBeenCalled();
    expect(onEnd).toHaveBeenCalledWith('failed');
  });

  it('a completion that starts a new sequence for the same session is not cancelled; idle waits for it', async () => {
    const live = new LiveSessions();
    const shown: string[] = [];
    const show = (frame: { blocks: unknown[] }) => void shown.push((frame.blocks[0] as { text: string }).text);
    live.play(sequence('u1', [1000], 'a'), {
      edit: show,
      complete: () => {
        live.play(sequence('u1', [1000], 'b'), { edit: show });
      },
    });
    const idle = live.idle();
    await vi.advanceTimersByTimeAsync(3000);
    await idle;
    expect(shown).toEqual(['a0', 'b0']);
    expect(live.size).toBe(0);
  });

  it('stopAll ends everything', async () => {
    const live = new LiveSessions();
    const a = live.play(sequence('u1', [1000, 1000]), { edit: () => undefined });
    const b = live.play(sequence('u2', [1000, 1000]), { edit: () => undefined });
    await live.stopAll();
    expect([await a.done, await b.done]).toEqual(['stopped', 'stopped']);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('playSequence countdown ticks', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('ticks each second inside a frame with the time left, and stops ticking on abort', async () => {
    const ticks: [number, number][] = [];
    const controller = new AbortController();
    const done = playSequence(
      {
        frames: [
          { blocks: [], ms: 4000 },
          { blocks: [], ms: 2500 },
        ],
      },
      {
        show: () => undefined,
        tick: (_f, i, left) => void ticks.push([i, left]),
        tickMs: 1000,
        signal: controller.signal,
      },
    );
    await vi.advanceTimersByTimeAsync(5200);
    expect(ticks).toEqual([
      [0, 3000],
      [0, 2000],
      [0, 1000],
      [1, 1500],
    ]);
    controller.abort();
    expect(await done).toBe('stopped');
    await vi.advanceTimersByTimeAsync(5000);
    expect(ticks).toHaveLength(4);
    expect(vi.getTimerCount()).toBe(0);
  });
});
