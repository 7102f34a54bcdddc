import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import {
  decodeActionValue,
  defineAction,
  defineCommand,
  defineForm,
  encodeActionValue,
  type CommandContext,
  type Feature,
} from '../../command.js';
import { caution, context, reply, text, yesNoOptions, type Action, type Form, type Reply } from '../../reply.js';
import { formErrorsReply } from '../../form-errors.js';
import { triage, type TriageResult } from './engine.js';
import { triageRules } from './load.js';
import { outcomeReply } from './outcome-reply.js';
import {
  NONE,
  answersSchema,
  describeIssue,
  outcomes,
  symptomLevels,
  type Outcome,
  type SymptomLevel,
  type TriageRules,
} from './schema.js';
import { triageRecords } from '../../../db/schema.js';
import type { RoutineLibrary } from '../../content/library.js';
import type { Routine } from '../../content/schema.js';

/*
 * Privacy: answers live only in the forms and in the step-2 form state that travels with the form;
 * nothing here stores or logs them. Logs name events and counts only: not values, not which checklist or
 * field was wrong (that alone hints at the answers), not outcomes.
 */

const SCREEN_FORM = 'triage.screen';
const DETAILS_FORM = 'triage.details';
/** Long enough to answer four questions slowly; short enough that stale answers are not reused. */
const STATE_TTL_SECONDS = 60 * 60;
const CONSENT_TTL_SECONDS = 24 * 60 * 60;

function screenForm(rules: TriageRules): Form {
  return {
    formId: SCREEN_FORM,
    title: 'Back pain: safety check',
    submitLabel: 'Next',
    sensitive: true,
    fields: symptomLevels.map((level) => ({
      id: level,
      label: rules.screen[level],
      kind: 'multiselect' as const,
      options: [
        ...rules.symptoms.filter((s) => s.level === level).map((s) => ({ label: s.label, value: s.code })),
        { label: rules.screen.none, value: NONE },
      ],
      hint: `tick all that apply, or "${rules.screen.none}"`,
      // A red flag higher up makes the lists below it irrelevant, so a platform must let the form through with
      // them empty (Slack's client refuses a required checklist left blank); the core still asks for them otherwise.
      optional: level !== 'emergency',
      // Any emergency or urgent sign decides the outcome (see screenSubmit), so the console must not ask further.
      ...(level === 'physio'
        ? {}
        : { submitNowOn: rules.symptoms.filter((s) => s.level === level).map((s) => s.code) }),
    })),
  };
}

function detailsForm(state: string): Form {
  return {
    formId: DETAILS_FORM,
    title: 'Back pain: your pain',
    submitLabel: 'See the outcome',
    state,
    sensitive: true,
    fields: [
      // A number rather than a 0–10 select: picking options by position would make "7" mean pain 6 in the console.
      // Discord cuts a text-input label at 45 characters: the range stays in the label, what the ends mean goes in
      // the hint (a placeholder on Discord, a hint on Slack, in brackets in the console).
      {
        id: 'pain',
        label: 'How strong is the pain right now, 0 to 10?',
        kind: 'number',
        min: 0,
        max: 10,
        hint: '0 = none, 10 = worst imaginable',
      },
      {
        id: 'weeks',
        label: 'How many weeks has it lasted?',
        kind: 'number',
        min: 0,
        decimals: true,
        hint: 'e.g. 0.5 for a few days',
      },
      {
        id: 'interferes',
        label: 'Does it stop you from working, sleeping or doing daily tasks?',
        kind: 'select',
        options: yesNoOptions,
      },
      {
        id: 'worsening',
        label: 'Is it getting worse?',
        kind: 'select',
        options: yesNoOptions,
      },
    ],
  };
}

function startReply(rules: TriageRules): Reply {
  return {
    ...reply('Back pain check', [
      text(
        '*A quick back pain check*: a few questions, then one clear suggestion of what to do next. Your answers are not stored.',
      ),
      caution(
        'If you feel very unwell or think this is an emergency, call 999 (UK), 112 (EU) or 911 (US and Canada) now instead.',
      ),
      context(rules.disclaimer),
    ]),
    form: screenForm(rules),
  };
}

const triageCommand = defineCommand({
  name: 'triage',
  summary: 'a short safety check for upper-back pain: what to do next (not a diagnosis)',
  usage: '/backcare triage',
  options: [],
  args: z.array(z.string()).max(0, '`triage` takes no arguments'),
  run: async () => startReply(triageRules()),
  // Static: Slack opens the modal before any database work, while the trigger is fresh.
  instant: () => startReply(triageRules()),
});

/** A checklist answer: an array from Slack/Discord, or comma-separated text. */
const checklist = z.union([
  z.array(z.string()),
  z.string().transform((s) => (s.trim() === '' ? [] : s.split(',').map((p) => p.trim()))),
]);

/** Validates one checklist: at least one tick, known codes of this level, "None of these" alone. */
function readChecklist(rules: TriageRules, level: SymptomLevel, raw: unknown): { codes: string[] } | { error: string } {
  const parsed = checklist.safeParse(raw ?? []);
  if (!parsed.success) return { error: 'choose from the list' };
  const picked = [...new Set(parsed.data)];
  const none = rules.screen.none;
  if (picked.length === 0) return { error: `tick what applies, or "${none}"` };
  if (picked.includes(NONE))
    return picked.length === 1 ? { codes: [] } : { error: `"${none}" cannot go with other choices` };
  const known = new Set(rules.symptoms.filter((s) => s.level === level).map((s) => s.code));
  if (picked.some((code) => !known.has(code))) return { error: 'choose from the list' };
  return { codes: picked };
}

/**
 * Every known symptom code ticked anywhere on the screen, whatever else is wrong with the lists (a "None of
 * these" beside it, an unknown code, a code in the wrong list): enough to see a red flag.
 */
function tickedCodes(rules: TriageRules, values: Record<string, unknown>): string[] {
  const known = new Set(rules.symptoms.map((s) => s.code));
  return symptomLevels.flatMap((level) => {
    const parsed = checklist.safeParse(values[level] ?? []);
    return parsed.success ? parsed.data.filter((code) => known.has(code)) : [];
  });
}

/** The red flag ticked on the screen, whatever else is wrong with the lists (see tickedCodes). */
function screenFlag(rules: TriageRules, values: Record<string, unknown>): TriageResult {
  return triage(
    { pain: 0, weeks: 0, symptoms: tickedCodes(rules, values), interferes: false, worsening: false },
    rules,
  );
}

function readScreen(
  rules: TriageRules,
  values: Record<string, unknown>,
): { errors: Record<string, string>; symptoms: string[] } {
  const errors: Record<string, string> = {};
  const symptoms: string[] = [];
  for (const level of symptomLevels) {
    const read = readChecklist(rules, level, values[level]);
    if ('error' in read) errors[level] = read.error;
    else symptoms.push(...read.codes);
  }
  return { errors, symptoms };
}

const screenSubmit = defineForm({
  formId: SCREEN_FORM,
  // Nothing is stored unless the person asks afterwards (triage.keep): the answer, a red flag's above all, can
  // go back at once, whatever the database is doing.
  pure: true,
  // Red flags win over errors: with an emergency or urgent sign ticked, nothing is refused early; submit decides.
  check(values) {
    const rules = triageRules();
    const flagged = screenFlag(rules, values);
    if (flagged.outcome === 'emergency' || flagged.outcome === 'urgent') return {};
    return readScreen(rules, values).errors;
  },
  async submit(ctx, values) {
    const rules = triageRules();
    // Red flags first, before any form error: a ticked emergency sign must never wait for the other lists.
    const flagged = screenFlag(rules, values);
    if (flagged.outcome === 'emergency') return finish(ctx, flagged, rules);
    const { errors, symptoms } = readScreen(rules, values);
    // An urgent sign wins over anything wrong in the physio list, and the pain questions cannot change it either;
    // only an unanswered emergency list is asked again first, since it could still turn out more serious.
    if (flagged.outcome === 'urgent' && !errors.emergency) return finish(ctx, flagged, rules);
    if (Object.keys(errors).length > 0) {
      ctx.log.info(
        { event: 'triage.invalid', step: 'screen', problems: Object.keys(errors).length },
        'triage screen had errors',
      );
      return formErrorsReply(screenForm(rules), errors);
    }
    const state = encodeActionValue({ s: symptoms }, { ttlSeconds: STATE_TTL_SECONDS, now: ctx.now() });
    return { ...reply('Back pain check: a few questions about the pain', []), form: detailsForm(state) };
  },
});

const yesNo = z
  .union([
    z.string(),
    z
      .array(z.string())
      .length(1)
      .transform((a) => a[0]!),
  ])
  .pipe(z.enum(['yes', 'no'], { error: 'answer yes or no' }));
const single = z.union([
  z.string(),
  z
    .array(z.string())
    .length(1)
    .transform((a) => a[0]!),
]);

const detailsValuesSchema = z.object({
  // The range is checked here too, so a pain of 11 is reported together with a bad weeks answer, not after it.
  pain: single.pipe(
    z
      .string()
      .trim()
      .regex(/^\d{1,2}$/, 'a whole number from 0 to 10')
      .transform(Number)
      .pipe(z.number().max(10, 'a whole number from 0 to 10')),
  ),
  // People type "2,5" as often as "2.5".
  weeks: single.pipe(
    z
      .string()
      .trim()
      .regex(/^\d{1,6}([.,]\d{1,3})?$/, 'a number of weeks, such as 2 or 0.5')
      .transform((v) => Number(v.replace(',', '.'))),
  ),
  interferes: yesNo.transform((v) => v === 'yes'),
  worsening: yesNo.transform((v) => v === 'yes'),
});

const stateSchema = z.object({ s: z.array(z.string()).max(50) });

const detailsSubmit = defineForm({
  formId: DETAILS_FORM,
  pure: true,
  async submit(ctx, values, state) {
    const rules = triageRules();
    const decoded = state === undefined ? undefined : decodeActionValue(state, ctx.now());
    const carried = stateSchema.safeParse(decoded);
    if (!carried.success) {
      ctx.log.info({ event: 'triage.state_invalid' }, 'triage state missing, expired or malformed');
      return reply('This check has expired.', [
        text('This check has expired or could not be read. Start again with `/backcare triage`.'),
      ]);
    }
    const parsed = detailsValuesSchema.safeParse(values);
    const errors: Record<string, string> = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'pain');
        errors[field] ??= issue.message;
      }
    }
    const answers = parsed.success
      ? answersSchema(rules).safeParse({ ...parsed.data, symptoms: carried.data.s })
      : undefined;
    if (answers && !answers.success) {
      const field = String(answers.error.issues[0]?.path[0] ?? '');
      // Symptoms come from our own state: if they do not validate, the state was tampered with or the rules changed.
      if (field === 'symptoms') {
        ctx.log.info({ event: 'triage.state_invalid' }, 'triage state carries unknown codes');
        return reply('This check has expired.', [
          text('This check has expired or could not be read. Start again with `/backcare triage`.'),
        ]);
      }
      errors[field] = describeIssue(answers.error, { ...parsed.data, symptoms: carried.data.s }).replace(
        /^[a-z]+: /,
        '',
      );
    }
    if (Object.keys(errors).length > 0 || !answers?.success) {
      ctx.log.info(
        { event: 'triage.invalid', step: 'details', problems: Object.keys(errors).length },
        'triage details had errors',
      );
      return formErrorsReply(detailsForm(state!), errors);
    }
    return finish(ctx, triage(answers.data, rules), rules);
  },
});

/**
 * Routines that fit the outcome: for each suggestion line, the shortest matching routine in the library
 * (physio lines also carry the routine's first caution). Without a library, or when nothing matches,
 * the `/backcare` commands from the content file.
 */
export function routineSuggestions(
  rules: TriageRules,
  outcome: 'self_care' | 'physio',
  library: RoutineLibrary | undefined,
): string[] {
  const picked: Routine[] = [];
  for (const criteria of library ? rules.routineSuggestions[outcome] : []) {
    const candidates = library!
      .matching({
        kinds: criteria.kinds,
        ...(criteria.area ? { area: criteria.area } : {}),
        ...(criteria.topic ? { topic: criteria.topic } : {}),
      })
      .filter((r) => !picked.includes(r));
    // Shortest first: a gentle start; ties keep library order, so the suggestion is stable.
    const routine = [...candidates].sort((a, b) => a.minutes - b.minutes)[0];
    if (routine) picked.push(routine);
  }
  if (picked.length === 0)
    return rules.fallbackRoutines[outcome].map((r) => (r.command ? `\`${r.command}\`: ${r.text}` : r.text));
  return picked.map((r) => {
    const line = `*${r.title}* (${r.minutes} min): ${r.summary} Start it with \`/backcare routine ${r.id}\`.`;
    return outcome === 'physio' && r.cautions[0] ? `${line} _Caution: ${r.cautions[0]}_` : line;
  });
}

function finish(ctx: CommandContext, result: TriageResult, rules: TriageRules): Reply {
  // Only that a check finished: not the outcome, which would say something about the person's health.
  ctx.log.info({ event: 'triage.completed' }, 'triage completed');
  const at = Math.floor(ctx.now().getTime() / 1000);
  const consent: Action[] =
    result.outcome === 'emergency'
      ? []
      : [
          // "No" comes first and is the highlighted choice: nothing is kept unless the person asks.
          {
            type: 'button',
            actionId: 'triage.discard',
            label: rules.consent.decline,
            value: encodeActionValue({}),
            style: 'primary',
          },
          {
            type: 'button',
            actionId: 'triage.keep',
            label: rules.consent.accept,
            value: encodeActionValue({ o: result.outcome, t: at }, { ttlSeconds: CONSENT_TTL_SECONDS, now: ctx.now() }),
          },
        ];
  const routines =
    result.outcome === 'self_care' || result.outcome === 'physio'
      ? routineSuggestions(rules, result.outcome, ctx.deps.library)
      : [];
  return outcomeReply(result, rules, { routines, consent });
}

const keepAction = defineAction({
  actionId: 'triage.keep',
  value: z.object({ o: z.enum(outcomes), t: z.number().int().positive() }),
  async run(ctx, value) {
    const rules = triageRules();
    const { user } = await ctx.ensureUser();
    const recordedAt = new Date(value.t * 1000);
    // The time of the check identifies it, so pressing the button twice keeps one record.
    const existing = await ctx.db
      .select({ id: triageRecords.id })
      .from(triageRecords)
      .where(and(eq(triageRecords.userId, user.id), eq(triageRecords.recordedAt, recordedAt)));
    if (existing.length === 0)
      await ctx.db.insert(triageRecords).values({ userId: user.id, outcome: value.o, recordedAt });
    ctx.log.info({ event: 'triage.kept' }, 'triage outcome kept with consent');
    const name = rules.outcomes[value.o as Outcome].name;
    const message = `Kept: the outcome (${name}) and the date, nothing else. \`/backcare me\` shows it; \`/backcare forget-me\` deletes it.`;
    return reply(message, [text(message)]);
  },
});

const discardAction = defineAction({
  actionId: 'triage.discard',
  value: z.object({}),
  run: async () => reply('Nothing was kept.', [text('Nothing was kept: your answers and the outcome are gone.')]),
});

export const triageFeature: Feature = {
  commands: [triageCommand],
  actions: [keepAction, discardAction],
  forms: [screenSubmit, detailsSubmit],
};
