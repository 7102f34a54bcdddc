import { PassThrough } from 'node:stream';
import { createConsoleAdapter } from '../../../adapters/console/adapter.js';
import type { CoreDeps } from '../../../src/core/command.js';
import type { Db } from '../../../src/db/client.js';
import { buildTestCore } from '../../support/core.js';
import { silentLogger } from '../../support/log.js';

/**
 * The console adapter in-process on the real core: types the lines, ends the input and returns everything the
 * person saw (piped, so no ANSI). Lines run in order, each after the previous answer.
 */
export async function typeIntoConsole(db: Db, lines: string[], deps: Partial<CoreDeps> = {}): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let written = '';
  output.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const core = buildTestCore(db, { deps });
  const adapter = createConsoleAdapter({
    core,
    log: silentLogger(),
    input,
    output,
    interactive: false,
    timeScale: 0.001,
    timezone: 'Europe/London',
  });
  input.end(lines.map((l) => `${l}\n`).join(''));
  await adapter.finished;
  return written;
}
