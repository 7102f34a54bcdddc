import { closest, distance } from 'fastest-levenshtein';
import { nudgeKinds, type NudgeKind } from '../preferences.js';
import {
  deskPlaces,
  routineKinds,
  type HabitTopic,
  type RelaxVariant,
  type Routine,
  type RoutineKind,
  type RoutinePlace,
  type TargetArea,
} from './schema.js';

export interface PickCriteria {
  /** Any of these kinds (all kinds when absent). */
  kinds?: readonly RoutineKind[];
  /** Must work on this area. */
  area?: TargetArea;
  variant?: RelaxVariant;
  topic?: HabitTopic;
  /** At most this many minutes. */
  maxMinutes?: number;
  /** Only routines done in one of these places (all places when absent). */
  places?: readonly RoutinePlace[];
}

export interface PickOptions {
  /** Routine ids to avoid, most recent first (e.g. the user's last sessions). */
  avoid?: readonly string[];
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

export interface NudgePickOptions {
  /** The kinds this person wants (their settings). */
  allowed: readonly NudgeKind[];
  /** Routine ids of the person's latest nudges/sessions, most recent first; the first five are avoided. */
  recentIds: readonly string[];
  /** Only routines this short (minutes); nudges are quick breaks. */
  maxMinutes?: number;
  random?: () => number;
}

/** How many recent routines a nudge avoids repeating. */
const NUDGE_AVOID_RECENT = 5;
const NUDGE_MAX_MINUTES = 3;

/** Which routines count as each nudge kind the settings offer. */
export function nudgeKindOf(routine: Routine): NudgeKind | null {
  switch (routine.kind) {
    case 'stretch':
      return 'stretch';
    case 'breathing':
      return 'breathing';
    case 'foam_roll':
    case 'trigger_point':
      return 'foam_roll';
    case 'relaxation':
      return 'relaxation';
    case 'posture':
      return 'posture';
    case 'habit':
      return routine.topic === 'hydration' ? 'hydration' : null;
    case 'strength':
      // Only the desk and wall ones are sent (wall angels, towel rows): nudges never send floor work.
      return 'strength';
  }
}

export const routineKindNames: Record<RoutineKind, string> = {
  breathing: 'Breathing',
  stretch: 'Stretches',
  foam_roll: 'Foam rolling',
  trigger_point: 'Trigger points',
  strength: 'Strengthening',
  relaxation: 'Relaxation',
  posture: 'Posture and ergonomics',
  habit: 'Habits',
};

function choose<T>(items: readonly T[], random: () => number): T | undefined {
  if (items.length === 0) return undefined;
  const index = Math.min(items.length - 1, Math.floor(random() * items.length));
  return items[index];
}

/** The validated routines, with lookup, listing and the selection rules commands and nudges share. */
export class RoutineLibrary {
  readonly #byId: Map<string, Routine>;
  readonly #all: readonly Routine[];

  constructor(routines: readonly Routine[]) {
    this.#all = [...routines];
    this.#byId = new Map();
    for (const routine of routines) {
      if (this.#byId.has(routine.id)) throw new Error(`routine id "${routine.id}" is used twice`);
      this.#byId.set(routine.id, routine);
    }
  }

  get size(): number {
    return this.#all.length;
  }

  all(): readonly Routine[] {
    return this.#all;
  }

  get(id: string): Routine | undefined {
    return this.#byId.get(id.toLowerCase());
  }

  /** The closest id to something mistyped, if it is close enough to suggest. */
  suggest(typed: string): string | null {
    const lower = typed.toLowerCase();
    const ids = [...this.#byId.keys()];
    const prefixed = ids.filter((id) => id.startsWith(lower) || id.includes(lower));
    if (lower.length >= 3 && prefixed.length === 1) return prefixed[0]!;
    if (ids.length === 0) return null;
    const best = closest(lower, ids);
    return distance(lower, best) <= Math.max(2, Math.floor(lower.length / 4)) ? best : null;
  }

  /** Routines grouped by kind, in the canonical kind order. */
  byKind(): { kind: RoutineKind; routines: Routine[] }[] {
    return routineKinds
      .map((kind) => ({ kind, routines: this.#all.filter((r) => r.kind === kind) }))
      .filter((group) => group.routines.length > 0);
  }

  matching(criteria: PickCriteria): Routine[] {
    return this.#all.filter(
      (r) =>
        (!criteria.kinds || criteria.kinds.includes(r.kind)) &&
        (!criteria.area || r.targets.includes(criteria.area)) &&
        (!criteria.variant || r.variant === criteria.variant) &&
        (!criteria.topic || r.topic === criteria.topic) &&
        (criteria.maxMinutes === undefined || r.minutes <= criteria.maxMinutes) &&
        (!criteria.places || criteria.places.includes(r.place)),
    );
  }

  /**
   * A fitting routine the person has not just done: prefers one outside `avoid`; when everything fitting was
   * recent, anything but the very last one; only when there is a single candidate, that one.
   */
  pick(criteria: PickCriteria, options: PickOptions = {}): Routine | undefined {
    const random = options.random ?? Math.random;
    const candidates = this.matching(criteria);
    const avoid = options.avoid ?? [];
    const fresh = candidates.filter((r) => !avoid.includes(r.id));
    if (fresh.length > 0) return choose(fresh, random);
    const notLast = candidates.filter((r) => r.id !== avoid[0]);
    return choose(notLast.length > 0 ? notLast : candidates, random);
  }

  /**
   * The routine for a nudge: short, not one of the last five, and of the next allowed kind after the kind of
   * the most recent routine (so kinds alternate), and never floor work: a nudge is a desk break. Kinds with nothing fresh are passed over; if every allowed
   * kind has only recent routines left, the most recent one is still avoided. Null when nothing fits at all.
   */
  pickForNudge(options: NudgePickOptions): { routine: Routine; nudgeKind: NudgeKind } | null {
    const random = options.random ?? Math.random;
    const maxMinutes = options.maxMinutes ?? NUDGE_MAX_MINUTES;
    const allowed = nudgeKinds.filter((k) => options.allowed.includes(k));
    if (allowed.length === 0) return null;
    const recent = options.recentIds.slice(0, NUDGE_AVOID_RECENT);
    const last = options.recentIds[0] ? this.get(options.recentIds[0]) : undefined;
    const lastKind = last ? nudgeKindOf(last) : null;
    const start = lastKind && allowed.includes(lastKind) ? allowed.indexOf(lastKind) + 1 : 0;
    const order = allowed.map((_, i) => allowed[(start + i) % allowed.length]!);
    const shortOfKind = (kind: NudgeKind) =>
      this.#all.filter((r) => r.minutes <= maxMinutes && deskPlaces.includes(r.place) && nudgeKindOf(r) === kind);

    for (const kind of order) {
      const routine = choose(
        shortOfKind(kind).filter((r) => !recent.includes(r.id)),
        random,
      );
      if (routine) return { routine, nudgeKind: kind };
    }
    for (const kind of order) {
      const routine = choose(
        shortOfKind(kind).filter((r) => r.id !== options.recentIds[0]),
        random,
      );
      if (routine) return { routine, nudgeKind: kind };
    }
    for (const kind of order) {
      const routine = choose(shortOfKind(kind), random);
      if (routine) return { routine, nudgeKind: kind };
    }
    return null;
  }
}
