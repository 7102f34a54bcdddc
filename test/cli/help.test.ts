import { describe, expect, it } from 'vitest';
import { cliCommand, run } from '../support/spawn.js';

describe('npm run cli -- --help', () => {
  it('prints the usage on stdout and exits 0; an unknown command still exits 2 on stderr', async () => {
    for (const flag of ['--help', '-h']) {
      const help = await run(cliCommand[0], [...cliCommand[1], flag]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^usage: npm run cli -- <triage\|schedule> \[options\]\n/);
      expect(help.stderr).toBe('');
    }
    const bad = await run(cliCommand[0], [...cliCommand[1], 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^usage:/);
  }, 60_000);
});
