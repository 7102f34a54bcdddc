import type { Document, LineCounter, Node } from 'yaml';
import type { z } from 'zod';
import { breathingPatterns, breathingSeconds, displayMinutes, stepSeconds } from '../pacing.js';
import { formatPath } from './loader.js';
import { yaml } from './yaml.js';
import {
  breathingPatternIds,
  equipmentKinds,
  habitTopics,
  relaxVariants,
  routineFileSchema,
  routineKinds,
  routineSchema,
  targetAreas,
  type Routine,
  type RoutinePlace,
} from './schema.js';

/**
 * A team's own routine is ordinary content: it is checked by the very schema the built-in
 * files are (`routineSchema` / `routineFileSchema`). What is added here is only what a team cannot opt
 * out of: the standard caution lines, put first and put back every time the routine is read.
 */

/** Every team routine carries these, whatever its author wrote (shown first, so a nudge's one caution is this). */
export const STANDARD_CAUTIONS: readonly string[] = [
  'Move slowly and only as far as is comfortable. Stop if anything hurts, tingles or goes numb.',
  'Written by your team, not reviewed by Backcare. If you have an injury or a health condition, check with a health professional first.',
];

/** Foam-roll and trigger-point routines also get the spine line the content schema insists on. */
export const SPINE_CAUTION_LINE =
  'Never roll directly over the spine: keep the roller or ball on the muscles beside it.';

function standardCautionsFor(kind: unknown): string[] {
  return kind === 'foam_roll' || kind === 'trigger_point'
    ? [...STANDARD_CAUTIONS, SPINE_CAUTION_LINE]
    : [...STANDARD_CAUTIONS];
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The raw routine with the standard lines APPENDED, for validation: the author's own cautions keep their
 * indexes, so a schema error still points at the line they wrote. Anything that is not an object or whose
 * cautions are not a list is passed through for the schema to reject.
 */
function withStandardAppended(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const record = raw as Record<string, unknown>;
  const own = record.cautions === undefined ? [] : record.cautions;
  if (!Array.isArray(own)) return raw;
  // Rows stored before routines had a place, and forms that do not ask, get the place their equipment implies.
  return {
    ...record,
    place: record.place ?? defaultTeamPlace(record.equipment),
    ...playedMinutesOf(record),
    cautions: [...own, ...standardCautionsFor(record.kind)],
  };
}

/**
 * A breathing routine plays whole cycles of its pattern, and 4-7-8 at most four: its minutes become what that
 * really plays, so a row stored before the limit stays valid and shows people the true length.
 */
function playedMinutesOf(record: Record<string, unknown>): { minutes?: number } {
  const { pattern, minutes } = record;
  if (typeof pattern !== 'string' || !Object.hasOwn(breathingPatterns, pattern)) return {};
  if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > 30) return {};
  return {
    minutes: displayMinutes(breathingSeconds(breathingPatterns[pattern as keyof typeof breathingPatterns], minutes)),
  };
}

/** The validated routine as it is stored and shown: standard lines first, then the team's own, no repeats. */
function standardFirst(routine: Routine): Routine {
  const standard = standardCautionsFor(routine.kind);
  const own = routine.cautions.filter((c) => !standard.some((s) => same(s, c)));
  return { ...routine, cautions: [...standard, ...own.filter((c, i) => own.findIndex((o) => same(o, c)) === i)] };
}

export type TeamRoutineResult = { ok: true; routine: Routine } | { ok: false; issues: z.core.$ZodIssue[] };

/** One routine (from the form, or a stored row read back) through the content schema, cautions guaranteed. */
export function validateTeamRoutine(raw: unknown): TeamRoutineResult {
  const parsed = routineSchema.safeParse(withStandardAppended(raw));
  return parsed.success
    ? { ok: true, routine: standardFirst(parsed.data) }
    : { ok: false, issues: parsed.error.issues };
}

// ---- the YAML document (the content format) -------------------------------------------------------------

/** The YAML a lead pastes or uploads: the content files' own format, `routines: [...]`. */
export type YamlImportResult = { ok: true; routines: Routine[] } | { ok: false; message: string; line?: number };

/** The deepest node that exists along the issue's path, so a missing key still points at its parent's line. */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  const { isCollection } = yaml();
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as Node | null | undefined;
    if (node && (isCollection(node) || 'range' in node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

export function parseTeamRoutinesYaml(source: string): YamlImportResult {
  const { LineCounter, parseDocument } = yaml();
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    return { ok: false, message: `not valid YAML: ${first.message.split('\n')[0]}`, ...(line ? { line } : {}) };
  }
  const data: unknown = doc.toJS();
  const raw =
    typeof data === 'object' && data !== null && Array.isArray((data as { routines?: unknown }).routines)
      ? {
          ...(data as Record<string, unknown>),
          routines: (data as { routines: unknown[] }).routines.map(withStandardAppended),
        }
      : data;
  const parsed = routineFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const line = lineOf(doc, counter, issue.path);
    return {
      ok: false,
      message: `${formatPath(issue.path) || 'the document'}: ${issue.message}`,
      ...(line ? { line } : {}),
    };
  }
  const ids = new Set<string>();
  for (const [index, routine] of parsed.data.routines.entries()) {
    if (ids.has(routine.id)) {
      const line = lineOf(doc, counter, ['routines', index, 'id']);
      return {
        ok: false,
        message: `routines[${index}].id: "${routine.id}" is used twice in this document`,
        ...(line ? { line } : {}),
      };
    }
    ids.add(routine.id);
  }
  return { ok: true, routines: parsed.data.routines.map(standardFirst) };
}

// ---- the form -------------------------------------------------------------------------------------------

/** Form field ids; a schema issue's first path segment names the field it belongs to. */
const routineFormFields = [
  'id',
  'title',
  'kind',
  'summary',
  'targets',
  'equipment',
  'pattern',
  'variant',
  'topic',
  'steps',
  'minutes',
  'cautions',
  'source',
] as const;
export type RoutineFormField = (typeof routineFormFields)[number];

const DEFAULT_TEAM_SOURCE = 'Written by a team lead for this workspace.';
/**
 * Where a team routine that does not say is done: a foam roller means the floor and a wall means the wall (a lead's
 * roller routine must never reach a desk-break nudge); anything else is desk work.
 */
function defaultTeamPlace(equipment: unknown): RoutinePlace {
  const list = Array.isArray(equipment) ? equipment : [];
  if (list.includes('foam_roller')) return 'floor';
  if (list.includes('wall')) return 'wall';
  return 'desk';
}

/** `Hold the stretch [30s]` or `(30 s)` at the end of a step times it; other steps get a reading pause. */
const TIMED_STEP = /\s*[[(]\s*(\d{1,3})\s*s(?:ec(?:ond)?s?)?\s*[\])]\s*$/i;

/** Steps and cautions arrive as one text: one per line, or separated by `;` (single-line inputs). */
function splitLines(value: string): string[] {
  return value
    .split(/\r?\n|;/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function parseStep(line: string): { text: string; seconds?: number } {
  const timed = TIMED_STEP.exec(line);
  if (!timed) return { text: line };
  return { text: line.slice(0, timed.index).trim(), seconds: Number(timed[1]) };
}

const one = (value: string | string[] | undefined): string =>
  (Array.isArray(value) ? (value[0] ?? '') : (value ?? '')).trim();
const many = (value: string | string[] | undefined): string[] =>
  (Array.isArray(value) ? value : (value ?? '').split(',')).map((v) => v.trim()).filter(Boolean);

/**
 * The form's values as a routine in the content format. Minutes left blank are worked out from the steps
 * the same way the schema checks them, so a lead does not have to do the sum.
 */
export function routineFromForm(values: Record<string, string | string[]>): Record<string, unknown> {
  const steps = splitLines(one(values.steps)).map(parseStep);
  const typedMinutes = one(values.minutes);
  const paced = steps.reduce((sum, s) => sum + stepSeconds(s), 0);
  const minutes = typedMinutes === '' ? Math.max(1, Math.round(paced / 60)) : Number(typedMinutes);
  const optional = (key: 'pattern' | 'variant' | 'topic') => {
    const v = one(values[key]);
    return v === '' || v === 'none' ? {} : { [key]: v };
  };
  const equipment = many(values.equipment);
  return {
    id: one(values.id).toLowerCase(),
    title: one(values.title),
    kind: one(values.kind),
    summary: one(values.summary),
    targets: many(values.targets),
    minutes,
    equipment: equipment.length > 0 ? equipment : ['none'],
    ...optional('pattern'),
    ...optional('variant'),
    ...optional('topic'),
    steps,
    cautions: splitLines(one(values.cautions)),
    source: one(values.source) || DEFAULT_TEAM_SOURCE,
  };
}

/** Schema issues as messages on the form's fields (`steps[2].text` becomes "step 3: …" on the steps field). */
export function formErrorsOf(issues: readonly z.core.$ZodIssue[]): Partial<Record<RoutineFormField, string>> {
  const errors: Partial<Record<RoutineFormField, string>> = {};
  for (const issue of issues) {
    const [head, index] = issue.path;
    const field = (routineFormFields as readonly PropertyKey[]).includes(head ?? '')
      ? (head as RoutineFormField)
      : 'id';
    const where =
      typeof index === 'number'
        ? `${field === 'steps' ? 'step' : field === 'cautions' ? 'caution' : 'item'} ${index + 1}: `
        : '';
    errors[field] ??= `${where}${issue.message}`;
  }
  return errors;
}

/** Choices the form offers, straight from the content schema's enums. */
export const formChoices = {
  kinds: routineKinds,
  targets: targetAreas,
  equipment: equipmentKinds,
  patterns: breathingPatternIds,
  variants: relaxVariants,
  topics: habitTopics,
} as const;

export type { Routine };
