/**
 * `npm run --silent cli -- triage --answers '<json>'`: the same rules engine the bot uses, as a script.
 * Prints exactly one JSON line `{"outcome":…,"reasons":[…]}` and exits 0; invalid input exits 2 with
 * one line on stderr and nothing on stdout.
 */
import { parseArgs } from 'node:util';
import { triage } from '../core/features/triage/engine.js';
import { triageRules } from '../core/features/triage/load.js';
import { parseAnswersJson } from '../core/features/triage/schema.js';
import { EXIT_INVALID, EXIT_OK, type CliCommand } from './contract.js';

const USAGE = `usage: npm run --silent cli -- triage --answers '{"pain":4,"weeks":1,"symptoms":[],"interferes":false,"worsening":false}'`;

function invalid(stderr: NodeJS.WritableStream, message: string): number {
  stderr.write(`triage: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return EXIT_INVALID;
}

const triageCommand: CliCommand = {
  async run(args, io) {
    let answers: string | undefined;
    try {
      ({
        values: { answers },
      } = parseArgs({ args, options: { answers: { type: 'string' } }, strict: true, allowPositionals: false }));
    } catch (error) {
      // parseArgs names the offending flag or argument in its message.
      return invalid(io.stderr, `${(error as Error).message}; ${USAGE}`);
    }
    if (answers === undefined) return invalid(io.stderr, `--answers is required; ${USAGE}`);

    const rules = triageRules();
    const parsed = parseAnswersJson(answers, rules);
    if (!parsed.ok) return invalid(io.stderr, `invalid answers: ${parsed.error}`);
    const { outcome, reasons } = triage(parsed.answers, rules);
    io.stdout.write(`${JSON.stringify({ outcome, reasons })}\n`);
    return EXIT_OK;
  },
};

export default triageCommand;
