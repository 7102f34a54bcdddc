import type { REST } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDiscordLiveSessions, type PlayRequest } from '../../../adapters/discord/live.js';
import type { DiscordMessage } from '../../../adapters/discord/render.js';
import { LiveSessions } from '../../../src/core/live-sessions.js';
import { text, type Sequence } from '../../../src/core/reply.js';
import { silentLogger } from '../../support/log.js';

function sequence(frames: number): Sequence {
  return {
    sessionId: 'guided:discord:G1:U1',
    frames: Array.from({ length: frames }, (_, i) => ({ ms: 100, blocks: [text(`phase ${i}`)] })),
    staticBlocks: [text('written out')],
    onComplete: { actionId: 'guided.complete', value: 'packed' },
    actions: [],
  };
}

function request(edits: string[], frames: number): PlayRequest {
  return {
    sequence: sequence(frames),
    live: true,
    userId: 'U1',
    interactionId: 'I1',
    createdAt: Date.now(),
    context: {
      actor: { platform: 'discord', workspaceExternalId: 'G1', userExternalId: 'U1' },
      intro: null,
      components: [],
      encoding: { ctx: {} },
    },
    render: (blocks) => ({ content: (blocks[0] as { text: string }).text, embeds: [], components: [] }),
    editOriginal: async (message: DiscordMessage) => {
      edits.push(String(message.content));
      return 'M1';
    },
    complete: async () => ({ content: 'How do you feel?', embeds: [], components: [] }),
  };
}

describe('Discord live sessions', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-03-02T10:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it("play through the core's live-session engine; the edit budget skips frames, the final message still lands", async () => {
    const play = vi.spyOn(LiveSessions.prototype, 'play');
    try {
      const edits: string[] = [];
      const live = createDiscordLiveSessions({ rest: {} as REST, log: silentLogger(), editsPerSecond: 3 });
      live.play(request(edits, 8));
      expect(play).toHaveBeenCalledTimes(1);
      expect(play.mock.calls[0]![2]).toMatchObject({ user: 'U1', message: { interactionId: 'I1' }, shown: true });
      expect(live.active).toBe(1);
      await vi.advanceTimersByTimeAsync(1000);
      await live.idle();
      // The adapter showed phase 0; 3 edits a second allow phases 1-3, then the final message is not held back.
      expect(edits).toEqual(['phase 1', 'phase 2', 'phase 3', 'How do you feel?']);
      expect(live.stats).toMatchObject({ frameUpdates: 3, skippedFrames: 4, finals: 1 });
    } finally {
      play.mockRestore();
    }
  });

  it('a press on the message stops its session, found by the message id the first edit returned', async () => {
    const edits: string[] = [];
    const live = createDiscordLiveSessions({ rest: {} as REST, log: silentLogger() });
    live.play(request(edits, 8));
    await vi.advanceTimersByTimeAsync(150);
    expect(await live.stopFor({ userId: 'U2', messageId: 'M1' })).toBe(false);
    expect(await live.stopFor({ userId: 'U1', messageId: 'M1' })).toBe(true);
    await vi.advanceTimersByTimeAsync(2000);
    expect(edits).toEqual(['phase 1']);
    expect(live.active).toBe(0);
  });
});
