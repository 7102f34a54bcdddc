import { WebAPIRateLimitedError } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSlackLiveSessions, type LiveMessageApi, type SlackLiveSessions } from '../../../adapters/slack/live.js';
import type { SlackMessage } from '../../../adapters/slack/render.js';
import { LiveSessions } from '../../../src/core/live-sessions.js';
import type { Sequence } from '../../../src/core/reply.js';
import { silentLogger } from '../../support/log.js';

interface Update {
  channel: string;
  ts: string;
  at: number;
  message: SlackMessage;
}

/** A fake of the two Slack calls a live session makes, recording when each chat.update happened. */
function fakeApi(updates: Update[], options: { failOnce?: () => Error | undefined } = {}) {
  let posted = 0;
  const api: LiveMessageApi = {
    async post() {
      posted += 1;
      return { channel: `D0USER${String(posted).padStart(4, '0')}`, ts: `1700000000.${posted}` };
    },
    async update(channel, ts, message) {
      const failure = options.failOnce?.();
      if (failure) throw failure;
      updates.push({ channel, ts, at: Date.now(), message });
    },
  };
  return api;
}

/** Two minutes of 4-second phases, like a box-breathing session. */
function breathing(sessionId: string, frames = 30): Sequence {
  return {
    sessionId,
    frames: Array.from({ length: frames }, (_, i) => ({
      ms: 4000,
      blocks: [{ type: 'text', text: `${sessionId} phase ${i}` }],
    })),
    staticBlocks: [{ type: 'text', text: `${sessionId}: breathe in 4, hold 4, out 4, hold 4 for two minutes` }],
    actions: [{ type: 'button', actionId: 'guided.stop', label: 'Stop', value: '{}', style: 'danger' }],
    onComplete: { actionId: 'guided.complete', value: '{}' },
  };
}

const finalFor = (id: string): SlackMessage => ({
  text: `${id} done`,
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `${id} done` } }],
});

/** The most chat.update calls in any 60-second window. */
function peakPerMinute(updates: Update[]): number {
  const times = updates.map((u) => u.at).sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < times.length; i += 1) {
    while (times[i]! - times[j]! >= 60_000) j += 1;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

function runSessions(live: SlackLiveSessions, api: LiveMessageApi, count: number) {
  return Array.from(
    { length: count },
    (_, i) =>
      live.start({
        workspace: 'T0TESTTEAM',
        user: `U${i}`,
        sequence: breathing(`s${i}`),
        api,
        finish: async () => finalFor(`s${i}`),
      }).done,
  );
}

describe('live sessions under the chat.update budget', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-03-02T10:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("plays through the core's live-session engine, keyed by the workspace's budget", async () => {
    const play = vi.spyOn(LiveSessions.prototype, 'play');
    try {
      const updates: Update[] = [];
      const live = createSlackLiveSessions({ log: silentLogger(), updatesPerMinute: 45 });
      const done = live.start({
        workspace: 'T0TESTTEAM',
        user: 'U1',
        sequence: breathing('s1', 3),
        api: fakeApi(updates),
        finish: async () => finalFor('s1'),
      }).done;
      expect(play).toHaveBeenCalledTimes(1);
      expect(play.mock.calls[0]![0].sessionId).toBe('s1');
      expect(play.mock.calls[0]![2]).toMatchObject({ user: 'U1', scope: 'T0TESTTEAM' });
      expect(live.active('T0TESTTEAM')).toBe(1);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(await done).toBe('completed');
      expect(updates.map((u) => u.message.text)).toEqual([
        'Guided session in progress',
        'Guided session in progress',
        's1 done',
      ]);
    } finally {
      play.mockRestore();
    }
  });

  it('two sessions fit: every phase is shown live, then the final message', async () => {
    const updates: Update[] = [];
    const live = createSlackLiveSessions({ log: silentLogger(), updatesPerMinute: 45 });
    const done = runSessions(live, fakeApi(updates), 2);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(await Promise.all(done)).toEqual(['completed', 'completed']);
    expect(live.stats).toMatchObject({ frameUpdates: 58, skippedFrames: 0, staticFallbacks: 0, finals: 2 });
    expect(peakPerMinute(updates)).toBeLessThanOrEqual(45);
  });

  it.each([6, 12, 40, 100])(
    '%i concurrent sessions stay under 45 updates a minute and all end with their final message',
    async (count) => {
      const updates: Update[] = [];
      const live = createSlackLiveSessions({ log: silentLogger(), updatesPerMinute: 45 });
      const done = runSessions(live, fakeApi(updates), count);
      await vi.advanceTimersByTimeAsync(15 * 60_000);
      expect(await Promise.all(done)).toEqual(Array.from({ length: count }, () => 'completed'));
      expect(peakPerMinute(updates)).toBeLessThanOrEqual(45);
      // Degraded, not broken: phases were skipped or replaced by the static version.
      expect(live.stats.skippedFrames + live.stats.staticFallbacks).toBeGreaterThan(0);
      for (let i = 0; i < count; i += 1) {
        const mine = updates.filter(
          (u) =>
            u.message.text === `s${i} done` ||
            JSON.stringify(u.message.blocks).includes(`s${i} `) ||
            JSON.stringify(u.message.blocks).includes(`s${i}:`),
        );
        expect(mine.at(-1)?.message).toEqual(finalFor(`s${i}`));
      }
      expect(live.stats.finals).toBe(count);
    },
  );

  it('many sessions fall back to the static version instead of skipping phases forever', async () => {
    const updates: Update[] = [];
    const live = createSlackLiveSessions({ log: silentLogger(), updatesPerMinute: 45 });
    const done = runSessions(live, fakeApi(updates), 12);
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    await Promise.all(done);
    expect(live.stats.staticFallbacks).toBe(12);
    expect(updates.some((u) => JSON.stringify(u.message.blocks).includes('breathe in 4, hold 4'))).toBe(true);
  });

  it('a 429 pauses the workspace for Retry-After, and the session still ends with its final message', async () => {
    const updates: Update[] = [];
    let failed = false;
    let failedAt = 0;
    const api = fakeApi(updates, {
      failOnce: () => {
        if (failed || Date.now() < new Date('2026-03-02T10:00:20Z').getTime()) return undefined;
        failed = true;
        failedAt = Date.now();
        return new WebAPIRateLimitedError(30);
      },
    });
    const live = createSlackLiveSessions({ log: silentLogger(), updatesPerMinute: 45 });
    const done = live.start({
      workspace: 'T0TESTTEAM',
      user: 'U1',
      sequence: breathing('s1'),
      api,
      finish: async () => finalFor('s1'),
    }).done;
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(await done).toBe('completed');
    expect(failed).toBe(true);
    expect(live.stats.rateLimited).toBe(1);
    expect(updates.filter((u) => u.at > failedAt && u.at < failedAt + 30_000)).toHaveLength(0);
    expect(updates.at(-1)?.message).toEqual(finalFor('s1'));
  });

  it('a final message that hits 429 is retried after Retry-After', async () => {
    const updates: Update[] = [];
    let finalTries = 0;
    const api = fakeApi(updates, {
      failOnce: () => (updates.length === 2 && finalTries++ === 0 ? new WebAPIRateLimitedError(12) : undefined),
    });
    const live = createSlackLiveSessions({ log: silentLogger(), updatesPerMinute: 45 });
    const done = live.start({
      workspace: 'T0TESTTEAM',
      user: 'U1',
      sequence: breathing('s1', 3),
      api,
      finish: async () => finalFor('s1'),
    }).done;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await done).toBe('completed');
    expect(updates.at(-1)?.message).toEqual(finalFor('s1'));
    expect(updates.at(-1)!.at - updates.at(-2)!.at).toBeGreaterThanOrEqual(12_000);
  });

  it('pressing a button on the live message stops it: nothing more is shown', async () => {
    const updates: Update[] = [];
    const live = createSlackLiveSessions({ log: silentLogger(), updatesPerMinute: 45 });
    const done = live.start({
      workspace: 'T0TESTTEAM',
      user: 'U1',
      sequence: breathing('s1'),
      api: fakeApi(updates),
      finish: async () => finalFor('s1'),
    }).done;
    await vi.advanceTimersByTimeAsync(10_000);
    const shown = updates.length;
    expect(await live.stopByMessage('D0USER0001', '1700000000.1')).toBe(true);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(await done).toBe('stopped');
    expect(updates).toHaveLength(shown);
  });

  it('a new sequence for the same person replaces the one still playing', async () => {
    const updates: Update[] = [];
    const live = createSlackLiveSessions({ log: silentLogger(), updatesPerMinute: 45 });
    const api = fakeApi(updates);
    const first = live.start({
      workspace: 'T0TESTTEAM',
      user: 'U1',
      sequence: breathing('same'),
      api,
      finish: async () => finalFor('first'),
    }).done;
    await vi.advanceTimersByTimeAsync(6000);
    const second = live.start({
      workspace: 'T0TESTTEAM',
      user: 'U1',
      sequence: breathing('same', 2),
      api,
      finish: async () => finalFor('second'),
    }).done;
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect([await first, await second]).toEqual(['stopped', 'completed']);
    expect(updates.filter((u) => u.message.text === 'first done')).toHaveLength(0);
    expect(updates.at(-1)?.message).toEqual(finalFor('second'));
  });
});
