/**
 * The CLI's dispatch, apart from the process it runs in (see main.ts), so tests can drive every command and exit
 * code in-process and keep child processes for what only a process shows (npm wiring, real exit status).
 */
import { EXIT_INVALID, type CliCommand, type CliIo } from './contract.js';

const commands: Record<string, () => Promise<CliCommand>> = {
  // Each CLI command lives in its own file here; add one line per command.
  triage: async () => (await import('./triage.js')).default,
  schedule: async () => (await import('./schedule.js')).default,
};

/** Runs `argv` (without node and the script) and returns the exit code; output goes to `io`. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  const usage = `usage: npm run cli -- <${Object.keys(commands).join('|')}> [options]\n`;
  // Asking for help is not a mistake: the usage goes to stdout and the exit code is 0.
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${usage}Each command's options and exit codes are in README.md.\n`);
    return 0;
  }
  // Own keys only: `cli constructor` must get the usage line, not Object's constructor.
  const load = name && Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    io.stderr.write(usage);
    return EXIT_INVALID;
  }
  const command = await load();
  return command.run(rest, io);
}
