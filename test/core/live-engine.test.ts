import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LiveBudget } from '../../src/core/live-budget.js';
import type { LiveSessionState } from '../../src/core/live-session-state.js';
import { LiveSessions, type EditFailure } from '../../src/core/live-sessions.js';
import { text, type Frame, type Sequence } from '../../src/core/reply.js';

function sequence(frames: number, ms = 1000, sessionId = 'guided:test:T1:U1'): Sequence {
  return {
    sessionId,
    frames: Array.from({ length: frames }, (_, i) => ({ ms, blocks: [text(`phase ${i}`)] })),
    staticBlocks: [text('written out')],
    onComplete: { actionId: 'guided.complete', value: 'packed' },
    actions: [{ type: 'button', actionId: 'guided.stop', label: 'Stop', value: 'packed' }],
  };
}

const label = (frame: Frame) => (frame.blocks[0] as { text: string }).text;

/** A budget that answers from a script and records what it was asked. */
function scriptedBudget(options: {
  frame?: (n: number, state: LiveSessionState) => boolean;
  prefersStatic?: (n: number) => boolean;
  finalWaits?: number[];
}): LiveBudget & { paused: number[]; peers: number[] } {
  let frames = 0;
  const waits = [...(options.finalWaits ?? [])];
  const paused: number[] = [];
  const peers: number[] = [];
  return {
    paused,
    peers,
    ...(options.prefersStatic ? { prefersStatic: () => options.prefersStatic!(frames) } : {}),
    takeFrame: (state, n) => {
      peers.push(n);
      frames += 1;
      return options.frame ? options.frame(frames, state) : true;
    },
    takeFinal: () => waits.shift() ?? 0,
    pause: (_state, ms) => void paused.push(ms),
  };
}

describe('live-session engine', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-03-02T10:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('`started` resolves once the first message is posted, long before the session is done', async () => {
    const live = new LiveSessions();
    let posted = false;
    let release!: () => void;
    const posting = new Promise<void>((resolve) => (release = resolve));
    const session = live.play(sequence(5), {
      open: async () => {
        await posting;
        posted = true;
        return { ts: '1' };
      },
      edit: () => undefined,
    });
    let started = false;
    void session.started.then(() => (started = true));
    await vi.advanceTimersByTimeAsync(100);
    // Still posting: a caller bounding how many sessions start at once keeps waiting.
    expect(started).toBe(false);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect([posted, started]).toEqual([true, true]);
    let done = false;
    void session.done.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(1000);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(done).toBe(true);
  });

  it('a frame the budget refuses is skipped, never queued; the next frame shows on time', async () => {
    const budget = scriptedBudget({ frame: (n) => n % 2 === 1 });
    const live = new LiveSessions({ budget });
    const shown: [string, number][] = [];
    const t0 = Date.now();
    const session = live.play(sequence(5), { edit: (f) => void shown.push([label(f), Date.now() - t0]) });
    await vi.advanceTimersByTimeAsync(5000);
    expect(await session.done).toBe('completed');
    expect(shown).toEqual([
      ['phase 0', 0],
      ['phase 2', 2000],
      ['phase 4', 4000],
    ]);
    expect(live.stats).toMatchObject({ frameUpdates: 3, skippedFrames: 2 });
  });

  it('a budget that cannot keep up switches the session to its static version once, then edits nothing until the end', async () => {
    const budget = scriptedBudget({ prefersStatic: (n) => n >= 2 });
    const live = new LiveSessions<unknown, string>({ budget });
    const shown: string[] = [];
    const session = live.play(sequence(6), {
      edit: (f) => void shown.push(label(f)),
      complete: async () => 'final',
      finish: async (final) => void shown.push(final),
    });
    await vi.advanceTimersByTimeAsync(6000);
    expect(await session.done).toBe('completed');
    expect(shown).toEqual(['phase 0', 'phase 1', 'written out', 'final']);
    expect(session.state).toMatchObject({ mode: 'static', staticShown: true });
    expect(live.stats).toMatchObject({ frameUpdates: 2, staticFallbacks: 1, finals: 1 });
  });

  it('one edit in flight: frames arriving meanwhile are replaced by the newest, and the pacing does not wait', async () => {
    const live = new LiveSessions();
    const started: [string, number][] = [];
    const t0 = Date.now();
    const session = live.play(sequence(6), {
      // Every edit takes 2.3 s on the "platform".
      edit: (f) => {
        started.push([label(f), Date.now() - t0]);
        return new Promise<void>((resolve) => setTimeout(resolve, 2300));
      },
    });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await session.done).toBe('completed');
    // 0 runs 0-2.3 s (1 and 2 arrive; 2 replaces 1), 2 runs 2.3-4.6 s (3, 4 arrive; 4 wins), 4 runs 4.6-6.9 s
    // (5 arrives at 5 s, on time, and waits), then 5.
    expect(started).toEqual([
      ['phase 0', 0],
      ['phase 2', 2300],
      ['phase 4', 4600],
      ['phase 5', 6900],
    ]);
    expect(live.stats).toMatchObject({ frameUpdates: 4, skippedFrames: 2 });
  });

  it("the session's state is a plain value that follows the play: who, where, step, message, next frame due", async () => {
    const budget = scriptedBudget({});
    const live = new LiveSessions<{ channel: string; ts: string }>({ budget });
    const t0 = Date.now();
    const session = live.play(
      sequence(3, 4000),
      {
        open: async () => ({ channel: 'D1', ts: '1.0' }),
        edit: async () => ({ channel: 'D1', ts: '1.0' }),
      },
      { user: 'U1', scope: 'T1' },
    );
    await vi.advanceTimersByTimeAsync(4000);
    expect(session.state).toMatchObject({
      sessionId: 'guided:test:T1:U1',
      user: 'U1',
      scope: 'T1',
      message: { channel: 'D1', ts: '1.0' },
      step: 1,
      nextFrameAt: t0 + 8000,
      mode: 'live',
      staticShown: false,
    });
    expect(JSON.parse(JSON.stringify(session.state))).toEqual(session.state);
    expect(live.count('T1')).toBe(1);
    expect(budget.peers).toEqual([1]); // the first frame was posted (open), free of the budget
    await vi.advanceTimersByTimeAsync(8000);
    expect(await session.done).toBe('completed');
    expect(session.state).toMatchObject({ step: 2, nextFrameAt: null });
  });

  it('the final message waits for budget and is retried after Retry-After, pausing the budget', async () => {
    const budget = scriptedBudget({ finalWaits: [3000] });
    const live = new LiveSessions<unknown, string>({ budget, finalAttempts: 3 });
    const attempts: number[] = [];
    const t0 = Date.now();
    let first = true;
    const session = live.play(sequence(1), {
      edit: () => undefined,
      complete: async () => 'final',
      finish: async () => {
        attempts.push(Date.now() - t0);
        if (first) {
          first = false;
          throw new Error('429');
        }
      },
      classify: (): EditFailure => ({ kind: 'rate_limited', retryAfterMs: 12_000 }),
    });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await session.done).toBe('completed');
    expect(attempts).toEqual([4000, 16_000]);
    expect(budget.paused).toEqual([12_000]);
    expect(live.stats).toMatchObject({ finals: 1, rateLimited: 1 });
  });

  it('shutdown cuts short a final message waiting for budget: nothing is left pending', async () => {
    const budget = scriptedBudget({ finalWaits: [60_000, 60_000, 60_000] });
    const live = new LiveSessions<unknown, string>({ budget, finalAttempts: 6 });
    const finish = vi.fn(async () => undefined);
    const session = live.play(sequence(1), { edit: () => undefined, complete: async () => 'final', finish });
    await vi.advanceTimersByTimeAsync(1500);
    expect(live.size).toBe(1);
    await live.stopAll();
    expect(await session.done).toBe('failed');
    expect(finish).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a transient edit failure loses that frame only; a permanent one ends the session as failed, without completion', async () => {
    const failing = (kind: 'transient' | 'permanent') => {
      const live = new LiveSessions();
      const complete = vi.fn(async () => undefined);
      const shown: string[] = [];
      const session = live.play(sequence(4), {
        edit: (f) => {
          if (label(f) === 'phase 1') throw new Error('edit failed');
          shown.push(label(f));
        },
        complete,
        classify: () => ({ kind }),
      });
      return { live, session, shown, complete };
    };
    const transient = failing('transient');
    const permanent = failing('permanent');
    await vi.advanceTimersByTimeAsync(5000);
    expect(await transient.session.done).toBe('completed');
    expect(transient.shown).toEqual(['phase 0', 'phase 2', 'phase 3']);
    expect(transient.complete).toHaveBeenCalledTimes(1);
    expect(await permanent.session.done).toBe('failed');
    expect(permanent.shown).toEqual(['phase 0']);
    expect(permanent.complete).not.toHaveBeenCalled();
  });

  it('the adapter may have shown the first frame (or the static version) itself', async () => {
    const live = new LiveSessions();
    const shown: string[] = [];
    const liveSession = live.play(
      sequence(3, 1000, 'a'),
      { edit: (f) => void shown.push(`a ${label(f)}`) },
      { shown: true },
    );
    const staticSession = live.play(
      sequence(3, 1000, 'b'),
      { edit: (f) => void shown.push(`b ${label(f)}`) },
      { shown: true, mode: 'static' },
    );
    await vi.advanceTimersByTimeAsync(3000);
    expect([await liveSession.done, await staticSession.done]).toEqual(['completed', 'completed']);
    expect(shown).toEqual(['a phase 1', 'a phase 2']);
    expect(live.stats.staticStarts).toBe(1);
  });
});
