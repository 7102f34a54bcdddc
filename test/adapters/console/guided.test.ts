import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createConsoleAdapter } from '../../../adapters/console/adapter.js';
import type { CoreDeps } from '../../../src/core/command.js';
import { LiveSessions } from '../../../src/core/live-sessions.js';
import { text, type Reply, type Sequence } from '../../../src/core/reply.js';
import type { CoreRequest } from '../../../src/core/request.js';
import type { Core } from '../../../src/core/router.js';
import { silentLogger } from '../../support/log.js';

function sequenceReply(label: string, durations: number[]): Reply {
  const actions: Reply['actions'] = [
    { type: 'button', actionId: 'guided.done', label: 'Done', value: `{"l":"${label}"}` },
    { type: 'button', actionId: 'guided.stop', label: 'Stop', value: `{"l":"${label}"}` },
  ];
  const sequence: Sequence = {
    sessionId: 'guided:console:local:you',
    frames: durations.map((ms, i) => ({ ms, blocks: [text(`${label} frame ${i}`)] })),
    staticBlocks: [],
    onComplete: { actionId: 'guided.complete', value: `{"l":"${label}"}` },
    actions,
  };
  return { summary: label, blocks: [text(`start ${label}`)], actions, visibility: 'ephemeral', sequence };
}

/** A stand-in core: commands start sequences, actions are recorded and answered in plain text. */
function fakeCore(received: CoreRequest['input'][]): Core {
  return {
    commands: [],
    deps: {} as CoreDeps,
    async handle(request) {
      received.push(request.input);
      if (request.input.kind === 'command') return sequenceReply(request.input.text, [4000, 2000, 3000]);
      if (request.input.kind === 'action')
        return {
          summary: 'ok',
          blocks: [text(`answered ${request.input.actionId}`)],
          actions: [],
          visibility: 'ephemeral',
        };
      return { summary: '', blocks: [], actions: [], visibility: 'ephemeral' };
    },
  };
}

function harness(interactive: boolean) {
  const input = new PassThrough();
  const output = new PassThrough();
  let written = '';
  output.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const received: CoreRequest['input'][] = [];
  const adapter = createConsoleAdapter({
    core: fakeCore(received),
    log: silentLogger(),
    input,
    output,
    interactive,
    timeScale: 1,
  });
  return { adapter, input, received, output: () => written };
}

describe('console adapter: live sequences', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('in a terminal, rewrites the line each second with a countdown, then dispatches the completion once', async () => {
    const h = harness(true);
    await h.adapter.start();
    h.input.write('breathe\n');
    await vi.advanceTimersByTimeAsync(0);
    expect(h.output()).toContain('\r\x1b[2Kbreathe frame 0');
    await vi.advanceTimersByTimeAsync(3500);
    expect(h.output()).toContain('breathe frame 0  (3)');
    expect(h.output()).toContain('breathe frame 0  (1)');
    expect(h.output()).not.toContain('breathe frame 1');
    await vi.advanceTimersByTimeAsync(500);
    expect(h.output()).toContain('\r\x1b[2Kbreathe frame 1');
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.received.filter((i) => i.kind === 'action')).toEqual([
      { kind: 'action', actionId: 'guided.complete', value: '{"l":"breathe"}' },
    ]);
    expect(h.output()).toContain('answered guided.complete');
    h.input.end();
    await h.adapter.finished;
  });

  it("plays through the core's live-session engine with no budget and its per-second countdown", async () => {
    const play = vi.spyOn(LiveSessions.prototype, 'play');
    try {
      const h = harness(true);
      h.input.write('breathe\n');
      await vi.advanceTimersByTimeAsync(0);
      expect(play).toHaveBeenCalledTimes(1);
      expect(play.mock.calls[0]![0].sessionId).toBe('guided:console:local:you');
      expect(typeof play.mock.calls[0]![1].tick).toBe('function');
      h.input.end();
      await vi.advanceTimersByTimeAsync(10_000);
      await h.adapter.finished;
    } finally {
      play.mockRestore();
    }
  });

  it('a number key presses the button: Stop cancels the frames still to come', async () => {
    const h = harness(false);
    h.input.write('stretch\n');
    await vi.advanceTimersByTimeAsync(4500);
    expect(h.output()).toContain('[2] Stop');
    h.input.write('2\n');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.received.filter((i) => i.kind === 'action')).toEqual([
      { kind: 'action', actionId: 'guided.stop', value: '{"l":"stretch"}' },
    ]);
    expect(h.output()).toContain('stretch frame 1');
    expect(h.output()).not.toContain('stretch frame 2');
    expect(h.output()).toContain('answered guided.stop');
    expect(vi.getTimerCount()).toBe(0);
    h.input.end();
    await h.adapter.finished;
  });

  it('a new session replaces the one playing: frames never interleave, only the second completes', async () => {
    const h = harness(false);
    h.input.write('first\n');
    await vi.advanceTimersByTimeAsync(1000);
    h.input.write('second\n');
    await vi.advanceTimersByTimeAsync(20_000);
    const frames = [...h.output().matchAll(/^(first|second) frame (\d)$/gm)].map((m) => `${m[1]}${m[2]}`);
    expect(frames).toEqual(['first0', 'second0', 'second1', 'second2']);
    expect(h.received.filter((i) => i.kind === 'action')).toEqual([
      { kind: 'action', actionId: 'guided.complete', value: '{"l":"second"}' },
    ]);
    h.input.end();
    await h.adapter.finished;
  });

  it('at end of input, waits for the live session and its completion before finishing', async () => {
    const h = harness(false);
    h.input.end('breathe\n');
    let finished = false;
    void h.adapter.finished!.then(() => (finished = true));
    await vi.advanceTimersByTimeAsync(8999);
    expect(finished).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(finished).toBe(true));
    expect(h.output()).toContain('answered guided.complete');
  });
});
