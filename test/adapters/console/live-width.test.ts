import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createConsoleAdapter } from '../../../adapters/console/adapter.js';
import { fitToWidth } from '../../../adapters/console/render.js';
import type { CoreDeps } from '../../../src/core/command.js';
import { text, type Reply } from '../../../src/core/reply.js';
import type { Core } from '../../../src/core/router.js';
import { silentLogger } from '../../support/log.js';

/**
 * A small terminal: wraps at `columns`, honours \r, \n, ESC[2K (clear line) and ESC[nA (cursor up), ignores SGR.
 * Returns the visible rows after all the bytes, as a person would see them.
 */
function screen(bytes: string, columns: number): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  const at = (r: number) => (rows[r] ??= []);
  for (let i = 0; i < bytes.length;) {
    // eslint-disable-next-line no-control-regex -- replays the ESC [ sequences as a terminal would
    const escape = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(bytes.slice(i, i + 16));
    if (escape) {
      const n = Number(escape[1] || '1');
      if (escape[2] === 'K') rows[row] = [];
      if (escape[2] === 'A') row = Math.max(0, row - n);
      i += escape[0].length;
      continue;
    }
    const char = String.fromCodePoint(bytes.codePointAt(i)!);
    i += char.length;
    if (char === '\r') col = 0;
    else if (char === '\n') {
      row += 1;
      col = 0;
      at(row);
    } else {
      if (col >= columns) {
        row += 1;
        col = 0;
      }
      at(row)[col] = char;
      col += 1;
    }
  }
  return rows.map((r) =>
    Array.from(r, (c) => c ?? ' ')
      .join('')
      .trimEnd(),
  );
}

const longStep =
  'Step 3 of 4 · Doorway chest stretch: forearms on the door frame, elbows at shoulder height, step through gently until you feel the chest open';

function fakeCore(): Core {
  return {
    commands: [],
    deps: {} as CoreDeps,
    async handle(request) {
      if (request.input.kind !== 'command') return { summary: '', blocks: [], actions: [], visibility: 'ephemeral' };
      const reply: Reply = {
        summary: 'stretch',
        blocks: [],
        actions: [],
        visibility: 'ephemeral',
        sequence: {
          sessionId: 's',
          frames: [{ ms: 10_000, blocks: [text(longStep), text('Breathe out slowly.')] }],
          staticBlocks: [],
          actions: [],
        },
      };
      return reply;
    },
  };
}

describe('console live countdown in an 80-column terminal', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('redraws a frame wider than the terminal in place: one row on screen after ten updates, no leftover copies', async () => {
    const input = new PassThrough();
    const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    let written = '';
    output.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const adapter = createConsoleAdapter({
      core: fakeCore(),
      log: silentLogger(),
      input,
      output,
      interactive: true,
      timeScale: 1,
    });
    input.write('stretch\n');
    await vi.advanceTimersByTimeAsync(9_500);
    const rows = screen(written, 80);
    expect(rows.filter((r) => r.includes('Step 3 of 4'))).toHaveLength(1);
    // The countdown stays visible at the end of the cut line, which fits in the window.
    const live = rows.find((r) => r.includes('Step 3 of 4'))!;
    expect(live).toMatch(/…\s*\(1\)$/);
    expect(live.length).toBeLessThan(80);
    input.end();
    await vi.advanceTimersByTimeAsync(1_000);
    await adapter.finished;
  });

  it('a resized window is honoured on the next update', async () => {
    const input = new PassThrough();
    const output = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    let written = '';
    output.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const adapter = createConsoleAdapter({
      core: fakeCore(),
      log: silentLogger(),
      input,
      output,
      interactive: true,
      timeScale: 1,
    });
    input.write('stretch\n');
    await vi.advanceTimersByTimeAsync(2_500);
    output.columns = 40;
    const before = written.length;
    await vi.advanceTimersByTimeAsync(1_000);
    const update = written.slice(before).split('\r\x1b[2K').filter(Boolean).at(-1)!;
    expect(Array.from(update).length).toBeLessThan(40);
    input.end();
    await vi.advanceTimersByTimeAsync(10_000);
    await adapter.finished;
  });
});

describe('fitToWidth', () => {
  it('keeps short lines, cuts long ones with an ellipsis and ignores emphasis codes in the count', () => {
    expect(fitToWidth('short', 80)).toBe('short');
    expect(fitToWidth('x'.repeat(100), 10)).toBe(`${'x'.repeat(8)}…`);
    const bold = `\x1b[1m${'y'.repeat(20)}\x1b[22m`;
    expect(fitToWidth(bold, 30)).toBe(bold);
    expect(fitToWidth(bold, 10)).toBe(`\x1b[1m${'y'.repeat(8)}…\x1b[0m`);
    // An emoji takes two columns.
    expect(fitToWidth('🙂🙂🙂🙂🙂', 6)).toBe('🙂🙂…');
  });
});
