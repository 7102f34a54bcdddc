import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineCommand, defineForm, type CommandContext, type Feature } from '../../command.js';
import { routineKindNames } from '../../content/library.js';
import { equipmentNames } from '../../content/plans.js';
import { MAX_ROUTINE_ID, type Routine } from '../../content/schema.js';
import {
  formChoices,
  formErrorsOf,
  parseTeamRoutinesYaml,
  routineFromForm,
  validateTeamRoutine,
  type YamlImportResult,
} from '../../content/team-routine.js';
import { libraryFor, WorkspaceRoutineLibrary } from '../../content/workspace-routines.js';
import { bullets, context, header, reply, text, type Form, type Reply } from '../../reply.js';
import { formErrorsReply } from '../../form-errors.js';
import { countTeamRoutines, deleteTeamRoutine, insertTeamRoutines, TeamRoutineConflict } from './store.js';
import { findWorkspace } from '../../../db/users.js';

/**
 * `/backcare routines`: a team's own routines. Leads add them with a form or a YAML document in
 * the content format, and remove them; everyone in the workspace can list and run them. Built-ins stay
 * read-only and their ids cannot be taken.
 */

export const ADD_FORM = 'team-routines.add';
export const IMPORT_FORM = 'team-routines.import';
/** Keeps `routine list`, autocompletes and the scheduler's per-workspace libraries small. */
export const MAX_TEAM_ROUTINES = 50;
/** What a form field can carry (the core request caps a form value at 3,000 characters). */
const MAX_YAML_FORM = 3000;
/** A file named to the console: content files are a few kilobytes; anything this big is a mistake. */
const MAX_YAML_FILE_BYTES = 64 * 1024;

const title = (s: string) => s.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
const optionsOf = (values: readonly string[], label: (v: string) => string = title) =>
  values.map((v) => ({ label: label(v), value: v }));

/** The add form, built from the content schema's own choices; `values` refills it after a rejected submit. */
export function addRoutineForm(values: Record<string, string | string[]> = {}): Form {
  const str = (id: string) => (typeof values[id] === 'string' ? (values[id] as string) : undefined);
  const list = (id: string) => (Array.isArray(values[id]) ? (values[id] as string[]) : undefined);
  const initial = (id: string) => (str(id) ? { initial: str(id)! } : {});
  const none = { label: 'None', value: 'none' };
  return {
    formId: ADD_FORM,
    title: 'Add a team routine',
    submitLabel: 'Add',
    fields: [
      {
        id: 'id',
        label: 'Short id',
        kind: 'text',
        maxLength: MAX_ROUTINE_ID,
        hint: 'lower-case words joined by hyphens, e.g. team-desk-reset',
        ...initial('id'),
      },
      { id: 'title', label: 'Title', kind: 'text', maxLength: 60, ...initial('title') },
      {
        id: 'kind',
        label: 'Kind',
        kind: 'select',
        options: optionsOf(formChoices.kinds, (k) => routineKindNames[k as Routine['kind']]),
        initial: str('kind') ?? 'stretch',
      },
      { id: 'summary', label: 'What it is for (one line)', kind: 'text', maxLength: 200, ...initial('summary') },
      {
        id: 'targets',
        label: 'Areas it works on',
        kind: 'multiselect',
        options: optionsOf(formChoices.targets),
        initial: list('targets') ?? [],
        optional: true,
      },
      {
        id: 'equipment',
        label: 'Equipment',
        kind: 'multiselect',
        options: optionsOf(formChoices.equipment, (e) => equipmentNames[e] ?? e),
        initial: list('equipment') ?? ['none'],
        optional: true,
      },
      {
        id: 'steps',
        label: 'Steps',
        kind: 'text',
        multiline: true,
        maxLength: 3000,
        hint: 'one per line or separated by ; end a step with [30s] to time it',
        ...initial('steps'),
      },
      {
        id: 'minutes',
        label: 'Minutes',
        kind: 'number',
        min: 1,
        max: 30,
        optional: true,
        hint: 'leave empty to work it out from the steps',
        ...initial('minutes'),
      },
      {
        id: 'cautions',
        label: 'Your own cautions (optional)',
        kind: 'text',
        multiline: true,
        maxLength: 1500,
        optional: true,
        hint: 'one per line or separated by ; the standard ones are added for you',
        ...initial('cautions'),
      },
      {
        id: 'pattern',
        label: 'Breathing pattern (breathing only)',
        kind: 'select',
        options: [none, ...optionsOf(formChoices.patterns, (p) => p)],
        initial: str('pattern') ?? 'none',
        optional: true,
      },
      {
        id: 'variant',
        label: 'Relaxation variant (relaxation only)',
        kind: 'select',
        options: [none, ...optionsOf(formChoices.variants, (v) => v)],
        initial: str('variant') ?? 'none',
        optional: true,
      },
      {
        id: 'topic',
        label: 'Habit topic (habits only)',
        kind: 'select',
        options: [none, ...optionsOf(formChoices.topics)],
        initial: str('topic') ?? 'none',
        optional: true,
      },
      {
        id: 'source',
        label: 'Where the advice comes from',
        kind: 'text',
        maxLength: 300,
        optional: true,
        hint: 'e.g. our physiotherapist, March 2026',
        ...initial('source'),
      },
    ],
  };
}

export function importForm(yaml = ''): Form {
  return {
    formId: IMPORT_FORM,
    title: 'Import team routines',
    submitLabel: 'Import',
    fields: [
      {
        id: 'yaml',
        label: 'Routines in the content format (YAML or JSON)',
        kind: 'text',
        multiline: true,
        maxLength: MAX_YAML_FORM,
        hint: 'routines: [ {id, title, kind, summary, targets, minutes, equipment, steps, cautions, source} ]',
        ...(yaml ? { initial: yaml } : {}),
      },
    ],
  };
}

const say = (message: string, extra: Reply['blocks'] = []): Reply => reply(message, [text(message), ...extra]);

// ---- adding ---------------------------------------------------------------------------------------------

type Checked = { ok: true } | { ok: false; message: string; field?: 'id' };

/** Rules beyond the content schema: built-in ids are taken, and a workspace keeps at most MAX_TEAM_ROUTINES. */
async function checkAdd(ctx: CommandContext, workspaceId: number, routines: readonly Routine[]): Promise<Checked> {
  const builtins = ctx.deps.library;
  const taken = routines.filter((r) => builtins?.get(r.id)).map((r) => r.id);
  if (taken.length > 0) {
    return {
      ok: false,
      field: 'id',
      message: `\`${taken.join('`, `')}\` ${taken.length === 1 ? 'is a built-in routine' : 'are built-in routines'}; built-ins are read-only, so choose another id.`,
    };
  }
  const existing = await countTeamRoutines(ctx.db, workspaceId);
  if (existing + routines.length > MAX_TEAM_ROUTINES) {
    return {
      ok: false,
      message: `A workspace can keep ${MAX_TEAM_ROUTINES} routines of its own; this one has ${existing}. Remove some first with \`/backcare routines remove <id>\`.`,
    };
  }
  return { ok: true };
}

async function store(
  ctx: CommandContext,
  workspaceId: number,
  routines: Routine[],
  via: 'form' | 'yaml',
): Promise<Checked> {
  try {
    await insertTeamRoutines(ctx.db, { workspaceId, actor: ctx.actor.userExternalId, via }, routines, ctx.now());
  } catch (error) {
    if (!(error instanceof TeamRoutineConflict)) throw error;
    return {
      ok: false,
      field: 'id',
      message: `This workspace already has \`${error.routineIds.join('`, `')}\`. Remove it first with \`/backcare routines remove ${error.routineIds[0]}\`, or choose another id.`,
    };
  }
  ctx.log.info({ event: 'team_routines.added', via, count: routines.length }, 'team routines added');
  return { ok: true };
}

function addedReply(routines: readonly Routine[]): Reply {
  const first = routines[0]!;
  const lead =
    routines.length === 1
      ? `Added \`${first.id}\` (${first.title}) for this workspace.`
      : `Added ${routines.length} routines for this workspace.`;
  return reply(lead, [
    text(lead),
    bullets(
      routines.map((r) => `\`${r.id}\`: ${r.title} (${routineKindNames[r.kind].toLowerCase()}, ${r.minutes} min)`),
    ),
    context(
      `Try it with \`/backcare routine ${first.id}\`. Only people in this workspace see it; the standard cautions are always shown with it.`,
    ),
  ]);
}

const addSubmit = defineForm({
  formId: ADD_FORM,
  // The form could be replayed or opened by a lead who has since lost the role: checked again on submit.
  precondition: 'lead',
  async submit(ctx, values) {
    const checked = validateTeamRoutine(routineFromForm(values));
    if (!checked.ok) {
      ctx.log.info(
        { event: 'team_routines.invalid', fields: checked.issues.map((i) => String(i.path[0] ?? '')) },
        'team routine form had errors',
      );
      return formErrorsReply(addRoutineForm(values), formErrorsOf(checked.issues) as Record<string, string>);
    }
    const { workspace } = await ctx.ensureUser();
    const allowed = await checkAdd(ctx, workspace.id, [checked.routine]);
    const stored = allowed.ok ? await store(ctx, workspace.id, [checked.routine], 'form') : allowed;
    if (!stored.ok) {
      if (stored.field) return formErrorsReply(addRoutineForm(values), { [stored.field]: stored.message });
      return say(stored.message);
    }
    return addedReply([checked.routine]);
  },
});

/** Shared by the import form and the console's file path: parse, check, store, answer. */
async function importYaml(
  ctx: CommandContext,
  parsed: YamlImportResult,
  where: string,
): Promise<{ ok: true; reply: Reply } | { ok: false; message: string }> {
  if (!parsed.ok)
    return { ok: false, message: `${where}${parsed.line ? `, line ${parsed.line}` : ''}: ${parsed.message}` };
  const { workspace } = await ctx.ensureUser();
  const allowed = await checkAdd(ctx, workspace.id, parsed.routines);
  const stored = allowed.ok ? await store(ctx, workspace.id, parsed.routines, 'yaml') : allowed;
  if (!stored.ok) return { ok: false, message: stored.message };
  return { ok: true, reply: addedReply(parsed.routines) };
}

const importSubmit = defineForm({
  formId: IMPORT_FORM,
  precondition: 'lead',
  async submit(ctx, values) {
    const yaml = typeof values.yaml === 'string' ? values.yaml : '';
    const result = await importYaml(ctx, parseTeamRoutinesYaml(yaml), 'Your routines');
    if (result.ok) return result.reply;
    ctx.log.info({ event: 'team_routines.import_rejected' }, 'team routine import rejected');
    return { ...say('Nothing was imported.'), form: importForm(yaml), formErrors: { yaml: result.message } };
  },
});

/** The console runs on the machine of whoever started it, so it may name a local file; no chat platform may. */
async function importFile(ctx: CommandContext, file: string): Promise<Reply> {
  if (ctx.actor.platform !== 'console') {
    return say('Here, paste the routines into the import form: run `/backcare routines import` without a file name.');
  }
  const full = path.resolve(file);
  const info = await stat(full).catch(() => null);
  if (!info?.isFile()) return say(`I can't find the file ${file}.`);
  if (info.size > MAX_YAML_FILE_BYTES)
    return say(`${file} is larger than ${MAX_YAML_FILE_BYTES / 1024} KB; routine files are much smaller.`);
  const result = await importYaml(ctx, parseTeamRoutinesYaml(await readFile(full, 'utf8')), path.basename(full));
  return result.ok ? result.reply : say(`Nothing was imported. ${result.message}`);
}

// ---- listing and removing -------------------------------------------------------------------------------

async function listTeam(ctx: CommandContext): Promise<Reply> {
  const library = await libraryFor(ctx);
  const team = library instanceof WorkspaceRoutineLibrary ? library.teamRoutines() : [];
  const howToAdd = context(
    'Team leads add routines with `/backcare routines add` (a form) or `/backcare routines import` (YAML in the content format).',
  );
  if (team.length === 0)
    return reply('This workspace has no routines of its own yet.', [
      text('This workspace has no routines of its own yet.'),
      howToAdd,
    ]);
  return reply(`${team.length} team routines`, [
    header("Your team's routines"),
    bullets(team.map((r) => `\`${r.id}\`: ${r.title} (${routineKindNames[r.kind].toLowerCase()}, ${r.minutes} min)`)),
    context(
      'Run one with `/backcare routine <id>`. They show only in this workspace, always with the standard cautions.',
    ),
    howToAdd,
  ]);
}

async function remove(ctx: CommandContext, id: string): Promise<Reply> {
  if (ctx.deps.library?.get(id))
    return say(`\`${id}\` is a built-in routine; built-ins are read-only and cannot be removed.`);
  const workspace = await findWorkspace(ctx.db, {
    platform: ctx.actor.platform,
    externalId: ctx.actor.workspaceExternalId,
  });
  const removed = workspace
    ? await deleteTeamRoutine(ctx.db, { workspaceId: workspace.id, actor: ctx.actor.userExternalId }, id, ctx.now())
    : false;
  ctx.log.info({ event: 'team_routines.removed', removed }, 'team routine remove');
  if (!removed) return say(`This workspace has no routine called \`${id}\`. See \`/backcare routines list\`.`);
  return say(
    `Removed \`${id}\`. Nudges already sent with it keep working; new ones pick other routines. The removal is in the audit log.`,
  );
}

// ---- the command ----------------------------------------------------------------------------------------

type RoutinesArgs =
  { verb: 'list' } | { verb: 'add' } | { verb: 'import'; file: string | null } | { verb: 'remove'; id: string };

const routineId = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9-]{1,40}$/, 'name the routine by its id, e.g. `team-desk-reset`');

export const routinesArgsSchema = z.array(z.string()).transform((tokens, issue): RoutinesArgs => {
  const [verb = 'list', ...rest] = tokens;
  switch (verb.toLowerCase()) {
    case 'list':
      if (rest.length === 0) return { verb: 'list' };
      break;
    case 'add':
      if (rest.length === 0) return { verb: 'add' };
      break;
    case 'import':
      return { verb: 'import', file: rest.length > 0 ? rest.join(' ') : null };
    case 'remove':
    case 'delete': {
      const id = routineId.safeParse(rest.length === 1 ? rest[0] : '');
      if (id.success) return { verb: 'remove', id: id.data };
      issue.addIssue({ code: 'custom', message: 'name one routine to remove by its id' });
      return z.NEVER;
    }
  }
  issue.addIssue({
    code: 'custom',
    message: 'use `routines list`, `routines add`, `routines import` or `routines remove <id>`',
  });
  return z.NEVER;
});

const routines = defineCommand({
  name: 'routines',
  summary: "your team's own routines: list them; leads add (form or YAML) and remove them",
  usage: '/backcare routines [list | add | import [file] | remove <id>]',
  examples: [
    '/backcare routines',
    '/backcare routines add',
    '/backcare routines import',
    '/backcare routines remove team-desk-reset',
  ],
  // Listing is for everyone; adding and removing for leads.
  precondition: (args) => (args.verb === 'list' ? 'everyone' : 'lead'),
  args: routinesArgsSchema,
  async run(ctx, args) {
    switch (args.verb) {
      case 'list':
        return listTeam(ctx);
      case 'add':
        return { ...reply('Add a team routine', []), form: addRoutineForm() };
      case 'import':
        return args.file ? importFile(ctx, args.file) : { ...reply('Import team routines', []), form: importForm() };
      case 'remove':
        return remove(ctx, args.id);
    }
  },
});

export const teamRoutinesFeature: Feature = { commands: [routines], forms: [addSubmit, importSubmit] };
