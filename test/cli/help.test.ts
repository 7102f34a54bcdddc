import { describe, expect, it } from 'vitest';
import { cliInProcess } from '../support/cli.js';
import { cliCommand, run } from '../support/spawn.js';

describe('npm run cli -- --help', () => {
  it('prints the usage on stdout and exits 0; an unknown command still exits 2 on stderr', async () => {
    // One real process shows the exit status and streams; the dispatch's other answers are checked in-process.
    const help = await run(cliCommand[0], [...cliCommand[1], '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run cli -- <triage\|schedule> \[options\]\n/);
    expect(help.stderr).toBe('');
    for (const flag of ['-h', 'help']) expect(await cliInProcess([flag])).toEqual({ ...help, code: 0 });
    for (const argv of [['nope'], [], ['constructor']]) {
      const bad = await cliInProcess(argv);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toMatch(/^usage:/);
    }
  }, 60_000);
});
