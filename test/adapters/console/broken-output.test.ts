import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createConsoleAdapter } from '../../../adapters/console/adapter.js';
import { createCore } from '../../../src/core/router.js';
import { features } from '../../../src/core/features/index.js';
import type { Db } from '../../../src/db/client.js';
import { silentLogger } from '../../support/log.js';

describe('console adapter with a reader that goes away', () => {
  it('still finishes at end of input when its output pipe breaks while full', async () => {
    // An output that accepts one small chunk, then reports back-pressure and breaks (like EPIPE on a closed pipe).
    const output = new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        setImmediate(() => callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
      },
    });
    const input = new PassThrough();
    const core = createCore({ db: {} as Db, log: silentLogger(), now: () => new Date(), privacyFloor: 5 }, features);
    const adapter = createConsoleAdapter({
      core,
      log: silentLogger(),
      input,
      output,
      interactive: false,
      timeScale: 1,
    });
    await adapter.start();
    input.end('help\nhelp\n');
    const outcome = await Promise.race([
      adapter.finished!.then(() => 'finished'),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 5_000)),
    ]);
    expect(outcome).toBe('finished');
  });
});
