import type { BreathingPatternId, Step } from './content/schema.js';
import { lookup } from './lookup.js';
import { context, steps as numberedSteps, text, type Block, type Frame } from './reply.js';

/** One phase of a breath: what to do and for how long. */
interface BreathPhase {
  action: 'in' | 'hold' | 'out' | 'rest';
  /** What the live message says, e.g. "Breathe in…" (the seconds are added after it). */
  label: string;
  seconds: number;
}

export interface BreathingPattern {
  id: BreathingPatternId;
  name: string;
  phases: readonly BreathPhase[];
  /** The most rounds one session plays, where the technique's own guidance limits them. */
  maxCycles?: number;
}

const breatheIn = (seconds: number, label = 'Breathe in…'): BreathPhase => ({ action: 'in', label, seconds });
const breatheOut = (seconds: number, label = 'Breathe out…'): BreathPhase => ({ action: 'out', label, seconds });
const hold = (seconds: number, label = 'Hold…'): BreathPhase => ({ action: 'hold', label, seconds });
const rest = (seconds: number): BreathPhase => ({ action: 'rest', label: 'Hold, lungs empty…', seconds });

/** The patterns `/backcare breathe` offers. Timings follow how each technique is commonly taught. */
export const breathingPatterns: Record<BreathingPatternId, BreathingPattern> = {
  box: { id: 'box', name: 'Box breathing', phases: [breatheIn(4), hold(4), breatheOut(4), rest(4)] },
  // Taught as "only a few rounds at first": the long hold can make people light-headed.
  '4-7-8': { id: '4-7-8', name: '4-7-8 breathing', phases: [breatheIn(4), hold(7), breatheOut(8)], maxCycles: 4 },
  // 5 s in, 5 s out: six breaths a minute.
  coherent: { id: 'coherent', name: 'Slow breathing, 6 a minute', phases: [breatheIn(5), breatheOut(5)] },
  diaphragmatic: {
    id: 'diaphragmatic',
    name: 'Belly breathing',
    phases: [breatheIn(4, 'Breathe in, belly rises…'), breatheOut(6, 'Breathe out slowly, shoulders drop…')],
  },
};

const patternAliases: Record<string, BreathingPatternId> = {
  box: 'box',
  square: 'box',
  '4-7-8': '4-7-8',
  '478': '4-7-8',
  '4/7/8': '4-7-8',
  coherent: 'coherent',
  slow: 'coherent',
  resonance: 'coherent',
  resonant: 'coherent',
  diaphragmatic: 'diaphragmatic',
  belly: 'diaphragmatic',
  abdominal: 'diaphragmatic',
};

export const breathingPatternChoices = 'box, 4-7-8, coherent (slow) or diaphragmatic (belly)';

export function parseBreathingPattern(word: string): BreathingPatternId | null {
  return lookup(patternAliases, word.toLowerCase()) ?? null;
}

export function cycleSeconds(pattern: BreathingPattern): number {
  return pattern.phases.reduce((sum, p) => sum + p.seconds, 0);
}

/** Whole cycles that would fill the minutes as closely as possible (at least one), before any limit. */
export function wantedCycles(pattern: BreathingPattern, minutes: number): number {
  return Math.max(1, Math.round((minutes * 60) / cycleSeconds(pattern)));
}

/** The cycles a session of these minutes plays: as many as fill them, never more than the pattern allows. */
export function cyclesFor(pattern: BreathingPattern, minutes: number): number {
  const wanted = wantedCycles(pattern, minutes);
  return pattern.maxCycles ? Math.min(pattern.maxCycles, wanted) : wanted;
}

/** How long a breathing session asked for these minutes really plays, in seconds. */
export function breathingSeconds(pattern: BreathingPattern, minutes: number): number {
  return cyclesFor(pattern, minutes) * cycleSeconds(pattern);
}

/** Whole minutes as shown to people for a number of played seconds (at least one). */
export function displayMinutes(seconds: number): number {
  return Math.max(1, Math.round(seconds / 60));
}

/** `▰▰▰▱▱▱▱▱▱▱` for how far through something we are. */
export function progressBar(done: number, total: number, width = 10): string {
  const filled = total <= 0 ? width : Math.min(width, Math.max(0, Math.round((done / total) * width)));
  return '▰'.repeat(filled) + '▱'.repeat(width - filled);
}

/**
 * Exactly one frame per phase, cycles × phases frames, each lasting its phase's seconds. The progress bar shows
 * time already done when the phase starts; the count says which breath this is.
 */
export function breathingFrames(pattern: BreathingPattern, cycles: number, label: string = pattern.name): Frame[] {
  const total = cycleSeconds(pattern) * cycles;
  const frames: Frame[] = [];
  let elapsed = 0;
  for (let cycle = 1; cycle <= cycles; cycle++) {
    for (const phase of pattern.phases) {
      frames.push({
        ms: phase.seconds * 1000,
        blocks: [
          text(`*${phase.label}* ${phase.seconds}`),
          context(`${progressBar(elapsed, total)}  breath ${cycle} of ${cycles} · ${label}`),
        ],
      });
      elapsed += phase.seconds;
    }
  }
  return frames;
}

/** The same session written out, for adapters that cannot update a message often enough. */
export function breathingStaticBlocks(pattern: BreathingPattern, cycles: number): Block[] {
  const described = pattern.phases.map((p) => `${p.label.replace(/…$/, '')} for ${p.seconds} s`).join(', then ');
  const total = cycleSeconds(pattern) * cycles;
  return [
    text(`*${pattern.name}*: ${described}.`),
    text(
      `Repeat ${cycles} ${cycles === 1 ? 'time' : 'times'} (${formatDuration(total)}). Count slowly in your head; there is no need to be exact.`,
    ),
  ];
}

/** How long an untimed step stays up: long enough to read it and get into position. */
export function readingSeconds(stepText: string): number {
  const words = stepText.trim().split(/\s+/).length;
  return Math.min(20, Math.max(6, Math.round(words * 0.4) + 3));
}

export function stepSeconds(step: Step): number {
  return step.seconds ?? readingSeconds(step.text);
}

export interface StepFrameOptions {
  /** Shown in the progress line, e.g. the routine title or "part 2 of 4: Doorway chest stretch". */
  label: string;
}

/** One frame per step, paced by the step's seconds (or a reading pause when untimed). */
export function stepFrames(routineSteps: readonly Step[], options: StepFrameOptions): Frame[] {
  const total = routineSteps.reduce((sum, s) => sum + stepSeconds(s), 0);
  let elapsed = 0;
  return routineSteps.map((step, index) => {
    const seconds = stepSeconds(step);
    const timing = step.seconds ? ` (${formatDuration(step.seconds)})` : '';
    const frame: Frame = {
      ms: seconds * 1000,
      blocks: [
        text(`*Step ${index + 1} of ${routineSteps.length}*${timing}: ${step.text}`),
        context(`${progressBar(elapsed, total)}  ${options.label}`),
      ],
    };
    elapsed += seconds;
    return frame;
  });
}

export function stepStaticBlocks(routineSteps: readonly Step[]): Block[] {
  return [numberedSteps(routineSteps.map((s) => (s.seconds ? `${s.text} (${formatDuration(s.seconds)})` : s.text)))];
}

export function framesSeconds(frames: readonly Frame[]): number {
  return Math.round(frames.reduce((sum, f) => sum + f.ms, 0) / 1000);
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (rest === 0) return `${minutes} min`;
  return `${minutes} min ${rest} s`;
}
