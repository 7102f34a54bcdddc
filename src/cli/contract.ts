import type { Writable } from 'node:stream';

export const EXIT_OK = 0;
/** Invalid input: one clear line on stderr, nothing on stdout. */
export const EXIT_INVALID = 2;

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
}

export interface CliCommand {
  /** Returns the exit code; writes its result to stdout and its one-line complaint to stderr. */
  run(args: string[], io: CliIo): Promise<number>;
}
