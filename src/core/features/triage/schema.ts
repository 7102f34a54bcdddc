import { z } from 'zod';
import { habitTopics, routineKinds, targetAreas } from '../../content/schema.js';
import { limits } from '../../reply.js';

/** Symptom levels, highest first; `self_care` is what remains when none applies. */
export const symptomLevels = ['emergency', 'urgent', 'physio'] as const;
export type SymptomLevel = (typeof symptomLevels)[number];

export const outcomes = ['emergency', 'urgent', 'physio', 'self_care'] as const;
export type Outcome = (typeof outcomes)[number];

/** The physio reasons that are not symptoms, in the order reasons are listed. */
const physioReasons = ['severe_pain', 'persistent', 'interferes', 'worsening'] as const;
export type PhysioReason = (typeof physioReasons)[number];

/** The screen's "None of these" choice; no symptom may use this code. */
export const NONE = 'none';

/** Slack's checkboxes element holds at most 10 options: symptoms of one level plus "None of these". */
const MAX_SYMPTOMS_PER_LEVEL = 9;

const line = (max: number) =>
  z.string({ error: 'must be text' }).trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

const symptomSchema = z.strictObject({
  code: z
    .string({ error: 'must be text' })
    .regex(/^[a-z][a-z_]*[a-z]$/, 'must be lower-case words joined by underscores')
    .max(40)
    .refine((c) => c !== NONE, `"${NONE}" is reserved for "None of these"`),
  level: z.enum(symptomLevels, { error: `must be one of ${symptomLevels.join(', ')}` }),
  /** Plain words, shown in the checklist and in "why": a checklist choice, so within the tightest option limit (Slack's). */
  label: line(limits.formOptionLabel),
});

/** One line of routine suggestions: the shortest library routine matching these criteria. */
const suggestionSchema = z.strictObject({
  kinds: z.array(z.enum(routineKinds, { error: `must be one of ${routineKinds.join(', ')}` })).min(1),
  area: z.enum(targetAreas, { error: `must be one of ${targetAreas.join(', ')}` }).optional(),
  topic: z.enum(habitTopics, { error: `must be one of ${habitTopics.join(', ')}` }).optional(),
});

const fallbackSchema = z.strictObject({
  command: z
    .string()
    .regex(/^\/backcare [a-z-]+$/, 'must be a /backcare command')
    .optional(),
  text: line(200),
});

const outcomeBase = { name: line(60), headline: line(600) };

export const triageRulesSchema = z
  .strictObject({
    thresholds: z.strictObject({
      severePain: z.number().int().min(0).max(10),
      persistentWeeks: z.number().positive(),
    }),
    screen: z.strictObject({ emergency: line(100), urgent: line(100), physio: line(100), none: line(60) }),
    symptoms: z.array(symptomSchema).min(1),
    reasons: z.strictObject({
      severe_pain: line(100),
      persistent: line(100),
      interferes: line(100),
      worsening: line(100),
    }),
    disclaimer: line(300),
    outcomes: z.strictObject({
      emergency: z.strictObject({ ...outcomeBase, why: line(100) }),
      urgent: z.strictObject({
        ...outcomeBase,
        why: line(100),
        mentionIntro: line(100),
        mention: z.array(line(200)).min(1),
        escalate: line(400),
      }),
      physio: z.strictObject({
        ...outcomeBase,
        why: line(100),
        meanwhile: line(100),
        caution: line(400),
        escalateIntro: line(100),
        escalate: z.array(line(400)).min(1),
      }),
      self_care: z.strictObject({
        ...outcomeBase,
        meanwhile: line(100),
        comeBackIntro: line(100),
        comeBack: z.array(line(200)).min(1),
      }),
    }),
    routineSuggestions: z.strictObject({
      self_care: z.array(suggestionSchema).min(1),
      physio: z.array(suggestionSchema).min(1),
    }),
    fallbackRoutines: z.strictObject({
      self_care: z.array(fallbackSchema).min(1),
      physio: z.array(fallbackSchema).min(1),
    }),
    consent: z.strictObject({ question: line(400), decline: line(60), accept: line(60) }),
  })
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.symptoms.forEach((symptom, index) => {
      if (seen.has(symptom.code))
        ctx.addIssue({
          code: 'custom',
          path: ['symptoms', index, 'code'],
          message: `"${symptom.code}" is listed twice`,
        });
      if ((physioReasons as readonly string[]).includes(symptom.code)) {
        ctx.addIssue({
          code: 'custom',
          path: ['symptoms', index, 'code'],
          message: `"${symptom.code}" is a reason name, not a symptom code`,
        });
      }
      seen.add(symptom.code);
    });
    for (const level of symptomLevels) {
      const count = rules.symptoms.filter((s) => s.level === level).length;
      if (count === 0)
        ctx.addIssue({ code: 'custom', path: ['symptoms'], message: `needs at least one ${level} symptom` });
      if (count > MAX_SYMPTOMS_PER_LEVEL) {
        ctx.addIssue({
          code: 'custom',
          path: ['symptoms'],
          message: `at most ${MAX_SYMPTOMS_PER_LEVEL} ${level} symptoms fit one checklist`,
        });
      }
    }
  });

/** The rules as the code uses them (the loader fills the thresholds into the reason labels). */
export type TriageRules = z.infer<typeof triageRulesSchema>;

/** What the person answered. Validated against the rules (symptom codes come from the content file). */
export interface Answers {
  pain: number;
  weeks: number;
  symptoms: string[];
  interferes: boolean;
  worsening: boolean;
}

const schemas = new WeakMap<TriageRules, z.ZodType<Answers>>();

/** The answers schema for these rules, built once per rules object (building a zod schema costs far more than using it). */
export function answersSchema(rules: TriageRules): z.ZodType<Answers> {
  let schema = schemas.get(rules);
  if (!schema) {
    schema = buildAnswersSchema(rules);
    schemas.set(rules, schema);
  }
  return schema;
}

function buildAnswersSchema(rules: TriageRules): z.ZodType<Answers> {
  const known = new Set(rules.symptoms.map((s) => s.code));
  const codes = rules.symptoms.map((s) => s.code).join(', ');
  return z.strictObject({
    pain: z
      .number({ error: 'must be a whole number from 0 to 10' })
      .int('must be a whole number from 0 to 10')
      .min(0, 'must be a whole number from 0 to 10')
      .max(10, 'must be a whole number from 0 to 10'),
    weeks: z.number({ error: 'must be a number of weeks, 0 or more' }).min(0, 'must be a number of weeks, 0 or more'),
    symptoms: z.array(
      z.string({ error: 'symptom codes are text' }).refine((code) => known.has(code), {
        error: (issue) => `unknown symptom code ${JSON.stringify(issue.input)} (known: ${codes})`,
      }),
      { error: 'must be a list of symptom codes (use [] for none)' },
    ),
    interferes: z.boolean({ error: 'must be true or false' }),
    worsening: z.boolean({ error: 'must be true or false' }),
  });
}

/** One readable line for the first problem: `pain: must be a whole number from 0 to 10`. */
export function describeIssue(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid answers';
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  const where = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
  // zod does not keep the input on its issues, so look the value up to tell "missing" from "wrong".
  let value: unknown = input;
  for (const segment of issue.path)
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[segment] : undefined;
  if (issue.code === 'invalid_type' && value === undefined) return `${where}: is missing`;
  return where ? `${where}: ${issue.message}` : issue.message;
}

export type ParseAnswersResult = { ok: true; answers: Answers } | { ok: false; error: string };

/** Parses and validates answers given as JSON text (the CLI's input). */
export function parseAnswersJson(raw: string, rules: TriageRules): ParseAnswersResult {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'answers are not valid JSON' };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    return { ok: false, error: 'answers must be a JSON object' };
  const parsed = answersSchema(rules).safeParse(json);
  return parsed.success ? { ok: true, answers: parsed.data } : { ok: false, error: describeIssue(parsed.error, json) };
}
