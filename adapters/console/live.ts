import type { Logger } from '../../src/config/logger.js';
import type { Frame, Sequence } from '../../src/core/ports.js';
import type { CoreInput } from '../../src/core/ports.js';
import { LiveSessions, type LiveSession } from '../../src/core/ports.js';
import { fitToWidth, renderBlocks, renderReply, type ConsoleStyle } from './render.js';
import type { SerialQueue } from './serial-queue.js';
import type { Terminal } from './terminal.js';

export interface ConsoleLiveOptions {
  log: Logger;
  terminal: Terminal;
  queue: SerialQueue;
  /** Sends the sequence's completion to the core, as a pressed button would. */
  send(input: CoreInput): Promise<void>;
  /** Rewrite frames in place on one row (a real terminal) rather than printing each on its own line. */
  interactive: boolean;
  style: ConsoleStyle;
  timeScale: number;
}

/** The one sequence playing in the terminal; a new one, or a pressed button, stops it. */
export interface ConsoleLive {
  play(sequence: Sequence, intro: string): Promise<void>;
  stop(): void;
  readonly playing: boolean;
  /** Resolves once no sequence is playing and its completion was handed to the queue. */
  idle(): Promise<void>;
}

export function createConsoleLive(options: ConsoleLiveOptions): ConsoleLive {
  const { log, terminal, queue, interactive, style } = options;
  // Sequences play through the same engine as on the chat platforms, with no budget and a per-second countdown.
  const live = new LiveSessions({ timeScale: options.timeScale, log, platform: 'console' });
  let playing: LiveSession | null = null;

  const render = (frame: Frame, remainingMs?: number) => {
    const textValue = renderBlocks(frame.blocks, style);
    const countdown = remainingMs === undefined ? '' : `  (${Math.ceil(remainingMs / 1000)})`;
    if (!interactive) return terminal.say(textValue);
    // In a terminal the frame replaces the previous one on the same row, so it must never wrap: it is cut to the
    // width (read each time, the window may have been resized), keeping the countdown visible.
    const line = fitToWidth(textValue.replace(/\n/g, '  '), terminal.columns() - countdown.length);
    return terminal.write(`\r\x1b[2K${line}${countdown}`);
  };

  function stop(): void {
    playing?.stop();
    playing = null;
  }

  async function play(sequence: Sequence, intro: string): Promise<void> {
    stop();
    if (intro) await terminal.say(intro);
    const hint = renderReply(
      { summary: '', blocks: [], actions: sequence.actions, visibility: 'ephemeral' },
      style,
    ).text;
    if (hint) await terminal.say(hint);
    const session = live.play(sequence, {
      edit: (frame) => render(frame),
      ...(interactive
        ? { tick: (frame: Frame, _index: number, remainingMs: number) => render(frame, remainingMs) }
        : {}),
      complete: async (onComplete) => {
        if (!onComplete) return;
        const { actionId, value } = onComplete;
        if (interactive) await terminal.write('\n');
        void queue.enqueue(
          () => options.send({ kind: 'action', actionId, value }),
          (error: unknown) => log.error({ err: error }, 'console completion failed'),
        );
        await queue.idle();
      },
      onEnd: (outcome) => {
        if (playing === session) playing = null;
        // A completion's reply already started on a fresh line (see complete); anything else ends the live line here.
        if (interactive && !(outcome === 'completed' && sequence.onComplete)) return terminal.write('\n');
      },
    });
    playing = session;
  }

  return {
    play,
    stop,
    get playing() {
      return playing !== null;
    },
    idle: () => live.idle(),
  };
}
