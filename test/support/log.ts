import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/config/logger.js';

/** A real pino logger whose JSON lines are kept in memory for assertions. */
export function captureLogger(level = 'debug'): {
  log: Logger;
  lines: () => Record<string, unknown>[];
  raw: () => string;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const log = createLogger({ level, destination });
  return {
    log,
    raw: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export const silentLogger = (): Logger => createLogger({ level: 'silent' });
