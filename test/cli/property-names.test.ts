import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EXIT_INVALID } from '../../src/cli/contract.js';
import { cliCommand, repoRoot } from '../support/spawn.js';

describe('npm run cli -- <object property name>', () => {
  it('`constructor` and `__proto__` are unknown commands: the usage line and the invalid-input exit, not a crash', () => {
    const env: Record<string, string> = { NODE_ENV: 'test' };
    for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) env[key] = process.env[key]!;
    for (const name of ['constructor', '__proto__', 'toString']) {
      const result = spawnSync(cliCommand[0], [...cliCommand[1], name], { cwd: repoRoot, env, encoding: 'utf8' });
      expect({ name, code: result.status, stdout: result.stdout }).toEqual({ name, code: EXIT_INVALID, stdout: '' });
      expect(result.stderr).toMatch(/^usage: npm run cli -- <triage\|schedule/);
    }
  });
});
