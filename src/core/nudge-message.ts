import type { CoreDeps } from './command.js';
import { encodeActionValue } from './command.js';
import type { NudgeKind } from './preferences.js';
import { blockText, caution, context, header, limits, steps, text, type Block, type Reply } from './reply.js';
import { uniqueCautions } from './content/plans.js';

/** The part of a content-library routine a nudge shows. */
export interface NudgeRoutine {
  id: string;
  title: string;
  summary: string;
  minutes: number;
  steps: readonly { text: string }[];
  cautions: readonly string[];
}

/**
 * Where nudge routines come from: the content library (`RoutineLibrary.pickForNudge`: short, not one of
 * the last five, alternating among the person's chosen kinds). Structural, so the scheduler does not
 * depend on how the library is loaded.
 */
export interface NudgeRoutineSource {
  pickForNudge(options: {
    allowed: readonly NudgeKind[];
    recentIds: readonly string[];
  }): { routine: NudgeRoutine } | null;
  get(id: string): NudgeRoutine | undefined;
}

/** A minimal pair used only when no content library is configured (a bare test core, a broken content folder). */
const fallbackRoutines: NudgeRoutine[] = [
  {
    id: 'nudge-shoulder-rolls',
    title: 'Shoulder rolls',
    summary: 'Loosen the tops of your shoulders.',
    minutes: 1,
    steps: [
      { text: 'Sit tall, arms relaxed.' },
      { text: 'Roll your shoulders slowly backwards ten times.' },
      { text: 'Then forwards five times.' },
    ],
    cautions: ['Move gently and stop if anything hurts.'],
  },
  {
    id: 'nudge-slow-breaths',
    title: 'Three slow breaths',
    summary: 'Let your upper back soften.',
    minutes: 1,
    steps: [
      { text: 'Breathe in through your nose for four counts.' },
      { text: 'Breathe out slowly for six counts.' },
      { text: 'Repeat three times, letting your shoulders drop.' },
    ],
    cautions: ['Breathe comfortably; stop if you feel dizzy.'],
  },
];

export const fallbackRoutineSource: NudgeRoutineSource = {
  pickForNudge({ recentIds }) {
    const routine = fallbackRoutines.find((r) => r.id !== recentIds[0]) ?? fallbackRoutines[0]!;
    return { routine };
  },
  get: (id) => fallbackRoutines.find((r) => r.id === id),
};

function isRoutineSource(value: unknown): value is NudgeRoutineSource {
  return typeof value === 'object' && value !== null && 'pickForNudge' in value && 'get' in value;
}

/** The content library if the core was built with one (CoreDeps.library), else the fallback. */
export function routineSourceOf(deps: CoreDeps): NudgeRoutineSource {
  const library: unknown = (deps as { library?: unknown }).library;
  return isRoutineSource(library) ? library : fallbackRoutineSource;
}

export const NUDGE_ACTIONS = {
  done: 'nudge.done',
  snooze: 'nudge.snooze',
  skip: 'nudge.skip',
  stop: 'nudge.stop',
  undoStop: 'nudge.undo_stop',
  /** Answers to the once-only question after a run of skips. */
  fewer: 'nudge.fewer',
  pauseWeek: 'nudge.pause_week',
} as const;

/** The most minutes between nudges (one per eight-hour day); "send fewer" doubles the interval up to this. */
const MAX_EVERY_MINUTES = 480;
export const fewerInterval = (everyMinutes: number): number => Math.min(MAX_EVERY_MINUTES, everyMinutes * 2);

export interface NudgeMessageOptions {
  /** Ask "send fewer or pause for the week?" under the routine (after a run of skips, once). */
  askFewer?: { everyMinutes: number };
  /** A line under the routine, e.g. that a break taken now stands in for the next nudge. */
  note?: string;
}

/** Buttons on a nudge stay usable for a day; later presses get the "expired" answer. */
export const NUDGE_BUTTON_TTL_SECONDS = 24 * 60 * 60;
export const SNOOZE_MINUTES = 30;
const MAX_STEPS_SHOWN = 5;
/** A nudge must fit one Discord embed description with room for markup: steps give way, cautions never do. */
const NUDGE_TEXT_BUDGET = limits.discordEmbedDescription - 500;

/**
 * The routine's steps (at most five) and every one of its cautions, deduplicated. When a team routine's
 * cautions leave too little room, fewer steps are shown; a caution is never dropped or cut.
 */
function routineBlocks(routine: NudgeRoutine, around: readonly Block[]): Block[] {
  // One block, one caution per line: a team routine with many cautions still fits Slack's block count.
  const unique = uniqueCautions(routine.cautions);
  const cautions = unique.length > 0 ? [caution(unique.join('\n'))] : [];
  const fixed = [...around, ...cautions].reduce((n, b) => n + blockText(b).length + 8, 0);
  let shown = Math.min(MAX_STEPS_SHOWN, routine.steps.length);
  const stepsLength = (count: number) => routine.steps.slice(0, count).reduce((n, s) => n + s.text.length + 8, 0);
  while (shown > 0 && fixed + stepsLength(shown) > NUDGE_TEXT_BUDGET) shown -= 1;
  const more =
    routine.steps.length > shown
      ? [
          context(
            `…and ${routine.steps.length - shown} more step${routine.steps.length - shown === 1 ? '' : 's'}: \`/backcare routine ${routine.id}\` plays them all.`,
          ),
        ]
      : [];
  return [...(shown > 0 ? [steps(routine.steps.slice(0, shown).map((s) => s.text))] : []), ...more, ...cautions];
}

/** The nudge itself: a short routine, how long it takes, and Done / Snooze 30 min / Skip / Stop nudges. */
export function buildNudgeMessage(
  routine: NudgeRoutine,
  deliveryId: number,
  now: Date,
  options: NudgeMessageOptions = {},
): Reply {
  const value = encodeActionValue({ d: deliveryId }, { ttlSeconds: NUDGE_BUTTON_TTL_SECONDS, now });
  const minutes = routine.minutes === 1 ? 'about 1 minute' : `about ${routine.minutes} minutes`;
  const head = [header(`Desk break: ${routine.title}`), text(`${routine.summary} _Takes ${minutes}._`)];
  const tail = [
    context(
      'Backcare offers general wellbeing routines, not medical advice. If you have sudden severe pain, numbness or chest pain, seek urgent care.',
    ),
    ...(options.note ? [context(options.note)] : []),
    ...(options.askFewer ? [text(fewerQuestionText(options.askFewer.everyMinutes))] : []),
  ];
  return {
    summary: `Desk break: ${routine.title} (${minutes})`,
    visibility: 'dm',
    blocks: [...head, ...routineBlocks(routine, [...head, ...tail]), ...tail],
    actions: [
      { type: 'button', actionId: NUDGE_ACTIONS.done, label: 'Done', value, style: 'primary' },
      { type: 'button', actionId: NUDGE_ACTIONS.snooze, label: `Snooze ${SNOOZE_MINUTES} min`, value },
      { type: 'button', actionId: NUDGE_ACTIONS.skip, label: 'Skip', value },
      { type: 'button', actionId: NUDGE_ACTIONS.stop, label: 'Stop nudges', value, style: 'danger' },
      ...(options.askFewer ? fewerQuestionButtons(options.askFewer.everyMinutes, value) : []),
    ],
  };
}

function fewerQuestionText(everyMinutes: number): string {
  const fewer =
    everyMinutes < MAX_EVERY_MINUTES
      ? `I can send fewer (every ${describeMinutes(fewerInterval(everyMinutes))} instead of every ${describeMinutes(everyMinutes)}) or `
      : 'I can ';
  return `*You skipped the last few breaks.* ${fewer}pause nudges for a week. Or just carry on: I won't ask again unless it happens again after a break you take.`;
}

function fewerQuestionButtons(everyMinutes: number, value: string): Reply['actions'] {
  return [
    ...(everyMinutes < MAX_EVERY_MINUTES
      ? [{ type: 'button' as const, actionId: NUDGE_ACTIONS.fewer, label: 'Send fewer', value }]
      : []),
    { type: 'button' as const, actionId: NUDGE_ACTIONS.pauseWeek, label: 'Pause for a week', value },
  ];
}

const describeMinutes = (minutes: number) =>
  minutes % 60 === 0 ? (minutes === 60 ? 'hour' : `${minutes / 60} hours`) : `${minutes} minutes`;

/** The daily "stretch together" post in a team channel: the same kind of short routine, for everyone at once. */
export function buildTeamPostMessage(routine: NudgeRoutine): Reply {
  const minutes = routine.minutes === 1 ? 'about 1 minute' : `about ${routine.minutes} minutes`;
  const head = [
    header(`Stretch together: ${routine.title}`),
    text(`Time for the team's desk break. ${routine.summary} _Takes ${minutes}._`),
  ];
  const tail = [
    context(
      'Join in if you can, skip it if you cannot. Backcare offers general wellbeing routines, not medical advice.',
    ),
  ];
  return {
    summary: `Stretch together: ${routine.title} (${minutes})`,
    visibility: 'public',
    blocks: [...head, ...routineBlocks(routine, [...head, ...tail]), ...tail],
    actions: [],
  };
}
