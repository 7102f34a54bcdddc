import { describe, expect, it } from 'vitest';
import { defaultRoutinesDir, loadRoutines } from '../../src/core/content/loader.js';
import { nudgeKindOf, RoutineLibrary } from '../../src/core/content/library.js';
import type { Routine } from '../../src/core/content/schema.js';
import { nudgeKinds, type NudgeKind } from '../../src/core/preferences.js';

const library = new RoutineLibrary(loadRoutines(defaultRoutinesDir));

/** A deterministic "random" that walks through the candidates. */
function sequenceRandom(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

function routine(id: string, kind: Routine['kind'], extra: Partial<Routine> = {}): Routine {
  return {
    id,
    title: id,
    kind,
    summary: 's',
    targets: ['neck'],
    minutes: 2,
    equipment: ['none'],
    place: 'desk',
    steps: [{ text: 't', seconds: 10 }],
    cautions: ['c'],
    source: 's',
    ...extra,
  };
}

describe('RoutineLibrary lookup and listing', () => {
  it('finds by id (case-insensitive) and suggests close ids', () => {
    expect(library.get('box-breathing')?.kind).toBe('breathing');
    expect(library.get('BOX-BREATHING')?.id).toBe('box-breathing');
    expect(library.get('nope')).toBeUndefined();
    expect(library.suggest('box-breething')).toBe('box-breathing');
    expect(library.suggest('doorway')).toBe('doorway-chest-stretch');
    expect(library.suggest('zzzzzzzzzzzz')).toBeNull();
  });

  it('lists every routine once, grouped by kind', () => {
    const groups = library.byKind();
    expect(groups.flatMap((g) => g.routines).length).toBe(library.size);
    for (const g of groups) for (const r of g.routines) expect(r.kind).toBe(g.kind);
  });

  it('refuses duplicate ids', () => {
    expect(() => new RoutineLibrary([routine('a', 'stretch'), routine('a', 'stretch')])).toThrow(/twice/);
  });
});

describe('RoutineLibrary.pick', () => {
  it('honours kind, area, variant and length', () => {
    for (let i = 0; i < 20; i++) {
      const r = library.pick({ kinds: ['stretch'], area: 'chest' })!;
      expect(r.kind).toBe('stretch');
      expect(r.targets).toContain('chest');
    }
    expect(library.pick({ kinds: ['relaxation'], variant: 'pmr', maxMinutes: 3 })?.id).toBe('pmr-shoulders');
  });

  it('avoids the recent ones, and when all are recent avoids at least the last', () => {
    const lib = new RoutineLibrary([routine('a', 'stretch'), routine('b', 'stretch'), routine('c', 'stretch')]);
    for (const r of [0, 0.5, 0.99])
      expect(lib.pick({ kinds: ['stretch'] }, { avoid: ['a', 'b'], random: () => r })?.id).toBe('c');
    for (const r of [0, 0.99])
      expect(lib.pick({ kinds: ['stretch'] }, { avoid: ['a', 'b', 'c'], random: () => r })?.id).not.toBe('a');
    const single = new RoutineLibrary([routine('only', 'stretch')]);
    expect(single.pick({ kinds: ['stretch'] }, { avoid: ['only'] })?.id).toBe('only');
    expect(single.pick({ kinds: ['breathing'] })).toBeUndefined();
  });
});

describe('RoutineLibrary.pickForNudge', () => {
  it('maps every routine kind to a nudge kind (non-hydration habits are not nudges)', () => {
    expect(nudgeKindOf(routine('a', 'trigger_point'))).toBe('foam_roll');
    expect(nudgeKindOf(routine('a', 'habit', { topic: 'hydration' }))).toBe('hydration');
    expect(nudgeKindOf(routine('a', 'habit', { topic: 'heat' }))).toBeNull();
    expect(nudgeKindOf(routine('a', 'strength'))).toBe('strength');
  });

  it('alternates kinds among the allowed ones, short routines only, never one of the last five', () => {
    const allowed: NudgeKind[] = ['stretch', 'breathing', 'posture'];
    const recent: string[] = [];
    const kinds: NudgeKind[] = [];
    const random = sequenceRandom([0.1, 0.7, 0.4, 0.9, 0.2]);
    for (let i = 0; i < 12; i++) {
      const picked = library.pickForNudge({ allowed, recentIds: recent, random })!;
      expect(picked.routine.minutes).toBeLessThanOrEqual(3);
      expect(recent.slice(0, 5)).not.toContain(picked.routine.id);
      expect(allowed).toContain(picked.nudgeKind);
      expect(nudgeKindOf(picked.routine)).toBe(picked.nudgeKind);
      kinds.push(picked.nudgeKind);
      recent.unshift(picked.routine.id);
    }
    for (let i = 1; i < kinds.length; i++) expect(kinds[i]).not.toBe(kinds[i - 1]);
    expect(new Set(kinds)).toEqual(new Set(allowed));
  });

  it('passes over a kind with nothing fresh and relaxes "last five" only when it must', () => {
    const lib = new RoutineLibrary([
      routine('s1', 'stretch'),
      routine('b1', 'breathing', { pattern: 'box' }),
      routine('b2', 'breathing', { pattern: 'box' }),
      routine('long', 'stretch', { minutes: 10 }),
    ]);
    // Last was b1 (breathing) → next is stretch, but s1 is recent → falls to breathing b2.
    expect(lib.pickForNudge({ allowed: ['stretch', 'breathing'], recentIds: ['b1', 's1'] })?.routine.id).toBe('b2');
    // Everything short is recent: anything but the very last.
    expect(
      lib.pickForNudge({ allowed: ['stretch', 'breathing'], recentIds: ['s1', 'b1', 'b2'], random: () => 0 })?.routine
        .id,
    ).not.toBe('s1');
    expect(lib.pickForNudge({ allowed: ['hydration'], recentIds: [] })).toBeNull();
    expect(lib.pickForNudge({ allowed: [], recentIds: [] })).toBeNull();
  });

  it('a desk break never sends floor work: over many seeds, every kind, with and without recent routines', () => {
    // Kneeling and lying routines, named so this fails on content that does not say where a routine is done.
    const floorWork = [
      'cat-cow',
      'thread-the-needle',
      'plank',
      'glute-bridge',
      'foam-roll-upper-back',
      'foam-roll-shoulder-blades',
    ];
    for (const id of floorWork) expect(library.get(id)?.place, id).toBe('floor');
    for (let seed = 1; seed <= 200; seed++) {
      let state = seed;
      const random = () => (state = (state * 16807) % 2147483647) / 2147483647;
      const recent: string[] = [];
      for (let i = 0; i < 10; i++) {
        const picked = library.pickForNudge({ allowed: [...nudgeKinds], recentIds: recent, random })!;
        expect(floorWork, `seed ${seed}`).not.toContain(picked.routine.id);
        expect(['desk', 'wall']).toContain(picked.routine.place);
        recent.unshift(picked.routine.id);
      }
      const stretchOnly = library.pickForNudge({ allowed: ['stretch'], recentIds: recent, random })!;
      expect(floorWork).not.toContain(stretchOnly.routine.id);
    }
  });

  it('strengthening can be a nudge kind, and sends only desk or wall exercises', () => {
    expect(nudgeKinds).toContain('strength');
    const seen = new Set<string>();
    const recent: string[] = [];
    for (let i = 0; i < 10; i++) {
      const picked = library.pickForNudge({ allowed: ['strength'], recentIds: recent })!;
      expect(picked.nudgeKind).toBe('strength');
      expect(picked.routine.kind).toBe('strength');
      expect(picked.routine.place).not.toBe('floor');
      seen.add(picked.routine.id);
      recent.unshift(picked.routine.id);
    }
    expect(seen).toEqual(new Set(['wall-angels', 'towel-rows']));
  });

  it('every allowed nudge kind alone still gets a routine', () => {
    for (const kind of nudgeKinds)
      expect(library.pickForNudge({ allowed: [kind], recentIds: [] })?.nudgeKind).toBe(kind);
  });
});
