/**
 * `npm run cli -- <command> [options]`: small, scriptable entry points whose output and exit codes are
 * public contracts (see README). Exit 0 on success, 2 on invalid input (one line on stderr, nothing on stdout).
 */
import { EXIT_INVALID, type CliCommand } from './contract.js';

const commands: Record<string, () => Promise<CliCommand>> = {
  // Each CLI command lives in its own file here; add one line per command.
  triage: async () => (await import('./triage.js')).default,
  schedule: async () => (await import('./schedule.js')).default,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const usage = `usage: npm run cli -- <${Object.keys(commands).join('|')}> [options]\n`;
  // Asking for help is not a mistake: the usage goes to stdout and the exit code is 0.
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}Each command's options and exit codes are in README.md.\n`);
    return 0;
  }
  // Own keys only: `cli constructor` must get the usage line, not Object's constructor.
  const load = name && Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(usage);
    return EXIT_INVALID;
  }
  const command = await load();
  return command.run(rest, { stdout: process.stdout, stderr: process.stderr });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cli failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
