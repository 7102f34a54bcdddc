import { describe, expect, it } from 'vitest';
import { EXIT_INVALID } from '../../src/cli/contract.js';
import { cliInProcess } from '../support/cli.js';

describe('npm run cli -- <object property name>', () => {
  it('`constructor` and `__proto__` are unknown commands: the usage line and the invalid-input exit, not a crash', async () => {
    // Through the dispatch the entry calls (test/cli/help.test.ts shows the exit status of a real process).
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const result = await cliInProcess([name]);
      expect({ name, code: result.code, stdout: result.stdout }).toEqual({ name, code: EXIT_INVALID, stdout: '' });
      expect(result.stderr).toMatch(/^usage: npm run cli -- <triage\|schedule/);
    }
  });
});
