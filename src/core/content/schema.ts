import { z } from 'zod';
import { breathingPatterns, breathingSeconds, displayMinutes, readingSeconds } from '../pacing.js';
import { limits } from '../reply.js';

/** The kinds of routine the library holds; every kind has at least two routines (tested). */
export const routineKinds = [
  'breathing',
  'stretch',
  'foam_roll',
  'trigger_point',
  'strength',
  'relaxation',
  'posture',
  'habit',
] as const;
export type RoutineKind = (typeof routineKinds)[number];

export const targetAreas = [
  'upper_trapezius',
  'middle_trapezius',
  'rhomboids',
  'thoracic_paraspinals',
  'chest',
  'neck',
] as const;
export type TargetArea = (typeof targetAreas)[number];

export const equipmentKinds = ['none', 'foam_roller', 'ball', 'chair', 'wall', 'heat_pack', 'towel'] as const;

/**
 * Where a routine can be done: at the desk (seated or standing), against a wall or doorway near it, or on the
 * floor (kneeling, lying). Desk breaks never send floor work unless the person asked for it.
 */
const routinePlaces = ['desk', 'wall', 'floor'] as const;
export type RoutinePlace = (typeof routinePlaces)[number];
/** Places a desk break can use. */
export const deskPlaces: readonly RoutinePlace[] = ['desk', 'wall'];

/** Breathing patterns the pacing engine knows (see pacing.ts). */
export const breathingPatternIds = ['box', '4-7-8', 'coherent', 'diaphragmatic'] as const;
export type BreathingPatternId = (typeof breathingPatternIds)[number];

/** Relaxation variants `/backcare relax` can ask for. */
export const relaxVariants = ['pmr', 'body-scan', 'visualise'] as const;
export type RelaxVariant = (typeof relaxVariants)[number];

/** Habit topics, so a nudge for "hydration" can find the hydration habits. */
export const habitTopics = ['heat', 'hydration', 'sleep', 'breaks'] as const;
export type HabitTopic = (typeof habitTopics)[number];

/**
 * Step text is shown as one live frame; it must fit every platform's smallest container with room for the
 * progress line the player adds (Slack section text is the tightest at 3,000).
 */
const MAX_STEP_TEXT = 1000;
/** Titles end up in button labels ("Another one" lists are not used, but summaries are): keep them short. */
const MAX_TITLE = 60;
/** Ids travel inside action values, which Discord caps at 100 characters together with the action id. */
export const MAX_ROUTINE_ID = 28;

const cleanText = (max: number) =>
  z.string({ error: 'must be text' }).trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

const stepSchema = z.strictObject({
  text: cleanText(MAX_STEP_TEXT),
  /** Timed steps are paced by the player; untimed steps get a reading pause. */
  seconds: z
    .number({ error: 'must be a number of seconds' })
    .int('must be whole seconds')
    .min(3, 'must be at least 3')
    .max(600, 'must be at most 600')
    .optional(),
});
export type Step = z.infer<typeof stepSchema>;

export const SPINE_CAUTION = /never roll (directly )?over the spine/i;

/** The most caution text one routine may carry: every caution is shown whole, on every platform. */
const MAX_CAUTION_CHARS = 1500;

export const routineSchema = z
  .strictObject({
    id: z
      .string({ error: 'must be text' })
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lower-case words joined by hyphens (e.g. doorway-chest-stretch)')
      .max(MAX_ROUTINE_ID, `must be at most ${MAX_ROUTINE_ID} characters`),
    title: cleanText(MAX_TITLE),
    kind: z.enum(routineKinds, { error: `must be one of ${routineKinds.join(', ')}` }),
    /** One line saying what it is for; shown in lists and nudges. */
    summary: cleanText(200),
    targets: z.array(z.enum(targetAreas, { error: `must be one of ${targetAreas.join(', ')}` })),
    /** Whole minutes the routine takes, as promised to the person. */
    minutes: z.number({ error: 'must be a number of minutes' }).int('must be whole minutes').min(1).max(30),
    equipment: z
      .array(z.enum(equipmentKinds, { error: `must be one of ${equipmentKinds.join(', ')}` }))
      .min(1, 'list at least one (use "none")'),
    place: z.enum(routinePlaces, { error: `must be one of ${routinePlaces.join(', ')} (where it can be done)` }),
    /** Breathing routines name a pacing pattern; the steps are its introduction. */
    pattern: z.enum(breathingPatternIds, { error: `must be one of ${breathingPatternIds.join(', ')}` }).optional(),
    variant: z.enum(relaxVariants, { error: `must be one of ${relaxVariants.join(', ')}` }).optional(),
    topic: z.enum(habitTopics, { error: `must be one of ${habitTopics.join(', ')}` }).optional(),
    steps: z.array(stepSchema).min(1, 'needs at least one step'),
    cautions: z.array(cleanText(500)).min(1, 'needs at least one caution'),
    /** Where the advice comes from, described (no invented links). */
    source: cleanText(300),
    /**
     * The public sources behind the positions and doses, as `Publisher: Page title` (no links we cannot check).
     * Required in the built-in content files; a team's own routines may leave it out.
     */
    sources: z
      .array(
        cleanText(200).regex(
          /^[^:]{2,80}: \S.{2,}$/,
          'write a source as "Publisher: Page title", e.g. "NHS: Back pain"',
        ),
      )
      .min(1, 'name at least one source')
      .optional(),
  })
  .superRefine((routine, ctx) => {
    if (routine.kind !== 'habit' && routine.kind !== 'posture' && routine.targets.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['targets'], message: 'name at least one target area' });
    }
    // Every caution is always shown (never cut), so their total must fit a message with room for the rest.
    const cautionChars = routine.cautions.reduce((n, c) => n + c.length, 0);
    if (cautionChars > MAX_CAUTION_CHARS) {
      ctx.addIssue({
        code: 'custom',
        path: ['cautions'],
        message: `cautions together must be at most ${MAX_CAUTION_CHARS} characters (these are ${cautionChars})`,
      });
    }
    if (
      (routine.kind === 'foam_roll' || routine.kind === 'trigger_point') &&
      !routine.cautions.some((c) => SPINE_CAUTION.test(c))
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['cautions'],
        message: 'foam-roll and trigger-point routines must say "never roll directly over the spine"',
      });
    }
    if (routine.kind === 'breathing' && !routine.pattern) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'breathing routines name their pattern' });
    }
    if (routine.kind !== 'breathing' && routine.pattern) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'only breathing routines have a pattern' });
    }
    if (routine.kind === 'relaxation' && !routine.variant) {
      ctx.addIssue({
        code: 'custom',
        path: ['variant'],
        message: 'relaxation routines name their variant (pmr, body-scan or visualise)',
      });
    }
    if (routine.kind === 'habit' && !routine.topic) {
      ctx.addIssue({ code: 'custom', path: ['topic'], message: 'habits name their topic' });
    }
    // The promised minutes must match what the player will actually pace: the steps, or the breathing pattern's
    // whole cycles (which a pattern such as 4-7-8 limits).
    const paced = routine.pattern
      ? breathingSeconds(breathingPatterns[routine.pattern], routine.minutes)
      : routine.steps.reduce((sum, s) => sum + (s.seconds ?? readingSeconds(s.text)), 0);
    const rounded = displayMinutes(paced);
    if (rounded !== routine.minutes) {
      const what = routine.pattern ? `the ${routine.pattern} breathing plays` : 'the steps take';
      ctx.addIssue({
        code: 'custom',
        path: ['minutes'],
        message: `${what} about ${paced} s, so minutes should be ${rounded}, not ${routine.minutes}`,
      });
    }
  });
export type Routine = z.infer<typeof routineSchema>;

export const routineFileSchema = z.strictObject({
  routines: z.array(routineSchema).min(1, 'needs at least one routine'),
});

/** Built-in content names its sources for every routine: a claim without one does not ship. */
export const builtinRoutineFileSchema = routineFileSchema.superRefine((file, ctx) => {
  file.routines.forEach((routine, index) => {
    if (!routine.sources || routine.sources.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['routines', index, 'sources'],
        message: 'name the public sources of this guidance, e.g. "NHS: Back pain"',
      });
    }
  });
});

/** Exposed so content tests can check texts against what the adapters need. */
export const contentLimits = {
  stepText: MAX_STEP_TEXT,
  slackSectionText: limits.slackSectionText,
  discordEmbedDescription: limits.discordEmbedDescription,
  buttonLabel: Math.min(limits.slackButtonText, limits.discordButtonLabel),
} as const;
