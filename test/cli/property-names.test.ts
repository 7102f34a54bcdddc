import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_INVALID } from '../../src/cli/contract.js';

const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');

describe('npm run cli -- <object property name>', () => {
  it('`constructor` and `__proto__` are unknown commands: the usage line and the invalid-input exit, not a crash', () => {
    const env: Record<string, string> = { NODE_ENV: 'test' };
    for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) env[key] = process.env[key]!;
    for (const name of ['constructor', '__proto__', 'toString']) {
      const result = spawnSync(tsx, ['src/cli/main.ts', name], { cwd: root, env, encoding: 'utf8' });
      expect({ name, code: result.status, stdout: result.stdout }).toEqual({ name, code: EXIT_INVALID, stdout: '' });
      expect(result.stderr).toMatch(/^usage: npm run cli -- <triage\|schedule/);
    }
  });
});
