import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleAdapter } from '../../../adapters/console/adapter.js';
import type { CoreDeps } from '../../../src/core/command.js';
import { text } from '../../../src/core/reply.js';
import type { Core } from '../../../src/core/router.js';
import type { Database } from '../../../src/db/client.js';
import { openTestDatabase } from '../../support/db.js';
import { silentLogger } from '../../support/log.js';
import { typeIntoConsole } from './console-core.js';

describe('console: small answers to wrong input', () => {
  it('with a single choice, a wrong number says "Type 1 to choose it", not "from 1 to 1"', async () => {
    const core: Core = {
      commands: [],
      deps: {} as CoreDeps,
      async handle() {
        return {
          summary: 'one',
          blocks: [text('One thing to press')],
          actions: [{ type: 'button', actionId: 'x', label: 'Go', value: '{}' }],
          visibility: 'ephemeral',
        };
      },
    };
    const input = new PassThrough();
    const output = new PassThrough();
    let written = '';
    output.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const adapter = createConsoleAdapter({
      core,
      log: silentLogger(),
      input,
      output,
      interactive: false,
      timeScale: 1,
    });
    input.end('hello\n2\n');
    await adapter.finished;
    expect(written).toContain('Type 1 to choose it.');
    expect(written).not.toContain('from 1 to 1');
  });

  describe('with the real core', () => {
    let database: Database;
    beforeAll(async () => {
      database = await openTestDatabase('pglite');
    });
    afterAll(() => database.close());

    it('a 100,000-character timezone is refused as too long and the rest of the settings form is kept', async () => {
      const out = await typeIntoConsole(database.db, [
        'settings edit',
        '1',
        'x'.repeat(100_000),
        'Europe/Paris',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ]);
      expect(out).toContain('✗ that answer is too long: at most 100 characters (it had 100000)');
      expect(out).not.toContain("couldn't understand");
      expect(out).toContain('== Saved. Your Backcare settings ==');
      expect(out).toMatch(/Nudges: on/);
      expect(out).toContain('Timezone: Europe/Paris');
    });
  });
});
