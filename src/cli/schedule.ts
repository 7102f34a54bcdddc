/**
 * `npm run --silent cli -- schedule --prefs '<json>' --from <ISO> --count N`
 * prints one JSON array of the first N nudge slots strictly after --from, as UTC ISO instants.
 * The bot's scheduler uses the same `nextSlots`.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { nextSlots, slotRulesSchema } from '../jobs/slots.js';
import { EXIT_INVALID, EXIT_OK, type CliCommand } from './contract.js';

const MAX_COUNT = 1000;

const optionsSchema = z.object({
  prefs: z.string({ error: '--prefs is required (a JSON object)' }),
  from: z.iso
    .datetime({ offset: true, error: '--from must be an ISO instant with a timezone, like 2026-03-27T00:00:00Z' })
    .transform((s) => new Date(s)),
  count: z
    .string({ error: '--count is required' })
    .regex(/^\d+$/, '--count must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, '--count must be at least 1').max(MAX_COUNT, `--count must be at most ${MAX_COUNT}`)),
});

type Parsed = { ok: true; value: string } | { ok: false; error: string };

function firstIssue(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid input';
  const where = issue.path.length > 0 ? `${prefix}.${issue.path.join('.')}: ` : `${prefix}: `;
  // zod's wording for an absent field ("expected string, received undefined") says less than this.
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `${where}is required`;
  return `${where}${issue.message}`;
}

/** Pure: argv in, the JSON line or the one-line complaint out. */
export function runSchedule(argv: string[]): Parsed {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { prefs: { type: 'string' }, from: { type: 'string' }, count: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  const options = optionsSchema.safeParse(values);
  if (!options.success) return { ok: false, error: options.error.issues[0]?.message ?? 'invalid options' };

  let json: unknown;
  try {
    json = JSON.parse(options.data.prefs);
  } catch {
    return { ok: false, error: '--prefs is not valid JSON' };
  }
  const rules = slotRulesSchema.safeParse(json);
  if (!rules.success) return { ok: false, error: firstIssue(rules.error, '--prefs') };

  const slots = nextSlots(rules.data, options.data.from, options.data.count);
  return { ok: true, value: JSON.stringify(slots.map((s) => s.toISOString())) };
}

const schedule: CliCommand = {
  async run(args, io) {
    const result = runSchedule(args);
    if (!result.ok) {
      io.stderr.write(`schedule: ${result.error.replace(/\s*\n\s*/g, ' ')}\n`);
      return EXIT_INVALID;
    }
    io.stdout.write(`${result.value}\n`);
    return EXIT_OK;
  },
};

export default schedule;
