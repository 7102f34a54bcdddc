import {
  breathingFrames,
  breathingPatterns,
  breathingStaticBlocks,
  cycleSeconds,
  cyclesFor,
  formatDuration,
  wantedCycles,
  framesSeconds,
  stepFrames,
  stepStaticBlocks,
} from '../pacing.js';
import { bullets, caution, context, header, limits, text, type Block, type Frame } from '../reply.js';
import type { RoutineLibrary } from './library.js';
import type { BreathingPatternId, Routine, RoutineKind } from './schema.js';

/** Where a session was started from; recorded with its outcome. */
export const sessionSources = ['breathe', 'stretch', 'roll', 'relax', 'routine', 'strengthen', 'habits'] as const;
export type SessionSource = (typeof sessionSources)[number];

/** Everything a guided session needs, before it becomes a reply: the paced frames and the same content written out. */
export interface SessionPlan {
  source: SessionSource;
  /** A routine id, or `programme-<n>m` for a built programme. */
  routineId: string;
  title: string;
  summary: string;
  /** Shown before the live part starts: how to get ready. */
  intro: string[];
  equipment: string[];
  frames: Frame[];
  staticBlocks: Block[];
  cautions: string[];
  /** Offer "Another one" (a different routine of the same sort). */
  offerAnother: boolean;
  /** For programmes: the routines it is made of, in order (the heat tip and closing breathing included). */
  parts?: { routineId: string; kind: RoutineKind; seconds: number }[];
}

export const equipmentNames: Record<string, string> = {
  none: 'nothing',
  foam_roller: 'a foam roller',
  ball: 'a tennis or lacrosse ball',
  chair: 'a chair',
  wall: 'a wall or doorway',
  heat_pack: 'a heat pack or warm shower',
  towel: 'a towel or resistance band',
};

/** The same caution written twice (two routines share a line) is shown once. */
export function uniqueCautions(cautions: readonly string[]): string[] {
  const seen = new Set<string>();
  return cautions.filter((c) => {
    const key = c.trim().toLowerCase().replace(/\s+/g, ' ');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * What a session shows before it starts must fit one Discord embed description (the tightest container) with
 * room for markup, so no renderer ever clips it: every caution is always shown, and it is the outline and then
 * the summary that get shorter when there is not room for everything.
 */
export const SESSION_INTRO_BUDGET = limits.discordEmbedDescription - 500;
/** Markup a renderer may add per line (Discord's "> ⚠️ ", list bullets) and between blocks. */
const MARKUP_PER_LINE = 8;

const introLength = (blocks: readonly Block[]): number =>
  blocks.reduce((sum, b) => {
    const lines = b.type === 'list' ? b.items : 'text' in b ? b.text.split('\n') : [];
    return sum + lines.reduce((n, line) => n + line.length + MARKUP_PER_LINE, 0);
  }, 0);

/**
 * The blocks that open a session: title, summary and length, equipment, every caution of every routine in it
 * (deduplicated, together in one caution block), the outline and the disclaimer.
 */
export function sessionIntroBlocks(plan: SessionPlan, seconds: number, disclaimer: string): Block[] {
  const equipment = plan.equipment.filter((e) => e !== 'none').map((e) => equipmentNames[e] ?? e);
  const cautions = uniqueCautions(plan.cautions);
  const build = (summary: string, intro: readonly string[]): Block[] => [
    text(`${summary ? `${summary} ` : ''}_About ${formatDuration(seconds)}._`),
    ...(equipment.length > 0 ? [context(`You need ${equipment.join(', ')}.`)] : []),
    ...(cautions.length > 0 ? [caution(cautions.join('\n'))] : []),
    ...(intro.length > 0 ? [bullets([...intro])] : []),
    context(disclaimer),
  ];
  let intro = [...plan.intro];
  let blocks = build(plan.summary, intro);
  while (introLength(blocks) > SESSION_INTRO_BUDGET && intro.length > 0) {
    const kept = intro.filter((item) => !item.startsWith('…and '));
    kept.pop();
    const left = plan.intro.length - kept.length;
    intro = kept.length > 0 ? [...kept, `…and ${left} more, shown as the session plays.`] : [];
    blocks = build(plan.summary, intro);
  }
  if (introLength(blocks) > SESSION_INTRO_BUDGET) blocks = build('', intro);
  return [header(plan.title), ...blocks];
}

/** Foam rolling and trigger points come and go together ("another one" after a roll may be a ball). */
export function kindGroup(kind: RoutineKind): RoutineKind[] {
  return kind === 'foam_roll' || kind === 'trigger_point' ? ['foam_roll', 'trigger_point'] : [kind];
}

function breathingPart(pattern: BreathingPatternId, cycles: number, label: string): Frame[] {
  return breathingFrames(breathingPatterns[pattern], cycles, label);
}

/** A routine from the library as a guided session: breathing routines are paced by their pattern, others step by step. */
export function routinePlan(routine: Routine, source: SessionSource): SessionPlan {
  if (routine.pattern) return breathingPlan(routine.pattern, routine.minutes, routine, source);
  return {
    source,
    routineId: routine.id,
    title: routine.title,
    summary: routine.summary,
    intro: [],
    equipment: routine.equipment,
    frames: stepFrames(routine.steps, { label: routine.title }),
    staticBlocks: [text(`*${routine.title}*`), ...stepStaticBlocks(routine.steps)],
    cautions: routine.cautions,
    offerAnother: true,
  };
}

/**
 * A breathing session: the routine's steps (if any) are the introduction; the live part is exactly the pattern's
 * phases for enough whole cycles to fill the minutes.
 */
export function breathingPlan(
  pattern: BreathingPatternId,
  minutes: number,
  routine: Routine | undefined,
  source: SessionSource,
): SessionPlan {
  const definition = breathingPatterns[pattern];
  const cycles = cyclesFor(definition, minutes);
  const played = cycles * cycleSeconds(definition);
  // Asked for more than the technique allows: say so rather than quietly playing less.
  const limited =
    definition.maxCycles !== undefined && wantedCycles(definition, minutes) > definition.maxCycles
      ? ` ${definition.name} is limited to ${definition.maxCycles} rounds (${formatDuration(played)}), as its guidance is to start with only a few; ask for another session later if you want more.`
      : '';
  return {
    source,
    routineId: routine?.id ?? `breathing-${pattern}`,
    title: routine?.title ?? definition.name,
    summary: `${routine?.summary ?? `${definition.name}, ${cycles} rounds.`}${limited}`,
    intro: routine?.steps.map((s) => s.text) ?? [],
    equipment: routine?.equipment ?? ['none'],
    frames: breathingPart(pattern, cycles, definition.name),
    staticBlocks: breathingStaticBlocks(definition, cycles),
    cautions: routine?.cautions ?? ['If you feel light-headed, stop and breathe normally.'],
    offerAnother: false,
  };
}

export const PROGRAMME_MIN_MINUTES = 5;
export const PROGRAMME_MAX_MINUTES = 30;
/** Between parts of a programme: time to read what is next and get into position. */
const TRANSITION_SECONDS = 5;
const HEAT_TIP_SECONDS = 15;

/** The order kinds take turns in a programme: variety first, stretching most often. */
const programmeRotation: RoutineKind[][] = [
  ['stretch'],
  ['foam_roll', 'trigger_point'],
  ['stretch'],
  ['strength'],
  ['relaxation'],
  ['posture'],
];

interface Part {
  routine: Routine;
  frames: Frame[];
}

/**
 * `/backcare routine 10`: a programme built from the library to fill the minutes, e.g. a heat tip, two stretches,
 * a roll and two minutes of breathing. Kinds take turns; no routine twice; recent routines avoided where possible.
 */
export function programmePlan(
  library: RoutineLibrary,
  minutes: number,
  options: { avoid?: readonly string[]; random?: () => number } = {},
): SessionPlan {
  const random = options.random ?? Math.random;
  const avoid = options.avoid ?? [];
  const budget = minutes * 60;
  // Calm, hold-free patterns to finish: box and 4-7-8 holds do not suit everyone at the end of exercise.
  const calm = library
    .matching({ kinds: ['breathing'] })
    .filter((r) => r.pattern === 'coherent' || r.pattern === 'diaphragmatic');
  const calmFresh = calm.filter((r) => !avoid.includes(r.id));
  const calmPool = calmFresh.length > 0 ? calmFresh : calm;
  const breathingRoutine = calmPool[Math.min(calmPool.length - 1, Math.floor(random() * calmPool.length))];
  const pattern = breathingRoutine?.pattern ?? 'coherent';
  // Whole breaths of at least two minutes (one for short programmes) are kept back for the end.
  const breathingTarget = minutes >= 6 ? 120 : 60;
  const breathingReserve =
    Math.ceil(breathingTarget / cycleSeconds(breathingPatterns[pattern])) * cycleSeconds(breathingPatterns[pattern]) +
    TRANSITION_SECONDS;
  const used = new Set<string>();
  const parts: Part[] = [];
  let remaining = budget - breathingReserve;

  const heat = minutes >= 8 ? library.pick({ kinds: ['habit'], topic: 'heat' }, { random }) : undefined;
  const heatFrames: Frame[] = heat
    ? [
        {
          ms: HEAT_TIP_SECONDS * 1000,
          blocks: [
            text(`*Tip: ${heat.title}.* ${heat.steps[0]?.text ?? heat.summary}`),
            context('If you can, warm up first; if not, go gently.'),
          ],
        },
      ]
    : [];
  remaining -= framesSeconds(heatFrames);

  const framesFor = (routine: Routine): Frame[] => [
    {
      ms: TRANSITION_SECONDS * 1000,
      blocks: [
        text(`*Next: ${routine.title}.* ${routine.summary}`),
        context(`You need ${routine.equipment.map((e) => equipmentNames[e]).join(', ')}.`),
      ],
    },
    ...stepFrames(routine.steps, { label: routine.title }),
  ];

  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const kinds of programmeRotation) {
      const fits = library
        .matching({ kinds })
        .filter((r) => !used.has(r.id))
        .map((r) => ({ routine: r, frames: framesFor(r) }))
        .filter((p) => framesSeconds(p.frames) <= remaining);
      const fresh = fits.filter((p) => !avoid.includes(p.routine.id));
      const pool = fresh.length > 0 ? fresh : fits;
      if (pool.length === 0) continue;
      const part = pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))]!;
      parts.push(part);
      used.add(part.routine.id);
      remaining -= framesSeconds(part.frames);
      progressed = true;
    }
  }

  // Breathing closes the programme and takes up whatever time is left.
  const breathSeconds = remaining + breathingReserve - TRANSITION_SECONDS;
  const cycles = Math.max(1, Math.floor(breathSeconds / cycleSeconds(breathingPatterns[pattern])));
  const breathingName = breathingPatterns[pattern].name;
  const closing: Frame[] = [
    {
      ms: TRANSITION_SECONDS * 1000,
      blocks: [
        text(`*Last: ${breathingName}.* Sit comfortably and let your shoulders drop.`),
        context('Follow the count; no need to be exact.'),
      ],
    },
    ...breathingPart(pattern, cycles, breathingName),
  ];

  const frames = [...heatFrames, ...parts.flatMap((p) => p.frames), ...closing];
  const outline = [
    ...(heat ? [`Tip: ${heat.title}`] : []),
    ...parts.map((p) => `${p.routine.title} (${formatDuration(framesSeconds(p.frames))})`),
    `${breathingName} (${formatDuration(framesSeconds(closing))})`,
  ];
  const cautions = [
    ...new Set([
      ...(heat?.cautions ?? []),
      ...parts.flatMap((p) => p.routine.cautions),
      ...(breathingRoutine?.cautions ?? []),
    ]),
  ];
  return {
    source: 'routine',
    routineId: `programme-${minutes}m`,
    title: `Your ${minutes}-minute routine`,
    summary: `${outline.length} parts with a little of everything, ending with slow breathing.`,
    intro: outline,
    equipment: [...new Set([...parts.flatMap((p) => p.routine.equipment), ...(heat ? ['heat_pack'] : [])])].filter(
      (e) => e !== 'none',
    ),
    frames,
    staticBlocks: [
      text(`*Your ${minutes}-minute routine*`),
      ...(heat ? [text(`*Tip: ${heat.title}.* ${heat.steps[0]?.text ?? heat.summary}`)] : []),
      ...parts.flatMap((p) => [text(`*${p.routine.title}*`), ...stepStaticBlocks(p.routine.steps)]),
      ...breathingStaticBlocks(breathingPatterns[pattern], cycles),
    ],
    cautions,
    offerAnother: false,
    parts: [
      ...(heat ? [{ routineId: heat.id, kind: heat.kind, seconds: framesSeconds(heatFrames) }] : []),
      ...parts.map((p) => ({ routineId: p.routine.id, kind: p.routine.kind, seconds: framesSeconds(p.frames) })),
      {
        routineId: breathingRoutine?.id ?? `breathing-${pattern}`,
        kind: 'breathing' as const,
        seconds: framesSeconds(closing),
      },
    ],
  };
}
