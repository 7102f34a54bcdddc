/**
 * `npm run cli -- <command> [options]`: small, scriptable entry points whose output and exit codes are
 * public contracts (see README). Exit 0 on success, 2 on invalid input (one line on stderr, nothing on stdout).
 */
import { runCli } from './run.js';

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cli failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
