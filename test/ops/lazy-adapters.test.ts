import { afterAll, describe, expect, it } from 'vitest';
import { run, isolatedEnv, tempDataDir } from '../support/spawn.js';

describe('adapters are imported only when configured', () => {
  const data = tempDataDir({ migrated: true });
  afterAll(() => data.cleanup());

  it('starting with the console adapter loads neither discord.js nor @slack/bolt', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', 'test/ops/fixtures/loaded-adapters.ts', data.dir], {
      env: isolatedEnv(),
      timeoutMs: 90_000,
    });
    expect(result.code, result.stderr).toBe(0);
    const line = result.stdout.trim().split('\n').at(-1)!;
    const loaded = JSON.parse(line) as { withConsole: string[]; afterSlackImport: string[] };
    expect(loaded.withConsole).toEqual([]);
    // The control: the same check does see Bolt once the Slack adapter is imported.
    expect(loaded.afterSlackImport).toContain('@slack/bolt');
  }, 120_000);
});
