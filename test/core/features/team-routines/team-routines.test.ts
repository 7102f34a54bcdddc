import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { blockText, replyText, type Reply } from '../../../../src/core/reply.js';
import { queryRows } from '../../../../src/db/client.js';
import { SPINE_CAUTION } from '../../../../src/core/content/schema.js';
import {
  SPINE_CAUTION_LINE,
  STANDARD_CAUTIONS,
  validateTeamRoutine,
} from '../../../../src/core/content/team-routine.js';
import { ADD_FORM, IMPORT_FORM, MAX_TEAM_ROUTINES } from '../../../../src/core/features/team-routines/team-routines.js';
import { auditLog, leadGrants, nudgeDeliveries, teamRoutines } from '../../../../src/db/schema.js';
import { ensureWorkspace } from '../../../../src/db/users.js';
import { ask, buildTestCore, testActor, testClock, testLibrary } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';
import { captureLogger } from '../../../support/log.js';

const lead = testActor({ platform: 'slack', workspaceExternalId: 'T0ACME', userExternalId: 'U0LEAD', isAdmin: true });
const member = testActor({
  platform: 'slack',
  workspaceExternalId: 'T0ACME',
  userExternalId: 'U0MEMBER',
  isAdmin: false,
});
const outsider = testActor({
  platform: 'slack',
  workspaceExternalId: 'T0OTHER',
  userExternalId: 'U0OUT',
  isAdmin: true,
});

/** A stretch whose steps take 60 s, so the schema expects 1 minute. */
const doorwayForm = {
  id: 'team-doorway-opener',
  title: 'Team doorway opener',
  kind: 'stretch',
  summary: 'Open the chest after a long call.',
  targets: ['chest'],
  equipment: ['wall'],
  steps:
    'Stand in a doorway, forearms on the frame. [20s]; Step forward until you feel a gentle stretch across the chest. [30s]; Step back and shake out your arms. [10s]',
  minutes: '',
  cautions: 'Keep your elbows below shoulder height.',
  pattern: 'none',
  variant: 'none',
  topic: 'none',
  source: 'Our physiotherapist, March 2026',
};

const submitAdd = (values: Record<string, string | string[]>) => ({
  kind: 'submit' as const,
  formId: ADD_FORM,
  values,
});
const submitYaml = (yaml: string) => ({ kind: 'submit' as const, formId: IMPORT_FORM, values: { yaml } });

const yamlTwo = `routines:
  - id: team-wall-angels
    title: Team wall angels
    kind: posture
    summary: Shoulder blades back against the wall.
    targets: [rhomboids]
    minutes: 1
    equipment: [wall]
    steps:
      - text: Stand with your back to a wall, arms in a W.
        seconds: 30
      - text: Slide your arms up and down slowly, keeping contact.
        seconds: 30
    source: Team physio
  - id: team-ball-blades
    title: Ball between the blades
    kind: trigger_point
    summary: A ball against the wall beside the shoulder blade.
    targets: [rhomboids]
    minutes: 1
    equipment: [ball, wall]
    steps:
      - text: Put a ball between the wall and the muscle beside your shoulder blade.
        seconds: 30
      - text: Lean in gently and breathe out slowly.
        seconds: 30
    source: Team physio
`;

const all = (r: Reply) => [replyText(r), ...(r.sequence?.staticBlocks ?? []).map(blockText)].join('\n');
// Cautions travel as one block, one per line.
const cautionTexts = (r: Reply) =>
  r.blocks.filter((b) => b.type === 'caution').flatMap((b) => blockText(b).split('\n'));

afterEach(() => {
  vi.restoreAllMocks();
});

describeEachDatabase('team routines', (database) => {
  it('a lead adds a routine with the form; it runs and lists in that workspace only, standard cautions first', async () => {
    const core = buildTestCore(database().db, { now: testClock().now });
    const opened = await ask(core, '/backcare routines add', lead);
    expect(opened.form?.formId).toBe(ADD_FORM);
    expect(opened.form?.fields.map((f) => f.id)).toEqual(
      expect.arrayContaining(['id', 'title', 'kind', 'steps', 'cautions']),
    );

    const added = await ask(core, submitAdd(doorwayForm), lead);
    expect(added.formErrors).toBeUndefined();
    expect(added.summary).toBe('Added `team-doorway-opener` (Team doorway opener) for this workspace.');

    const [row] = await database().db.select().from(teamRoutines);
    expect(row).toMatchObject({ routineId: 'team-doorway-opener' });
    expect(row!.routine).toMatchObject({
      minutes: 1,
      cautions: [...STANDARD_CAUTIONS, 'Keep your elbows below shoulder height.'],
    });

    // Anyone in the workspace can run it, with the standard cautions shown first.
    const run = await ask(core, 'routine team-doorway-opener', member);
    expect(run.sequence).toBeDefined();
    expect(run.blocks[0]).toEqual({ type: 'header', text: 'Team doorway opener' });
    expect(cautionTexts(run)).toEqual([...STANDARD_CAUTIONS, 'Keep your elbows below shoulder height.']);
    expect(all(run)).toContain('Step forward until you feel a gentle stretch across the chest.');

    const list = await ask(core, 'routine list', member);
    expect(replyText(list)).toContain('`team-doorway-opener`: Team doorway opener (1 min) (your team)');
    expect(list.summary).toBe(`${testLibrary().size + 1} Backcare routines`);
    const teamList = await ask(core, 'routines', member);
    expect(replyText(teamList)).toContain('`team-doorway-opener`: Team doorway opener (stretches, 1 min)');

    // Another workspace sees none of it.
    const elsewhere = await ask(core, 'routine team-doorway-opener', outsider);
    expect(elsewhere.sequence).toBeUndefined();
    expect(elsewhere.summary).toMatch(/I don't have a routine called `team-doorway-opener`/);
    expect(replyText(await ask(core, 'routine list', outsider))).not.toContain('team-doorway-opener');
    expect((await ask(core, 'routines', outsider)).summary).toBe('This workspace has no routines of its own yet.');

    const audit = await database().db.select().from(auditLog);
    expect(audit.map((a) => [a.action, a.actor, a.subject])).toEqual([
      ['routine.add', 'U0LEAD', 'team-doorway-opener'],
    ]);
    expect(audit[0]!.details).toMatchObject({ via: 'form', kind: 'stretch' });
  });

  it('only leads add or remove; a lead granted in lead_grants counts (the stats lead check)', async () => {
    const core = buildTestCore(database().db);
    const refused = await ask(core, 'routines add', member);
    expect(refused.form).toBeUndefined();
    expect(refused.summary).toBe('Only workspace admins and team leads can do that.');
    // A forged or replayed submission is checked again.
    const forged = await ask(core, submitAdd(doorwayForm), member);
    expect(forged.summary).toBe('Only workspace admins and team leads can do that.');
    expect((await ask(core, submitYaml(yamlTwo), member)).summary).toBe(
      'Only workspace admins and team leads can do that.',
    );
    expect(await database().db.select().from(teamRoutines)).toHaveLength(0);

    const workspace = await ensureWorkspace(database().db, { platform: 'slack', externalId: 'T0ACME' });
    await database()
      .db.insert(leadGrants)
      .values({ workspaceId: workspace.id, platformUserId: 'U0MEMBER', grantedBy: 'U0LEAD' });
    expect((await ask(core, submitAdd(doorwayForm), member)).summary).toMatch(/^Added/);

    await database().db.delete(leadGrants);
    const removeRefused = await ask(core, 'routines remove team-doorway-opener', member);
    expect(removeRefused.summary).toBe('Only workspace admins and team leads can do that.');
    expect(await database().db.select().from(teamRoutines)).toHaveLength(1);
  });

  it('shows the content schema’s own problems on the form fields and stores nothing', async () => {
    const core = buildTestCore(database().db);
    const wrongMinutes = await ask(core, submitAdd({ ...doorwayForm, minutes: '5' }), lead);
    expect(wrongMinutes.form?.formId).toBe(ADD_FORM);
    expect(wrongMinutes.formErrors?.minutes).toBe('the steps take about 60 s, so minutes should be 1, not 5');
    // The form comes back with what was typed.
    expect(wrongMinutes.form?.fields.find((f) => f.id === 'title')?.initial).toBe('Team doorway opener');

    const badId = await ask(core, submitAdd({ ...doorwayForm, id: 'Team Doorway' }), lead);
    expect(badId.formErrors?.id).toMatch(/lower-case words joined by hyphens/);
    const noSteps = await ask(core, submitAdd({ ...doorwayForm, steps: ' ; ' }), lead);
    expect(noSteps.formErrors?.steps).toBe('needs at least one step');
    const longStep = await ask(
      core,
      submitAdd({ ...doorwayForm, steps: `Fine step [20s]; ${'x'.repeat(1001)}` }),
      lead,
    );
    expect(longStep.formErrors?.steps).toBe('step 2: must be at most 1000 characters');
    const breathingWithoutPattern = await ask(core, submitAdd({ ...doorwayForm, kind: 'breathing' }), lead);
    expect(breathingWithoutPattern.formErrors?.pattern).toBe('breathing routines name their pattern');
    expect(await database().db.select().from(teamRoutines)).toHaveLength(0);
    expect(await database().db.select().from(auditLog)).toHaveLength(0);
  });

  it('built-in ids cannot be taken or removed, and a workspace id is used once', async () => {
    const core = buildTestCore(database().db);
    const builtin = testLibrary().all()[0]!;
    const shadow = await ask(core, submitAdd({ ...doorwayForm, id: builtin.id }), lead);
    expect(shadow.formErrors?.id).toBe(
      `\`${builtin.id}\` is a built-in routine; built-ins are read-only, so choose another id.`,
    );
    const removeBuiltin = await ask(core, `routines remove ${builtin.id}`, lead);
    expect(removeBuiltin.summary).toBe(
      `\`${builtin.id}\` is a built-in routine; built-ins are read-only and cannot be removed.`,
    );
    const viaYaml = await ask(core, submitYaml(yamlTwo.replace('team-wall-angels', builtin.id)), lead);
    expect(viaYaml.formErrors?.yaml).toMatch(/is a built-in routine/);

    expect((await ask(core, submitAdd(doorwayForm), lead)).summary).toMatch(/^Added/);
    const twice = await ask(core, submitAdd(doorwayForm), lead);
    expect(twice.formErrors?.id).toMatch(/This workspace already has `team-doorway-opener`/);
    // The same id in another workspace is that workspace's business.
    expect((await ask(core, submitAdd(doorwayForm), outsider)).summary).toMatch(/^Added/);
    expect(await database().db.select().from(teamRoutines)).toHaveLength(2);
  });

  it('imports a YAML document in the content format all or nothing, with the spine caution added to rolling routines', async () => {
    const core = buildTestCore(database().db);
    const brokenYaml = yamlTwo.replace('kind: trigger_point', 'kind: massage');
    const line = brokenYaml.split('\n').findIndex((l) => l.includes('kind: massage')) + 1;
    const broken = await ask(core, submitYaml(brokenYaml), lead);
    expect(broken.formErrors?.yaml).toMatch(
      new RegExp(`^Your routines, line ${line}: routines\\[1\\]\\.kind: must be one of breathing`),
    );
    expect(await database().db.select().from(teamRoutines)).toHaveLength(0);
    const notYaml = await ask(core, submitYaml('routines: [unclosed'), lead);
    expect(notYaml.formErrors?.yaml).toMatch(/not valid YAML/);
    const duplicate = await ask(core, submitYaml(yamlTwo.replace('team-ball-blades', 'team-wall-angels')), lead);
    expect(duplicate.formErrors?.yaml).toMatch(/"team-wall-angels" is used twice in this document/);

    const imported = await ask(core, submitYaml(yamlTwo), lead);
    expect(imported.summary).toBe('Added 2 routines for this workspace.');
    const ball = await ask(core, 'routine team-ball-blades', member);
    const cautions = cautionTexts(ball);
    expect(cautions.slice(0, 3)).toEqual([...STANDARD_CAUTIONS, SPINE_CAUTION_LINE]);
    expect(cautions.some((c) => SPINE_CAUTION.test(c))).toBe(true);
    const audit = await database().db.select().from(auditLog);
    expect(audit.map((a) => [a.action, a.subject, (a.details as { via?: string }).via])).toEqual([
      ['routine.add', 'team-wall-angels', 'yaml'],
      ['routine.add', 'team-ball-blades', 'yaml'],
    ]);
    // A JSON document on one line is YAML too: what a single-line input can carry.
    const oneLine = JSON.stringify({
      routines: [
        {
          ...JSON.parse(
            JSON.stringify({
              id: 'team-json-one',
              title: 'One-line',
              kind: 'posture',
              summary: 'A posture check.',
              targets: [],
              minutes: 1,
              equipment: ['none'],
              steps: [
                { text: 'Sit back in your chair.', seconds: 30 },
                { text: 'Let your shoulders drop.', seconds: 30 },
              ],
              source: 'Team',
            }),
          ),
        },
      ],
    });
    expect((await ask(core, submitYaml(oneLine), lead)).summary).toMatch(/^Added `team-json-one`/);
  });

  it('the console imports a file by path; chat platforms must use the form', async () => {
    const core = buildTestCore(database().db);
    const dir = mkdtempSync(path.join(tmpdir(), 'backcare-team-'));
    const file = path.join(dir, 'team.yaml');
    writeFileSync(file, yamlTwo);
    const consoleLead = testActor();
    const imported = await ask(core, `routines import ${file}`, consoleLead);
    expect(imported.summary).toBe('Added 2 routines for this workspace.');
    const viaSlack = await ask(core, `routines import ${file}`, lead);
    expect(viaSlack.summary).toMatch(/paste the routines into the import form/);
    const missing = await ask(core, `routines import ${path.join(dir, 'nope.yaml')}`, consoleLead);
    expect(missing.summary).toMatch(/can't find the file/);
    writeFileSync(
      file,
      yamlTwo
        .replace('team-wall-angels', 'team-other')
        .replace('minutes: 1\n    equipment: [wall]', 'minutes: 4\n    equipment: [wall]'),
    );
    const wrong = await ask(core, `routines import ${file}`, consoleLead);
    expect(wrong.summary).toMatch(
      /^Nothing was imported\. team\.yaml, line \d+: routines\[0\]\.minutes: the steps take about 60 s/,
    );
    const form = await ask(core, 'routines import', lead);
    expect(form.form?.formId).toBe(IMPORT_FORM);
  });

  it('a lead removes a routine (audited); it is gone for runs and lists, and nudges that used it still answer', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    await ask(core, submitAdd(doorwayForm), lead);
    const removed = await ask(core, 'routines remove team-doorway-opener', lead);
    expect(removed.summary).toMatch(/^Removed `team-doorway-opener`/);
    expect(await database().db.select().from(teamRoutines)).toHaveLength(0);
    expect((await ask(core, 'routine team-doorway-opener', member)).sequence).toBeUndefined();
    expect((await ask(core, 'routines remove team-doorway-opener', lead)).summary).toMatch(/has no routine called/);
    const audit = await database().db.select().from(auditLog).where(eq(auditLog.action, 'routine.remove'));
    expect(audit.map((a) => [a.actor, a.subject])).toEqual([['U0LEAD', 'team-doorway-opener']]);
  });

  it('stored routines are read back through the schema: cautions cannot be removed, a broken row is skipped and logged', async () => {
    const capture = captureLogger();
    const core = buildTestCore(database().db, { log: capture.log });
    await ask(core, submitAdd(doorwayForm), lead);
    await ask(core, submitYaml(yamlTwo), lead);
    // Someone edits the rows behind Backcare's back: cautions stripped from one, another made invalid.
    await database().db.execute(
      sql`update team_routines set routine = jsonb_set(routine, '{cautions}', '["Only my line."]') where routine_id = 'team-doorway-opener'`,
    );
    await database().db.execute(
      sql`update team_routines set routine = jsonb_set(routine, '{kind}', '"massage"') where routine_id = 'team-wall-angels'`,
    );
    const run = await ask(core, 'routine team-doorway-opener', member);
    expect(cautionTexts(run)).toEqual([...STANDARD_CAUTIONS, 'Only my line.']);
    expect((await ask(core, 'routine team-wall-angels', member)).sequence).toBeUndefined();
    expect((await ask(core, 'routine team-ball-blades', member)).sequence).toBeDefined();
    const logged = capture.lines().find((l) => l.event === 'team_routines.invalid_row');
    expect(logged).toMatchObject({ routineId: 'team-wall-angels' });
  });

  it('a row whose JSON is a bare string is skipped and logged; the workspace’s other routines still run', async () => {
    const capture = captureLogger();
    const core = buildTestCore(database().db, { log: capture.log });
    await ask(core, submitYaml(yamlTwo), lead);
    await database().db.execute(
      sql`update team_routines set routine = to_jsonb('not a routine'::text) where routine_id = 'team-wall-angels'`,
    );
    expect((await ask(core, 'routine team-ball-blades', member)).sequence).toBeDefined();
    expect((await ask(core, 'routine team-wall-angels', member)).sequence).toBeUndefined();
    expect(capture.lines().find((l) => l.event === 'team_routines.invalid_row')).toMatchObject({
      routineId: 'team-wall-angels',
    });
  });

  it('stretch picks and nudge now draw on the workspace’s routines, never another workspace’s', async () => {
    const core = buildTestCore(database().db);
    await ask(core, submitAdd(doorwayForm), lead);
    // Team routines come after the built-ins, so the highest random draw lands on the team's one where it exists.
    vi.spyOn(Math, 'random').mockReturnValue(0.999999);
    const mine = await ask(core, 'stretch chest', member);
    expect(mine.blocks[0]).toEqual({ type: 'header', text: 'Team doorway opener' });
    const theirs = await ask(core, 'stretch chest', outsider);
    expect(theirs.sequence).toBeDefined();
    expect(theirs.blocks[0]).not.toEqual({ type: 'header', text: 'Team doorway opener' });

    await ask(core, 'settings on', member);
    await ask(
      core,
      {
        kind: 'submit',
        formId: 'settings',
        values: {
          optedIn: 'yes',
          timezone: 'Europe/London',
          days: ['mon', 'tue', 'wed', 'thu', 'fri'],
          start: '09:00',
          end: '17:00',
          everyMinutes: '60',
          kinds: ['stretch'],
          delivery: 'dm',
          channelId: '',
          pause: 'keep',
        },
      },
      member,
    );
    const nudge = await ask(core, 'nudge now', member);
    expect(nudge.summary).toBe('Desk break: Team doorway opener (about 1 minute)');
    // Every caution of the team's routine, not only the first.
    expect(cautionTexts(nudge)).toEqual([...STANDARD_CAUTIONS, 'Keep your elbows below shoulder height.']);
    const [delivery] = await database().db.select().from(nudgeDeliveries);
    expect(delivery!.routineId).toBe('team-doorway-opener');
    const done = nudge.actions.find((a) => a.actionId === 'nudge.done')!;
    await ask(
      core,
      { kind: 'action', actionId: done.actionId, value: done.type === 'button' ? done.value : '' },
      member,
    );
    // The answer found the team routine, so the activity carries its real duration.
    const [activity] = await queryRows<{ duration_seconds: number }>(
      database().db,
      sql`select duration_seconds from activity_events where outcome = 'done'`,
    );
    expect(activity?.duration_seconds).toBe(60);
  });

  it(`keeps at most ${MAX_TEAM_ROUTINES} routines per workspace`, async () => {
    const core = buildTestCore(database().db);
    const workspace = await ensureWorkspace(database().db, { platform: 'slack', externalId: 'T0ACME' });
    const base = {
      title: 'Filler',
      kind: 'posture',
      summary: 'x',
      targets: [],
      minutes: 1,
      equipment: ['none'],
      steps: [{ text: 'Sit tall.', seconds: 60 }],
      cautions: ['c'],
      source: 's',
    };
    await database()
      .db.insert(teamRoutines)
      .values(
        Array.from({ length: MAX_TEAM_ROUTINES }, (_, i) => ({
          workspaceId: workspace.id,
          routineId: `filler-${i}`,
          routine: { ...base, id: `filler-${i}` },
        })),
      );
    const full = await ask(core, submitAdd(doorwayForm), lead);
    expect(full.summary).toMatch(
      new RegExp(`can keep ${MAX_TEAM_ROUTINES} routines of its own; this one has ${MAX_TEAM_ROUTINES}`),
    );
  });
});

it('routines usage errors name the subcommands', async () => {
  const { routinesArgsSchema } = await import('../../../../src/core/features/team-routines/team-routines.js');
  expect(routinesArgsSchema.safeParse(['frobnicate']).success).toBe(false);
  expect(routinesArgsSchema.safeParse(['remove']).success).toBe(false);
  expect(routinesArgsSchema.parse(['remove', 'Team-X'])).toEqual({ verb: 'remove', id: 'team-x' });
  expect(routinesArgsSchema.parse([])).toEqual({ verb: 'list' });
  expect(routinesArgsSchema.parse(['import', 'my', 'file.yaml'])).toEqual({ verb: 'import', file: 'my file.yaml' });
});

describe('the routine forms on each platform', () => {
  it('render as a Slack modal and a Discord wizard within their limits', async () => {
    const { addRoutineForm, importForm } = await import('../../../../src/core/features/team-routines/team-routines.js');
    const { renderModal } = await import('../../../../adapters/slack/render.js');
    const { steps, modalFor, initialValues } = await import('../../../../adapters/discord/forms.js');
    for (const form of [addRoutineForm(), importForm()]) {
      const modal = renderModal(form);
      expect(modal.blocks).toHaveLength(form.fields.length);
      expect(modal.title.text).toBe(form.title);
      const draft = {
        id: 'd1',
        form,
        values: initialValues(form),
        owner: { platform: 'discord', workspaceExternalId: 'dm-U', userId: 'U' },
        position: 0,
        expiresAt: new Date(Date.now() + 60_000),
      };
      const plan = steps(draft);
      expect(plan.at(-1)).toEqual({ kind: 'submit' });
      // Every field is asked somewhere, selects on pages and text in modals of at most five inputs.
      const asked = plan.flatMap((s) => (s.kind === 'submit' ? [] : s.fields.map((f) => f.id)));
      expect(asked.sort()).toEqual(form.fields.map((f) => f.id).sort());
      for (const step of plan) {
        if (step.kind !== 'modal') continue;
        const built = modalFor(draft, step);
        expect(built.components.length).toBeLessThanOrEqual(5);
        for (const row of built.components) {
          const input = (row as { components: { max_length?: number; label: string }[] }).components[0]!;
          expect(input.max_length ?? 0).toBeLessThanOrEqual(4000);
          expect(input.label.length).toBeLessThanOrEqual(45);
        }
      }
    }
  });
});

describe('team routines: where they are done and how much caution text they carry', () => {
  const roller = {
    id: 'team-roller',
    title: 'Our roller routine',
    kind: 'foam_roll',
    summary: 'Roll beside the spine.',
    targets: ['thoracic_paraspinals'],
    equipment: ['foam_roller'],
    minutes: 1,
    steps: [{ text: 'Lie on the roller on one side of your spine.', seconds: 60 }],
    cautions: ['Go gently.'],
    source: 'Our physiotherapist',
  };

  it('a roller routine that does not say where is floor work, never a desk break; a wall routine is wall work', () => {
    const read = validateTeamRoutine(roller);
    expect(read.ok && read.routine.place).toBe('floor');
    const wall = validateTeamRoutine({ ...roller, kind: 'trigger_point', equipment: ['ball', 'wall'] });
    expect(wall.ok && wall.routine.place).toBe('wall');
    const desk = validateTeamRoutine({ ...roller, kind: 'stretch', equipment: ['none'] });
    expect(desk.ok && desk.routine.place).toBe('desk');
    const said = validateTeamRoutine({ ...roller, place: 'wall' });
    expect(said.ok && said.routine.place).toBe('wall');
  });

  it('refuses cautions too long to be shown whole, so no platform ever has to cut one', () => {
    const many = validateTeamRoutine({
      ...roller,
      cautions: Array.from({ length: 10 }, (_, i) => `Caution ${i}: ${'x'.repeat(430)}`),
    });
    expect(many.ok).toBe(false);
    if (!many.ok)
      expect(many.issues.map((i) => i.message).join(' ')).toMatch(/cautions together must be at most 1500 characters/);
  });
});
