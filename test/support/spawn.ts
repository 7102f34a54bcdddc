import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

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

/** The bot's entry with tsx directly (what `npm start` runs, minus npm's own start-up). */
export function runBot(input: string, env: Record<string, string> = {}): Promise<RunResult> {
  return run(path.join(repoRoot, 'node_modules/.bin/tsx'), ['src/main.ts'], { input, env: isolatedEnv(env) });
}

/** A temporary data directory for one test's embedded database. */
export function tempDataDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'backcare-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
