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
  const adapter = createConsoleAdapter({
    core: buildTestCore(database.db),
    log: silentLogger(),
    input,
    output,
    interactive: false,
    timeScale: 0.001,
  });
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

  // The prompts of the urgent and physio checklists, from content/triage.yaml.
  const urgentPrompt = 'Do you have any of these?';
  const physioPrompt = 'And any of these?';

  it('an emergency sign ends the screen at once: a bad answer typed after it is never taken for the urgent list', async () => {
    const out = await type(database, ['/backcare triage', '3', 'x']);
    const outcome = out.indexOf('! Call your local emergency number now');
    expect(outcome).toBeGreaterThan(-1);
    expect(out).toContain('Sudden, severe, tearing pain between the shoulder blades');
    expect(out).not.toContain(urgentPrompt);
    expect(out).not.toContain(physioPrompt);
    expect(out).not.toMatch(/✗|need another look/);
  });

  it('an emergency sign typed beside a choice that does not exist still ends the screen at once', async () => {
    const out = await type(database, ['/backcare triage', '3, 9']);
    expect(out).toContain('! Call your local emergency number now');
    expect(out).toContain('Sudden, severe, tearing pain between the shoulder blades');
    expect(out).not.toContain(urgentPrompt);
    expect(out).not.toMatch(/✗|need another look/);
  });

  it('an urgent sign ends the screen without asking the physio list', async () => {
    // 1 on the urgent list = "Fever or chills"; the "x" after it would be a bad physio answer if that were asked.
    const out = await type(database, ['/backcare triage', 'none', '1', 'x']);
    expect(out).toContain(urgentPrompt);
    expect(out).toContain('Contact a doctor today');
    expect(out).toContain('Fever or chills');
    expect(out).not.toContain(physioPrompt);
    expect(out).not.toMatch(/✗|need another look|How strong is the pain/);
    // A choice that does not exist beside the urgent sign does not hold it back either.
    const typo = await type(database, ['/backcare triage', 'none', '1, 99']);
    expect(typo).toContain('Contact a doctor today');
    expect(typo).not.toContain(physioPrompt);
  });

  it('without a red flag, an answer that is not a choice is still asked again on the spot', async () => {
    const noFlag = await type(database, ['/backcare triage', 'none', 'none', '99', 'none', '3', '1', 'no', 'no']);
    expect(noFlag).toContain('✗ "99" is not one of the choices');
    expect(noFlag.split(physioPrompt).length - 1).toBe(2);
    expect(noFlag).toContain('Self-care is a reasonable place to start');
    const emergencyTypo = await type(database, ['/backcare triage', 'x']);
    expect(emergencyTypo).toContain('✗ "x" is not one of the choices');
    expect(emergencyTypo).not.toContain('Call your local emergency number now');
  });

  it.each(['0.5', '0,5'])('takes %s weeks and ends in self-care', async (weeks) => {
    const out = await type(database, ['/backcare triage', 'none', 'none', 'none', '3', weeks, 'no', 'no']);
    expect(out).not.toMatch(/need another look|✗/);
    expect(out).toContain('Self-care is a reasonable place to start');
  });
});
