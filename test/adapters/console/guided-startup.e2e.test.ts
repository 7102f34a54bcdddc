import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, repoRoot, run } from '../../support/spawn.js';

/**
 * Start-up with a broken routine file. The bot reads content/ next to its own code, so the test runs a copy of
 * the code with one file broken (never the shared working tree's content).
 */
describe('start-up stops on a broken routine file', () => {
  let copy: string;
  beforeAll(() => {
    copy = mkdtempSync(path.join(tmpdir(), 'backcare-content-'));
    for (const dir of ['src', 'adapters', 'content', 'drizzle'])
      cpSync(path.join(repoRoot, dir), path.join(copy, dir), { recursive: true });
    for (const file of ['package.json', 'tsconfig.json']) cpSync(path.join(repoRoot, file), path.join(copy, file));
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    const file = path.join(copy, 'content/routines/stretches.yaml');
    const original = readFileSync(file, 'utf8');
    const broken = original.replace('    kind: stretch\n', '    kind: yoga\n');
    expect(broken).not.toBe(original);
    writeFileSync(file, broken);
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('exits 1 naming the file, the line, the path inside it and the problem, before touching the database', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', path.join(copy, 'src/main.ts')], {
      input: '/backcare breathe\n',
      env: isolatedEnv({ BACKCARE_DATA_DIR: path.join(copy, 'data'), LOG_LEVEL: 'silent' }),
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^backcare could not start: content error in (.*\/)?content\/routines\/stretches\.yaml:5: routines\[0\]\.kind: must be one of breathing, stretch, foam_roll/m,
    );
    expect(result.stdout).toBe('');
    expect(existsSync(path.join(copy, 'data', 'pgdata'))).toBe(false);
  }, 90_000);
});
