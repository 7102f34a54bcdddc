import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContentError, defaultRoutinesDir, loadRoutines, parseRoutineFile } from '../../src/core/content/loader.js';
import { RoutineLibrary } from '../../src/core/content/library.js';
import {
  contentLimits,
  routineKinds,
  routineSchema,
  SPINE_CAUTION,
  targetAreas,
} from '../../src/core/content/schema.js';
import { nudgeKinds } from '../../src/core/preferences.js';
import { routinePlan } from '../../src/core/content/plans.js';
import { validateTeamRoutine } from '../../src/core/content/team-routine.js';
import { displayMinutes, framesSeconds } from '../../src/core/pacing.js';
import { oneRoutineYaml } from '../support/routine-yaml.js';

const routines = loadRoutines(defaultRoutinesDir);

describe('routine content files', () => {
  it('every file validates and there are at least 20 routines', () => {
    expect(routines.length).toBeGreaterThanOrEqual(20);
    for (const routine of routines) expect(routineSchema.safeParse(routine).success).toBe(true);
  });

  it('every routine id is unique', () => {
    const ids = routines.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('every kind has at least two routines', () => {
    for (const kind of routineKinds)
      expect(routines.filter((r) => r.kind === kind).length, kind).toBeGreaterThanOrEqual(2);
  });

  it('every target area is covered by stretches or rolling', () => {
    for (const area of targetAreas) {
      expect(
        routines.some((r) => r.targets.includes(area) && ['stretch', 'foam_roll', 'trigger_point'].includes(r.kind)),
        area,
      ).toBe(true);
    }
  });

  it('every foam-roll and trigger-point routine says never to roll over the spine', () => {
    const rolling = routines.filter((r) => r.kind === 'foam_roll' || r.kind === 'trigger_point');
    expect(rolling.length).toBeGreaterThanOrEqual(4);
    for (const r of rolling)
      expect(
        r.cautions.some((c) => SPINE_CAUTION.test(c)),
        r.id,
      ).toBe(true);
  });

  it('rolling steps never place the roller or ball on the spine, and the spine caution stays', () => {
    const rolling = routines.filter((r) => r.kind === 'foam_roll' || r.kind === 'trigger_point');
    // Phrases that put a roller across the spine, roll up and down its centre, or press where a wall cannot.
    const onTheSpine = [
      /across your (upper )?back/i,
      /up and down between the shoulder blades/i,
      /roller across/i,
      /face-on/i,
      /top of one shoulder/i,
    ];
    // Moving sideways without staying on one side takes the ball over the spine.
    const crossesOver = /side to side(?![^.]*that side)/i;
    for (const r of rolling) {
      for (const step of r.steps)
        for (const phrase of onTheSpine) expect(step.text, `${r.id}: ${step.text}`).not.toMatch(phrase);
      for (const step of r.steps) expect(step.text, `${r.id}: ${step.text}`).not.toMatch(crossesOver);
      // The cautions must agree with the steps: nothing sends the ball back on top of the shoulder.
      for (const c of r.cautions) expect(c, r.id).not.toMatch(/on top of the shoulder/i);
      // Each routine says where the roller or ball does go: on the muscles to one side of the spine or shoulder blade.
      expect(
        r.steps.some((s) =>
          /(one side of your (upper )?spine|(left|right) of your spine|beside (one|your left|your right) shoulder blade|not on the spine|upper trapezius on one side)/i.test(
            s.text,
          ),
        ),
        r.id,
      ).toBe(true);
      expect(
        r.cautions.some((c) => SPINE_CAUTION.test(c)),
        r.id,
      ).toBe(true);
    }
  });

  it('every routine plays for the minutes it shows, and no title or summary promises other minutes', () => {
    const numbers: Record<string, number> = {
      one: 1,
      two: 2,
      three: 3,
      four: 4,
      five: 5,
      six: 6,
      seven: 7,
      eight: 8,
      nine: 9,
      ten: 10,
    };
    // "every 30 to 60 minutes" is how often, not how long.
    const promised = (value: string) =>
      [
        ...value
          .replace(/every [^.;]*?minutes?/gi, '')
          .matchAll(/\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)[- ]minutes?\b/gi),
      ].map((m) => numbers[m[1]!.toLowerCase()] ?? Number(m[1]));
    for (const r of routines) {
      expect(displayMinutes(framesSeconds(routinePlan(r, 'routine').frames)), r.id).toBe(r.minutes);
      for (const minutes of [...promised(r.title), ...promised(r.summary)])
        expect(minutes, `${r.id}: ${r.title} / ${r.summary}`).toBe(r.minutes);
      for (const step of r.steps)
        expect(step.text, r.id).not.toMatch(
          /\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)-minute\b|gives you \w+ of them/i,
        );
    }
  });

  it('one heat duration everywhere: routines, triage advice and the docs', () => {
    const root = path.resolve(defaultRoutinesDir, '../..');
    const files = [
      ...readdirSync(defaultRoutinesDir).map((n) => path.join(defaultRoutinesDir, n)),
      path.join(root, 'content/triage.yaml'),
      path.join(root, 'README.md'),
      ...readdirSync(path.join(root, 'docs'))
        .filter((n) => n.endsWith('.md'))
        .map((n) => path.join(root, 'docs', n)),
    ];
    const durations = new Set<string>();
    for (const file of files) {
      for (const line of readFileSync(file, 'utf8').split(/\n|(?<=[.!?])\s/)) {
        if (!/heat|warm/i.test(line)) continue;
        for (const m of line.matchAll(/(\d+)\s*(?:to|–|-)\s*(\d+)\s*minutes/g)) durations.add(`${m[1]}-${m[2]}`);
      }
    }
    expect([...durations]).toEqual(['15-20']);
    // A timed step shorter than what it asks for is advice for later, and says so (the session cannot wait 15 minutes).
    for (const r of routines) {
      for (const step of r.steps) {
        const asks = /(?<!every )\b(\d+) to \d+ minutes/.exec(step.text);
        if (asks && step.seconds !== undefined && step.seconds < Number(asks[1]) * 60)
          expect(step.text, r.id).toMatch(/next time|later|when you can/i);
      }
    }
  });

  it('every routine names a public health or physiotherapy source for its positions and doses, without links', () => {
    const publishers = [
      'NHS',
      'NHS inform',
      'Chartered Society of Physiotherapy',
      'Health and Safety Executive',
      'Mind',
    ];
    for (const r of routines) {
      expect(r.sources?.length ?? 0, r.id).toBeGreaterThan(0);
      for (const s of r.sources ?? []) {
        expect(s, r.id).not.toMatch(/https?:\/\//);
        expect(publishers, `${r.id}: ${s}`).toContain(s.split(': ')[0]);
      }
    }
  });

  it('covers each breathing pattern, each relaxation variant and each habit the issue lists', () => {
    expect(new Set(routines.map((r) => r.pattern).filter(Boolean))).toEqual(
      new Set(['box', '4-7-8', 'coherent', 'diaphragmatic']),
    );
    expect(new Set(routines.map((r) => r.variant).filter(Boolean))).toEqual(new Set(['pmr', 'body-scan', 'visualise']));
    expect(new Set(routines.map((r) => r.topic).filter(Boolean))).toEqual(
      new Set(['heat', 'hydration', 'sleep', 'breaks']),
    );
    const text = routines
      .map((r) => [r.title, ...r.steps.map((s) => s.text)].join(' '))
      .join(' ')
      .toLowerCase();
    for (const phrase of [
      'eye level',
      'lumbar',
      'feet flat',
      'doorway',
      'thread',
      'wall',
      'plank',
      'bridge',
      'towel',
      'pillow',
      'heat',
    ])
      expect(text.includes(phrase), phrase).toBe(true);
  });

  it('every step text and caution is non-empty and within platform limits', () => {
    for (const r of routines) {
      for (const s of r.steps) {
        expect(s.text.trim().length).toBeGreaterThan(0);
        expect(s.text.length).toBeLessThanOrEqual(contentLimits.stepText);
        expect(s.text.length).toBeLessThan(contentLimits.slackSectionText);
        expect(s.text.length).toBeLessThan(contentLimits.discordEmbedDescription);
      }
      expect(r.title.length).toBeLessThanOrEqual(contentLimits.buttonLabel);
      for (const c of r.cautions) expect(c.trim().length).toBeGreaterThan(0);
      expect(r.source.trim().length).toBeGreaterThan(0);
      expect(r.source).not.toMatch(/https?:\/\//);
    }
  });

  it('every nudge kind the settings offer has a short routine to send', () => {
    const library = new RoutineLibrary(routines);
    for (const kind of nudgeKinds) {
      const picked = library.pickForNudge({ allowed: [kind], recentIds: [] });
      expect(picked?.nudgeKind, kind).toBe(kind);
      expect(picked!.routine.minutes).toBeLessThanOrEqual(3);
    }
  });
});

describe('content loader errors', () => {
  const valid = oneRoutineYaml();

  it('names the file, the path inside it, the line and the problem', () => {
    const broken = valid.replace('      - text: Do it.', '      - text: ""');
    try {
      parseRoutineFile('content/routines/broken.yaml', broken);
      expect.unreachable('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(ContentError);
      const e = error as ContentError;
      expect(e.file).toBe('content/routines/broken.yaml');
      expect(e.where).toBe('routines[0].steps[0].text');
      expect(e.problem).toBe('must not be empty');
      expect(e.line).toBe(11);
      expect(e.message).toBe(
        'content error in content/routines/broken.yaml:11: routines[0].steps[0].text: must not be empty',
      );
    }
  });

  it('rejects minutes that do not match how long the steps are paced', () => {
    const long = valid.replace('seconds: 10', 'seconds: 300');
    expect(() => parseRoutineFile('r.yaml', long)).toThrow(
      'content error in r.yaml:7: routines[0].minutes: the steps take about 300 s, so minutes should be 5, not 1',
    );
  });

  it('rejects breathing minutes the pattern does not play (4-7-8 stops at 4 rounds), but a stored team row is corrected, not dropped', () => {
    const breathing = valid
      .replace('kind: stretch', 'kind: breathing\n    pattern: 4-7-8')
      .replace('minutes: 1', 'minutes: 2');
    expect(() => parseRoutineFile('r.yaml', breathing)).toThrow(
      /the 4-7-8 breathing plays about 76 s, so minutes should be 1, not 2/,
    );
    const team = validateTeamRoutine({
      id: 'team-478',
      title: 'Team 4-7-8',
      kind: 'breathing',
      summary: 'Calm.',
      targets: ['neck'],
      minutes: 3,
      equipment: ['none'],
      pattern: '4-7-8',
      steps: [{ text: 'Sit comfortably.' }],
      cautions: [],
      source: 'Team physio',
    });
    expect(team.ok && team.routine.minutes).toBe(1);
  });

  it('every routine says where it is done; a team routine without a place (an old stored row) is desk work', () => {
    expect(() => parseRoutineFile('r.yaml', valid.replace('    place: desk\n', ''))).toThrow(
      /routines\[0\]\.place: must be one of desk, wall, floor/,
    );
    const team = {
      id: 'team-x',
      title: 'Team',
      kind: 'stretch',
      summary: 'S.',
      targets: ['neck'],
      minutes: 1,
      equipment: ['none'],
      steps: [{ text: 'Sit tall.', seconds: 40 }],
      source: 'Team',
    };
    const old = validateTeamRoutine(team);
    expect(old.ok && old.routine.place).toBe('desk');
    const floor = validateTeamRoutine({ ...team, place: 'floor' });
    expect(floor.ok && floor.routine.place).toBe('floor');
  });

  it('rejects a built-in routine that names no source, or a source not written as "Publisher: Page title"', () => {
    expect(() => parseRoutineFile('r.yaml', valid.replace('    sources: ["NHS: Back pain"]\n', ''))).toThrow(
      /routines\[0\]\.sources: name the public sources of this guidance/,
    );
    expect(() => parseRoutineFile('r.yaml', valid.replace('sources: ["NHS: Back pain"]', 'sources: []'))).toThrow(
      /routines\[0\]\.sources: name at least one source/,
    );
    expect(() => parseRoutineFile('r.yaml', valid.replace('"NHS: Back pain"', '"somewhere"'))).toThrow(
      /routines\[0\]\.sources\[0\]: write a source as "Publisher: Page title"/,
    );
    // A team's own routine may leave sources out (its `source` line says who wrote it).
    const team = validateTeamRoutine({
      id: 'team-y',
      title: 'Team',
      kind: 'stretch',
      summary: 'S.',
      targets: ['neck'],
      minutes: 1,
      equipment: ['none'],
      steps: [{ text: 'Sit tall.', seconds: 40 }],
      source: 'Team',
    });
    expect(team.ok).toBe(true);
  });

  it('rejects a foam-roll routine without the spine caution', () => {
    const rolling = valid.replace('kind: stretch', 'kind: foam_roll');
    expect(() => parseRoutineFile('r.yaml', rolling)).toThrow(
      /routines\[0\]\.cautions: .*never roll directly over the spine/,
    );
  });

  it('rejects unknown keys, bad kinds and broken YAML', () => {
    expect(() => parseRoutineFile('r.yaml', valid.replace('minutes: 1', 'minutes: 1\n    colour: red'))).toThrow(
      /routines\[0\]: .*colour/,
    );
    expect(() => parseRoutineFile('r.yaml', valid.replace('kind: stretch', 'kind: yoga'))).toThrow(
      /routines\[0\]\.kind: must be one of breathing/,
    );
    expect(() => parseRoutineFile('r.yaml', valid.replace('routines:', 'routines: [\n'))).toThrow(
      /r\.yaml.*not valid YAML/,
    );
  });

  it('rejects an id used in two files, naming the second', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backcare-content-'));
    writeFileSync(path.join(dir, 'a.yaml'), valid);
    writeFileSync(path.join(dir, 'b.yaml'), valid);
    expect(() => loadRoutines(dir, dir)).toThrow(
      'content error in b.yaml: routines[0].id: "test-stretch" is already used in a.yaml',
    );
  });

  it('rejects an empty folder', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backcare-content-'));
    expect(() => loadRoutines(dir, dir)).toThrow(/no routine files/);
  });
});
