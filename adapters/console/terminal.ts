import type { Writable } from 'node:stream';

/** The console's output: writes that respect backpressure, and the terminal's width. */
export interface Terminal {
  /** Resolves once the stream took the text (or is gone: a reader that left must not stall the console). */
  write(value: string): Promise<void>;
  /** One line; nothing for an empty value. */
  say(value: string): Promise<void>;
  /** The terminal's width now; 80 when the output does not say (not a TTY). */
  columns(): number;
}

export function createTerminal(output: Writable): Terminal {
  // A reader that went away (EPIPE, closed pipe) must not leave us waiting for a 'drain' that never comes.
  let outputGone = false;
  output.on('error', () => (outputGone = true));
  const write = (value: string) =>
    new Promise<void>((resolve) => {
      if (outputGone || output.destroyed) return resolve();
      if (output.write(value)) return resolve();
      const done = () => {
        output.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      output.once('drain', done).once('close', done).once('error', done);
    });
  return {
    write,
    say: (value) => (value === '' ? Promise.resolve() : write(`${value}\n`)),
    columns() {
      const columns = (output as { columns?: unknown }).columns;
      return typeof columns === 'number' && columns > 0 ? columns : 80;
    },
  };
}
