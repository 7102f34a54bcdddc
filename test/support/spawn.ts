import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Env for a child bot: no platform tokens, no DATABASE_URL, nothing inherited that could pick another adapter. */
export function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'NODE_OPTIONS', 'TMPDIR'];
  const env: Record<string, string> = {};
  for (const key of keep) if (process.env[key]) env[key] = process.env[key]!;
  return { ...env, NODE_ENV: 'test', ...extra };
}

/** Runs a command in the repository with `input` piped to stdin, and collects its output and exit code. */
export function run(
  command: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: options.env ?? isolatedEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: ${command} ${args.join(' ')}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The compiled bot from the global setup, or undefined without it (another config: then tsx runs the sources). */
const builtBotDir: string | undefined = inject('builtBotDir');

/**
 * The bot as the image runs it: node on the compiled JavaScript, one process, no npm or shell. `npm start`
 * (node --import tsx src/main.ts) has tests of its own (npm-start.test.ts, console.e2e.test.ts).
 */
export const botCommand: [string, string[]] = builtBotDir
  ? [process.execPath, [path.join(builtBotDir, 'src/main.js')]]
  : [process.execPath, ['--import', 'tsx', 'src/main.ts']];

/** The CLI's entry the same way (what `npm run cli` runs, minus npm and tsx; the npm form is tested too). */
export const cliCommand: [string, string[]] = builtBotDir
  ? [process.execPath, [path.join(builtBotDir, 'src/cli/main.js')]]
  : [process.execPath, ['--import', 'tsx', 'src/cli/main.ts']];

/** The bot's entry with `input` piped to stdin (what `npm start` runs, minus npm's own start-up). */
export function runBot(input: string, env: Record<string, string> = {}, timeoutMs?: number): Promise<RunResult> {
  return run(botCommand[0], botCommand[1], { input, env: isolatedEnv(env), timeoutMs });
}

/**
 * A temporary data directory for one test's embedded database. `migrated` starts it from a copy of this run's
 * migrated PGlite directory (see global-setup.ts), so the bot skips initdb and migrations; leave it off where a
 * first start on an empty directory is the point.
 */
export function tempDataDir(options: { migrated?: boolean } = {}): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'backcare-test-'));
  const template = options.migrated ? inject('pgliteDataDirTemplate') : undefined;
  // Without the global setup (another config), the bot migrates an empty directory as on a first start.
  if (template) cpSync(template, path.join(dir, 'pgdata'), { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
