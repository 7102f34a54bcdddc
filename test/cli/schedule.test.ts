import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runSchedule } from '../../src/cli/schedule.js';

const run = promisify(execFile);
const londonWeekdays =
  '{"timezone":"Europe/London","days":["mon","tue","wed","thu","fri"],"start":"09:00","end":"17:00","everyMinutes":60}';

/** Runs the real command line as the README shows it; resolves with the exit code instead of throwing. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npm', ['run', '--silent', 'cli', '--', 'schedule', ...args], {
      cwd: process.cwd(),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run cli -- schedule', () => {
  it('prints one JSON array of the first N slots as UTC ISO instants and exits 0', async () => {
    const result = await cli(['--prefs', londonWeekdays, '--from', '2026-03-27T00:00:00Z', '--count', '5']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    // Friday 27 March is still GMT; the next working day (Monday 30) is BST, one hour earlier in UTC.
    expect(JSON.parse(result.stdout)).toEqual([
      '2026-03-27T10:00:00.000Z',
      '2026-03-27T11:00:00.000Z',
      '2026-03-27T12:00:00.000Z',
      '2026-03-27T13:00:00.000Z',
      '2026-03-27T14:00:00.000Z',
    ]);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 with one line on stderr and nothing on stdout for invalid input', async () => {
    const result = await cli([
      '--prefs',
      '{"timezone":"Mars/Olympus"}',
      '--from',
      '2026-03-27T00:00:00Z',
      '--count',
      '5',
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/timezone/);
  });
});

describe('runSchedule', () => {
  const ok = (argv: string[]) => {
    const result = runSchedule(argv);
    if (!result.ok) throw new Error(result.error);
    return JSON.parse(result.value) as string[];
  };
  const error = (argv: string[]) => {
    const result = runSchedule(argv);
    if (result.ok) throw new Error(`expected an error, got ${result.value}`);
    return result.error;
  };
  const base = ['--from', '2026-03-27T00:00:00Z', '--count', '3'];

  it('crosses into BST on the next working day', () => {
    expect(ok(['--prefs', londonWeekdays, '--from', '2026-03-27T15:30:00Z', '--count', '3'])).toEqual([
      '2026-03-27T16:00:00.000Z',
      '2026-03-30T09:00:00.000Z',
      '2026-03-30T10:00:00.000Z',
    ]);
  });

  it('honours snoozeUntil', () => {
    const prefs = JSON.stringify({ ...JSON.parse(londonWeekdays), snoozeUntil: '2026-03-27T13:30:00Z' });
    expect(ok(['--prefs', prefs, ...base])).toEqual([
      '2026-03-27T14:00:00.000Z',
      '2026-03-27T15:00:00.000Z',
      '2026-03-27T16:00:00.000Z',
    ]);
  });

  it.each([
    [['--prefs', '{not json', ...base], /not valid JSON/],
    [['--prefs', londonWeekdays.replace('"17:00"', '"09:00"'), ...base], /end must differ/],
    [['--prefs', londonWeekdays.replace('"17:00"', '"25:00"'), ...base], /HH:MM/],
    [['--prefs', londonWeekdays.replace('["mon","tue","wed","thu","fri"]', '[]'), ...base], /at least one working day/],
    [['--prefs', londonWeekdays.replace('["mon","tue","wed","thu","fri"]', '["funday"]'), ...base], /days/],
    [['--prefs', londonWeekdays.replace('60', '5'), ...base], /at least 10/],
    [['--prefs', londonWeekdays.replace('60', '481'), ...base], /at most 480/],
    [['--prefs', londonWeekdays.replace('60', '60.5'), ...base], /whole number/],
    [['--prefs', londonWeekdays, '--from', 'yesterday', '--count', '3'], /--from/],
    [['--prefs', londonWeekdays, '--from', '2026-03-27T00:00:00Z', '--count', '0'], /--count/],
    [['--prefs', londonWeekdays, '--from', '2026-03-27T00:00:00Z', '--count', 'lots'], /--count/],
    [['--prefs', londonWeekdays, '--from', '2026-03-27T00:00:00Z'], /--count/],
    [[...base], /--prefs/],
    [
      ['--prefs', '{"timezone":"UTC","start":"09:00","end":"17:00","everyMinutes":60}', ...base],
      /--prefs\.days: is required/,
    ],
    [['--prefs', londonWeekdays, ...base, '--extra'], /extra/],
  ])('rejects %j', (argv, message) => {
    expect(error(argv)).toMatch(message);
  });
});
