import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess } from '../support/cli.js';
import { cliCommand } from '../support/spawn.js';

const root = path.resolve(import.meta.dirname, '../..');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process with a clean environment (no database or platform settings). */
function cli(command: string, args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { NODE_ENV: 'test' };
    for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) env[key] = process.env[key]!;
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The entry `npm run cli` runs, without npm's own start-up cost (the npm form is tested below). */
const triageEntry = (...args: string[]) => cli(cliCommand[0], [...cliCommand[1], 'triage', ...args]);
/** The same dispatch in-process: every rule and message without a node start each (the process forms are above). */
const triageCli = (...args: string[]) => cliInProcess(['triage', ...args]);

const base = { pain: 4, weeks: 1, symptoms: [] as string[], interferes: false, worsening: false };
const answers = (overrides: Record<string, unknown> = {}) => JSON.stringify({ ...base, ...overrides });

describe('npm run cli -- triage', () => {
  it('behaves exactly as the issue writes it: one JSON line, exit 0', async () => {
    const result = await cli('npm', ['run', '--silent', 'cli', '--', 'triage', '--answers', answers()]);
    expect(result).toEqual({ code: 0, stdout: '{"outcome":"self_care","reasons":[]}\n', stderr: '' });
  });

  it('stable weakness in an arm or hand means a physiotherapist (the documented npm form)', async () => {
    const json = '{"pain":3,"weeks":1,"symptoms":["arm_weakness"],"interferes":false,"worsening":false}';
    const result = await cli('npm', ['run', '--silent', 'cli', '--', 'triage', '--answers', json]);
    expect(result).toEqual({ code: 0, stdout: '{"outcome":"physio","reasons":["arm_weakness"]}\n', stderr: '' });
  });

  it('invalid input through the entry itself: exit status 2, one line on stderr, nothing on stdout', async () => {
    const result = await triageEntry('--answers', 'pain=4');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^triage: invalid answers: .*not valid JSON.*\n$/);
  });

  it.each([
    [answers({ pain: 7 }), { outcome: 'physio', reasons: ['severe_pain'] }],
    [answers({ pain: 6, weeks: 2.9 }), { outcome: 'self_care', reasons: [] }],
    [
      answers({ weeks: 3, worsening: true, symptoms: ['radiating'] }),
      { outcome: 'physio', reasons: ['radiating', 'persistent', 'worsening'] },
    ],
    [
      answers({ symptoms: ['radiating', 'arm_weakness', 'arm_numbness'] }),
      { outcome: 'physio', reasons: ['arm_numbness', 'arm_weakness', 'radiating'] },
    ],
    [
      answers({ symptoms: ['night_pain', 'fever', 'arm_numbness'] }),
      { outcome: 'urgent', reasons: ['fever', 'night_pain'] },
    ],
    [answers({ pain: 0, symptoms: ['fever', 'leg_weakness'] }), { outcome: 'emergency', reasons: ['leg_weakness'] }],
  ])('%s → %j', async (json, expected) => {
    const result = await triageCli('--answers', json);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toEqual(expected);
  });

  it('accepts --answers=<json> too', async () => {
    const result = await triageCli(`--answers=${answers({ interferes: true })}`);
    expect(result).toEqual({ code: 0, stdout: '{"outcome":"physio","reasons":["interferes"]}\n', stderr: '' });
  });

  it.each([
    ['unknown symptom code', ['--answers', answers({ symptoms: ['sore'] })], /unknown symptom code "sore"/],
    ['pain out of range', ['--answers', answers({ pain: 11 })], /pain: must be a whole number from 0 to 10/],
    ['negative weeks', ['--answers', answers({ weeks: -1 })], /weeks: must be a number of weeks/],
    [
      'missing field',
      ['--answers', JSON.stringify({ pain: 4, weeks: 1, symptoms: [], interferes: false })],
      /worsening: is missing/,
    ],
    ['not JSON', ['--answers', 'pain=4'], /not valid JSON/],
    ['missing --answers', [], /--answers is required/],
    ['--answers without a value', ['--answers'], /--answers/],
    ['an extra flag', ['--answers', answers(), '--verbose'], /Unknown option '--verbose'/],
    ['a stray argument', ['now', '--answers', answers()], /Unexpected argument 'now'/],
  ])('rejects %s: exit 2, one line on stderr, nothing on stdout', async (_name, args, message) => {
    const result = await triageCli(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.endsWith('\n')).toBe(true);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
