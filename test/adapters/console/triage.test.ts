import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleAdapter } from '../../../adapters/console/adapter.js';
import type { Database } from '../../../src/db/client.js';
import { buildTestCore } from '../../support/core.js';
import { openTestDatabase } from '../../support/db.js';
import { silentLogger } from '../../support/log.js';

/** The console adapter on the real core, fed typed lines as from a pipe; resolves with everything it printed. */
async function type(database: Database, lines: string[]): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let written = '';
  output.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const adapter = createConsoleAdapter({ core: buildTestCore(database.db), log: silentLogger(), input, output, interactive: false, timeScale: 0.001 });
  await adapter.start();
  input.end(`${lines.join('\n')}\n`);
  await adapter.finished;
  return written;
}

// A form-walking test, not a storage test: PGlite only.
describe('console: /backcare triage safety screen', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await database.close();
  });

  it('an emergency sign with Enter on the two other checklists shows the emergency outcome at once', async () => {
    // 3 = "Sudden, severe, tearing pain between the shoulder blades"; Enter, Enter on the urgent and physio lists.
    const out = await type(database, ['/backcare triage', '3', '', '']);
    expect(out).toContain('! Call your local emergency number now');
    expect(out).toContain('Sudden, severe, tearing pain between the shoulder blades');
    expect(out).not.toMatch(/need another look|✗/);
    expect(out).not.toContain('How strong is the pain');
  });

  it('an emergency sign wins over "None of these" ticked with a symptom in another checklist', async () => {
    const out = await type(database, ['/backcare triage', '1', 'none,fever', '']);
    expect(out).toContain('! Call your local emergency number now');
    expect(out).not.toMatch(/need another look/);
  });

  it('an urgent sign with Enter on the physio checklist shows the urgent outcome at once', async () => {
    const out = await type(database, ['/backcare triage', 'none', 'fever', '']);
    expect(out).toContain('Contact a doctor today');
    expect(out).not.toMatch(/need another look|How strong is the pain/);
  });

  it('without any red flag, the checklists left empty are still asked again', async () => {
    const out = await type(database, ['/backcare triage', 'none', '', '']);
    expect(out).toContain('Some answers need another look');
    expect(out).not.toContain('Call your local emergency number now');
  });

  it.each(['0.5', '0,5'])('takes %s weeks and ends in self-care', async (weeks) => {
    const out = await type(database, ['/backcare triage', 'none', 'none', 'none', '3', weeks, 'no', 'no']);
    expect(out).not.toMatch(/need another look|✗/);
    expect(out).toContain('Self-care is a reasonable place to start');
  });
});
