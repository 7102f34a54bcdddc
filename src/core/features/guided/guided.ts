import { z } from 'zod';
import { defineCommand, type CommandContext, type Feature } from '../../command.js';
import type { CommandOption, OptionChoice } from '../../command-options.js';
import { routineKindNames, type RoutineLibrary } from '../../content/library.js';
import { isTeamRoutine } from '../../content/workspace-routines.js';
import {
  breathingPlan,
  kindGroup,
  programmePlan,
  PROGRAMME_MAX_MINUTES,
  PROGRAMME_MIN_MINUTES,
  routinePlan,
  type SessionSource,
} from '../../content/plans.js';
import {
  deskPlaces,
  type BreathingPatternId,
  type HabitTopic,
  type RelaxVariant,
  type RoutineKind,
  type RoutinePlace,
  type TargetArea,
} from '../../content/schema.js';
import { echo } from '../../echo.js';
import { lookup } from '../../lookup.js';
import { breathingPatternChoices, parseBreathingPattern } from '../../pacing.js';
import { bullets, context, header, reply, text, type Reply } from '../../reply.js';
import { DISCLAIMER, guidedActions, noLibraryReply, recentFor, requireLibrary, startSession } from './session.js';

const words = z.array(z.string());

// ---- breathe -------------------------------------------------------------------------------------------

const BREATHE_MIN_MINUTES = 1;
const BREATHE_MAX_MINUTES = 10;

const breatheArgs = words
  .max(2, 'breathe takes a pattern and a number of minutes at most')
  .transform((tokens, issue) => {
    let pattern: BreathingPatternId | undefined;
    let minutes: number | undefined;
    const minutesRule = `minutes must be a whole number from ${BREATHE_MIN_MINUTES} to ${BREATHE_MAX_MINUTES}`;
    // Each complaint names the argument that is wrong: a second pattern or a fractional minute is not an unknown pattern.
    for (const token of tokens) {
      const named = parseBreathingPattern(token);
      const numeric = /^[-+]?\d*[.,]?\d+$/.test(token);
      let problem: string | undefined;
      if (named && !pattern) pattern = named;
      else if (named) problem = 'give one breathing pattern, not two';
      else if (/^\d+$/.test(token) && minutes === undefined) minutes = Number(token);
      else if (numeric && minutes === undefined) problem = `${minutesRule} (${echo(token)} is not)`;
      else if (numeric) problem = 'give the minutes once';
      else problem = `I don't know the breathing pattern ${echo(token)}; choose ${breathingPatternChoices}`;
      if (problem) {
        issue.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
    }
    if (minutes !== undefined && (minutes < BREATHE_MIN_MINUTES || minutes > BREATHE_MAX_MINUTES)) {
      issue.addIssue({ code: 'custom', message: minutesRule });
      return z.NEVER;
    }
    return { pattern: pattern ?? 'diaphragmatic', minutes };
  });

/** Without minutes, a pattern runs as long as its routine in the list says (2 when the library has none). */
const BREATHE_DEFAULT_MINUTES = 2;

const breathe = defineCommand({
  name: 'breathe',
  summary: 'a guided breathing session that counts each breath with you',
  usage: '/backcare breathe [box|4-7-8|coherent|diaphragmatic] [minutes 1-10]',
  examples: ['/backcare breathe', '/backcare breathe box 3', '/backcare breathe 4-7-8'],
  options: [
    {
      type: 'string',
      name: 'pattern',
      description: 'breathing pattern (default diaphragmatic)',
      choices: [
        { value: 'diaphragmatic', label: 'diaphragmatic (belly)' },
        { value: 'box' },
        { value: '4-7-8' },
        { value: 'coherent', label: 'coherent (slow)' },
      ],
    },
    {
      type: 'integer',
      name: 'minutes',
      description: `${BREATHE_MIN_MINUTES}–${BREATHE_MAX_MINUTES} minutes (default: as listed)`,
      min: BREATHE_MIN_MINUTES,
      max: BREATHE_MAX_MINUTES,
    },
  ],
  args: breatheArgs,
  async run(ctx, { pattern, minutes }) {
    const library = await requireLibrary(ctx);
    if (!library) return noLibraryReply();
    // The library's routine for this pattern supplies the introduction and cautions; the full-length one reads best.
    const routine = library
      .matching({ kinds: ['breathing'] })
      .filter((r) => r.pattern === pattern)
      .sort((a, b) => b.minutes - a.minutes)[0];
    return startSession(
      ctx,
      breathingPlan(pattern, minutes ?? routine?.minutes ?? BREATHE_DEFAULT_MINUTES, routine, 'breathe'),
    );
  },
});

// ---- stretch / roll ------------------------------------------------------------------------------------

const areaAliases: Record<string, TargetArea> = {
  neck: 'neck',
  'upper-trapezius': 'upper_trapezius',
  'upper-traps': 'upper_trapezius',
  'upper-trap': 'upper_trapezius',
  traps: 'upper_trapezius',
  trapezius: 'upper_trapezius',
  shoulders: 'upper_trapezius',
  shoulder: 'upper_trapezius',
  'middle-trapezius': 'middle_trapezius',
  'middle-traps': 'middle_trapezius',
  'mid-traps': 'middle_trapezius',
  'mid-back': 'middle_trapezius',
  'middle-back': 'middle_trapezius',
  rhomboids: 'rhomboids',
  rhomboid: 'rhomboids',
  'shoulder-blades': 'rhomboids',
  'between-shoulder-blades': 'rhomboids',
  'between-the-shoulder-blades': 'rhomboids',
  blades: 'rhomboids',
  'upper-back': 'thoracic_paraspinals',
  thoracic: 'thoracic_paraspinals',
  'thoracic-spine': 'thoracic_paraspinals',
  paraspinals: 'thoracic_paraspinals',
  'thoracic-paraspinals': 'thoracic_paraspinals',
  back: 'thoracic_paraspinals',
  chest: 'chest',
  pecs: 'chest',
};

const areaChoices = 'neck, shoulders (upper traps), mid-back, shoulder-blades, upper-back, chest';

function parseArea(tokens: readonly string[]): TargetArea | null {
  const key = tokens.join('-').toLowerCase().replace(/_/g, '-');
  return lookup(areaAliases, key) ?? null;
}

/** `floor` anywhere among the words asks for floor work (kneeling, lying); without it only desk and wall routines. */
const areaArgs = (command: string) =>
  words.max(5, `${command} takes one area at most, and optionally the word floor`).transform((tokens, issue) => {
    const floor = tokens.some((t) => t.toLowerCase() === 'floor');
    const rest = tokens.filter((t) => t.toLowerCase() !== 'floor');
    if (rest.length === 0) return { area: undefined as TargetArea | undefined, floor };
    const area = parseArea(rest);
    if (!area) {
      issue.addIssue({
        code: 'custom',
        message: `I don't know the area ${echo(rest.join(' '))}; choose ${areaChoices}, or add floor for floor work`,
      });
      return z.NEVER;
    }
    return { area: area as TargetArea | undefined, floor };
  });

const floorPlaces: readonly RoutinePlace[] = ['floor'];

/** The word a person types for each area (one of its aliases above), in the order pickers show them. */
export const areaWords: Record<TargetArea, string> = {
  neck: 'neck',
  upper_trapezius: 'shoulders',
  thoracic_paraspinals: 'upper-back',
  middle_trapezius: 'mid-back',
  rhomboids: 'shoulder-blades',
  chest: 'chest',
};
const areaOrder = Object.keys(areaWords) as TargetArea[];

/**
 * The areas a command can offer: those with a routine of its kinds at the desk (what it picks without `floor`),
 * then `floor` when there is floor work of those kinds. Read from the library, so a picker never offers an
 * area that could only answer "I have no … routine".
 */
function areaChoicesFor(kinds: readonly RoutineKind[], library: RoutineLibrary | undefined): OptionChoice[] {
  if (!library) return [];
  const has = (area: TargetArea | undefined, places: readonly RoutinePlace[]) =>
    library.matching({ kinds, places, ...(area ? { area } : {}) }).length > 0;
  const areas = areaOrder.filter((area) => has(area, deskPlaces)).map((area) => ({ value: areaWords[area] }));
  return has(undefined, floorPlaces) ? [...areas, { value: 'floor', label: 'floor work' }] : areas;
}

/**
 * Floor work (kneeling, lying, the foam roller) only when asked for: one more choice beside the areas (the
 * parser reads the word `floor`), which keeps the whole command inside Discord's size limit.
 */
const areaOption = (kinds: readonly RoutineKind[], description: string): CommandOption => ({
  type: 'string',
  name: 'area',
  description,
  choices: (library) => areaChoicesFor(kinds, library),
});

const areaNames: Record<TargetArea, string> = {
  upper_trapezius: 'the shoulders (upper trapezius)',
  middle_trapezius: 'the mid-back (middle trapezius)',
  rhomboids: 'between the shoulder blades',
  thoracic_paraspinals: 'the upper back beside the spine',
  chest: 'the chest',
  neck: 'the neck',
};

async function pickAndRun(
  ctx: CommandContext,
  source: SessionSource,
  kinds: RoutineKind[],
  criteria: {
    area?: TargetArea | undefined;
    variant?: RelaxVariant | undefined;
    topic?: HabitTopic | undefined;
    floor?: boolean;
  },
): Promise<Reply> {
  const library = await requireLibrary(ctx);
  if (!library) return noLibraryReply();
  const recent = await recentFor(ctx);
  const places = criteria.floor ? floorPlaces : deskPlaces;
  const routine = library.pick(
    {
      kinds,
      places,
      ...(criteria.area ? { area: criteria.area } : {}),
      ...(criteria.variant ? { variant: criteria.variant } : {}),
      ...(criteria.topic ? { topic: criteria.topic } : {}),
    },
    { avoid: recent },
  );
  if (!routine) {
    const what = `${criteria.floor ? ' on the floor' : ' at the desk'}${criteria.area ? ` for ${areaNames[criteria.area]}` : ''}`;
    const message = `I have no ${kinds.map((k) => routineKindNames[k].toLowerCase()).join(' or ')} routine${what} yet. Try \`/backcare ${source}\`${criteria.area ? ' without an area' : ''}${criteria.floor ? ' without floor' : ' floor'}, or \`/backcare routine list\`.`;
    return reply(message, [text(message)]);
  }
  return startSession(ctx, routinePlan(routine, source));
}

const stretch = defineCommand({
  name: 'stretch',
  summary: 'a guided stretch for the upper back, shoulders, neck or chest; floor for floor stretches',
  usage: `/backcare stretch [area] [floor]`,
  examples: ['/backcare stretch', '/backcare stretch chest', '/backcare stretch neck', '/backcare stretch floor'],
  options: [areaOption(['stretch'], 'where it feels tight')],
  args: areaArgs('stretch'),
  run: (ctx, { area, floor }) => pickAndRun(ctx, 'stretch', ['stretch'], { area, floor }),
});

const roll = defineCommand({
  name: 'roll',
  summary: 'a ball on the wall or chair; floor for the foam roller (never over the spine)',
  usage: `/backcare roll [area] [floor]`,
  examples: ['/backcare roll', '/backcare roll shoulder-blades', '/backcare roll floor'],
  options: [areaOption(kindGroup('foam_roll'), 'where to roll')],
  args: areaArgs('roll'),
  run: (ctx, { area, floor }) => pickAndRun(ctx, 'roll', kindGroup('foam_roll'), { area, floor }),
});

// ---- strengthen / habits -------------------------------------------------------------------------------

const strengthen = defineCommand({
  name: 'strengthen',
  summary: 'strengthening: wall angels, towel rows; floor for planks and bridges',
  usage: '/backcare strengthen [area] [floor]',
  examples: ['/backcare strengthen', '/backcare strengthen shoulder-blades', '/backcare strengthen floor'],
  options: [areaOption(['strength'], 'which muscles')],
  args: areaArgs('strengthen'),
  run: (ctx, { area, floor }) => pickAndRun(ctx, 'strengthen', ['strength'], { area, floor }),
});

/** What `habits` can be about: a habit topic, or posture and desk set-up. */
type HabitChoice = { kinds: RoutineKind[]; topic?: HabitTopic };
const habitAliases: Record<string, HabitChoice> = {
  desk: { kinds: ['posture'] },
  'desk-setup': { kinds: ['posture'] },
  'desk-set-up': { kinds: ['posture'] },
  setup: { kinds: ['posture'] },
  ergonomics: { kinds: ['posture'] },
  posture: { kinds: ['posture'] },
  sitting: { kinds: ['posture'] },
  heat: { kinds: ['habit'], topic: 'heat' },
  warmth: { kinds: ['habit'], topic: 'heat' },
  water: { kinds: ['habit'], topic: 'hydration' },
  hydration: { kinds: ['habit'], topic: 'hydration' },
  drink: { kinds: ['habit'], topic: 'hydration' },
  sleep: { kinds: ['habit'], topic: 'sleep' },
  pillow: { kinds: ['habit'], topic: 'sleep' },
  breaks: { kinds: ['habit'], topic: 'breaks' },
  break: { kinds: ['habit'], topic: 'breaks' },
};
const habitChoices = 'desk (set-up and posture), heat, water, sleep or breaks';

const habits = defineCommand({
  name: 'habits',
  summary: 'habits: desk set-up, posture, sleep position, water, heat, breaks',
  usage: '/backcare habits [desk|heat|water|sleep|breaks]',
  examples: ['/backcare habits', '/backcare habits desk', '/backcare habits sleep', '/backcare habits water'],
  options: [
    {
      type: 'string',
      name: 'topic',
      description: 'which habit',
      choices: ['desk', 'heat', 'water', 'sleep', 'breaks'].map((value) => ({ value })),
    },
  ],
  args: words.max(3, `habits takes one topic: ${habitChoices}`).transform((tokens, issue): HabitChoice => {
    if (tokens.length === 0) return { kinds: ['habit', 'posture'] };
    const choice = lookup(habitAliases, tokens.join('-').toLowerCase());
    if (!choice) {
      issue.addIssue({
        code: 'custom',
        message: `I don't know the habit topic ${echo(tokens.join(' '))}; choose ${habitChoices}`,
      });
      return z.NEVER;
    }
    return choice;
  }),
  run: (ctx, { kinds, topic }) => pickAndRun(ctx, 'habits', kinds, { topic }),
});

// ---- relax ---------------------------------------------------------------------------------------------

const variantAliases: Record<string, RelaxVariant> = {
  pmr: 'pmr',
  progressive: 'pmr',
  'progressive-muscle-relaxation': 'pmr',
  'tense-release': 'pmr',
  'body-scan': 'body-scan',
  bodyscan: 'body-scan',
  scan: 'body-scan',
  visualise: 'visualise',
  visualize: 'visualise',
  visualisation: 'visualise',
  visualization: 'visualise',
  imagery: 'visualise',
};

const relax = defineCommand({
  name: 'relax',
  summary: 'progressive muscle relaxation, a body scan or a short visualisation',
  usage: '/backcare relax [pmr|body-scan|visualise]',
  examples: ['/backcare relax', '/backcare relax body-scan'],
  options: [
    {
      type: 'string',
      name: 'kind',
      description: 'kind of relaxation',
      choices: [
        { value: 'pmr', label: 'progressive muscle relaxation' },
        { value: 'body-scan', label: 'body scan' },
        { value: 'visualise', label: 'visualisation' },
      ],
    },
  ],
  args: words.max(2, 'relax takes one of pmr, body-scan or visualise').transform((tokens, issue) => {
    if (tokens.length === 0) return { variant: undefined as RelaxVariant | undefined };
    const variant = lookup(variantAliases, tokens.join('-').toLowerCase());
    if (!variant) {
      issue.addIssue({
        code: 'custom',
        message: `I don't know ${echo(tokens.join(' '))}; choose pmr, body-scan or visualise`,
      });
      return z.NEVER;
    }
    return { variant: variant as RelaxVariant | undefined };
  }),
  run: (ctx, { variant }) => pickAndRun(ctx, 'relax', ['relaxation'], { variant }),
});

// ---- routine -------------------------------------------------------------------------------------------

type RoutineArgs = { mode: 'programme'; minutes: number } | { mode: 'list' } | { mode: 'named'; id: string };

const routineArgs = words
  .max(1, 'routine takes one word: list, a number of minutes, or a routine id')
  .transform((tokens, issue): RoutineArgs => {
    const [word] = tokens;
    if (word === undefined) return { mode: 'programme', minutes: 10 };
    if (word.toLowerCase() === 'list') return { mode: 'list' };
    if (/^\d+$/.test(word)) {
      const minutes = Number(word);
      if (minutes < PROGRAMME_MIN_MINUTES || minutes > PROGRAMME_MAX_MINUTES) {
        issue.addIssue({
          code: 'custom',
          message: `minutes must be a whole number from ${PROGRAMME_MIN_MINUTES} to ${PROGRAMME_MAX_MINUTES}`,
        });
        return z.NEVER;
      }
      return { mode: 'programme', minutes };
    }
    return { mode: 'named', id: word.toLowerCase() };
  });

function listReply(library: RoutineLibrary): Reply {
  const blocks: Reply['blocks'] = [header('Backcare routines')];
  for (const group of library.byKind()) {
    blocks.push(text(`*${routineKindNames[group.kind]}*`));
    blocks.push(
      bullets(
        group.routines.map(
          (r) => `\`${r.id}\`: ${r.title} (${r.minutes} min)${isTeamRoutine(library, r.id) ? ' (your team)' : ''}`,
        ),
      ),
    );
  }
  blocks.push(
    context('Run one with `/backcare routine <id>`, or `/backcare routine 10` for a 10-minute mix.'),
    context(DISCLAIMER),
  );
  return reply(`${library.size} Backcare routines`, blocks);
}

const routine = defineCommand({
  name: 'routine',
  summary: 'a short programme to fill your minutes, or browse and run a named routine',
  usage: '/backcare routine [minutes 5-30 | list | <id>]',
  examples: ['/backcare routine 10', '/backcare routine list', '/backcare routine doorway-chest-stretch'],
  options: [
    {
      type: 'string',
      name: 'routine',
      description: '"list" or a routine id: start typing',
      suggest: 'routine',
      maxLength: 40,
    },
    {
      type: 'integer',
      name: 'minutes',
      description: `or: a mixed programme of this many minutes (${PROGRAMME_MIN_MINUTES}–${PROGRAMME_MAX_MINUTES})`,
      min: PROGRAMME_MIN_MINUTES,
      max: PROGRAMME_MAX_MINUTES,
    },
  ],
  args: routineArgs,
  async run(ctx, args) {
    const library = await requireLibrary(ctx);
    if (!library) return noLibraryReply();
    switch (args.mode) {
      case 'list':
        return listReply(library);
      case 'programme':
        return startSession(ctx, programmePlan(library, args.minutes, { avoid: await recentFor(ctx) }));
      case 'named': {
        const found = library.get(args.id);
        if (!found) {
          const suggestion = library.suggest(args.id);
          const message = suggestion
            ? `I don't have a routine called ${echo(args.id)}. Did you mean \`/backcare routine ${suggestion}\`?`
            : `I don't have a routine called ${echo(args.id)}. See \`/backcare routine list\`.`;
          return reply(message, [text(message)]);
        }
        return startSession(ctx, routinePlan(found, 'routine'));
      }
    }
  },
});

export const guidedFeature: Feature = {
  commands: [breathe, stretch, roll, strengthen, relax, habits, routine],
  actions: guidedActions,
};
