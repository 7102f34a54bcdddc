import { expect, it } from 'vitest';
import type { Core } from '../../../../src/core/router.js';
import { formFitProblems, replyText, type FormField, type Reply } from '../../../../src/core/reply.js';
import { encodeActionValue } from '../../../../src/core/command.js';
import { triageRules } from '../../../../src/core/features/triage/load.js';
import { activityEvents, triageRecords, users } from '../../../../src/db/schema.js';
import { loadRoutineLibrary } from '../../../../src/core/content/loader.js';
import { routineSuggestions } from '../../../../src/core/features/triage/triage.js';
import { ask, buildTestCore, button, testActor, testClock } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';
import { captureLogger } from '../../../support/log.js';

const rules = triageRules();
const library = loadRoutineLibrary();
const noneOfThese = { emergency: ['none'], urgent: ['none'], physio: ['none'] };
const calmDetails = { pain: '3', weeks: '1', interferes: 'no', worsening: 'no' };

function screen(core: Core, values: Record<string, string | string[]>): Promise<Reply> {
  return ask(core, { kind: 'submit', formId: 'triage.screen', values });
}

function details(core: Core, state: string | undefined, values: Record<string, string | string[]>): Promise<Reply> {
  return ask(core, { kind: 'submit', formId: 'triage.details', values, ...(state === undefined ? {} : { state }) });
}

/** Runs the whole chat flow as an adapter would: command, screen form, details form (with the state it was given). */
async function runFlow(
  core: Core,
  screenValues: Record<string, string | string[]>,
  detailValues = calmDetails,
): Promise<Reply> {
  const start = await ask(core, '/backcare triage');
  expect(start.form?.formId).toBe('triage.screen');
  const afterScreen = await screen(core, screenValues);
  if (!afterScreen.form) return afterScreen;
  expect(afterScreen.form.formId).toBe('triage.details');
  return details(core, afterScreen.form.state, detailValues);
}

const fieldOf = (reply: Reply, id: string): FormField => {
  const field = reply.form?.fields.find((f) => f.id === id);
  if (!field) throw new Error(`no field ${id}`);
  return field;
};

const DISCLAIMER = /not a diagnosis or medical advice/;

describeEachDatabase('/backcare triage chat flow', (database) => {
  it('opens with the safety screen: one checklist per level, plain words, each with "None of these"', async () => {
    const core = buildTestCore(database().db);
    const start = await ask(core, '/backcare triage');
    expect(start.visibility).toBe('ephemeral');
    expect(replyText(start)).toMatch(DISCLAIMER);
    expect(start.form?.fields.map((f) => [f.id, f.kind])).toEqual([
      ['emergency', 'multiselect'],
      ['urgent', 'multiselect'],
      ['physio', 'multiselect'],
    ]);
    const emergency = fieldOf(start, 'emergency');
    if (emergency.kind !== 'multiselect') throw new Error('expected a checklist');
    expect(emergency.options.map((o) => o.value)).toEqual([
      'chest_pain',
      'breathless',
      'tearing_pain',
      'leg_weakness',
      'bladder_bowel',
      'major_trauma',
      'none',
    ]);
    expect(emergency.options[0]?.label).toBe('Chest pain or pressure, which may spread to the arm, neck or jaw');
    expect(emergency.options.at(-1)?.label).toBe('None of these');
    for (const field of start.form!.fields) {
      if (field.kind === 'multiselect') expect(field.options.length).toBeLessThanOrEqual(10);
    }
    // Nothing is stored just for asking.
    expect(await database().db.select().from(users)).toHaveLength(0);
  });

  it('stops at the screen with the emergency outcome when any emergency symptom is ticked', async () => {
    const core = buildTestCore(database().db);
    const result = await screen(core, {
      emergency: ['major_trauma', 'breathless'],
      urgent: ['fever'],
      physio: ['none'],
    });
    expect(result.form).toBeUndefined();
    expect(result.blocks[0]).toMatchObject({ type: 'caution' });
    const first = replyText({ ...result, blocks: [result.blocks[0]!] });
    expect(first).toMatch(/call your local emergency number now/i);
    expect(first).toMatch(/999 in the UK/);
    expect(first).toMatch(/112 in the EU/);
    expect(first).toMatch(/911 in the US and Canada/);
    expect(first).toMatch(/do not drive yourself/i);
    const all = replyText(result);
    // Why, in plain words and in rule order; urgent answers are not mixed in.
    expect(all.indexOf('Short of breath')).toBeGreaterThan(0);
    expect(all.indexOf('Short of breath')).toBeLessThan(all.indexOf('car accident'));
    expect(all).not.toContain('Fever');
    expect(all).toMatch(DISCLAIMER);
    // Nothing competes with the call: no buttons, no routines, no consent question.
    expect(result.actions).toEqual([]);
    expect(all).not.toMatch(/backcare (stretch|roll|breathe)|keep a note/i);
    expect(result.visibility).toBe('ephemeral');
    expect(await database().db.select().from(triageRecords)).toHaveLength(0);
  });

  it.each([
    ['the other lists left empty', { emergency: ['tearing_pain'], urgent: [], physio: [] }],
    ['the other lists missing', { emergency: ['tearing_pain'] }],
    ['"None of these" ticked beside it', { emergency: ['tearing_pain', 'none'], urgent: ['none'], physio: ['none'] }],
    [
      '"None of these" with a symptom in another list',
      { emergency: ['tearing_pain'], urgent: ['none', 'fever'], physio: ['none', 'radiating'] },
    ],
    ['an unknown code elsewhere', { emergency: ['tearing_pain', 'sore'], urgent: ['sore'], physio: 'what?' }],
    [
      'typed as text, with a code in the wrong list',
      { emergency: 'none', urgent: 'none', physio: 'radiating, tearing_pain' },
    ],
  ])('shows the emergency outcome at once, whatever else is wrong, with %s', async (_name, values) => {
    const capture = captureLogger('trace');
    const core = buildTestCore(database().db, { log: capture.log });
    const result = await screen(core, values);
    expect(result.form).toBeUndefined();
    expect(result.formErrors).toBeUndefined();
    expect(result.blocks[0]).toMatchObject({ type: 'caution' });
    expect(replyText(result)).toMatch(/^\*Call your local emergency number now\*/);
    expect(replyText(result)).toContain('Sudden, severe, tearing pain between the shoulder blades');
    expect(result.actions).toEqual([]);
    expect(capture.lines().some((l) => l.event === 'triage.invalid')).toBe(false);
  });

  it.each([
    ['the physio list left empty', { emergency: ['none'], urgent: ['night_pain'], physio: [] }],
    ['the physio list missing', { emergency: ['none'], urgent: ['night_pain'] }],
    [
      '"None of these" with a symptom in the physio list',
      { emergency: ['none'], urgent: ['night_pain'], physio: ['none', 'radiating'] },
    ],
    ['"None of these" ticked beside it', { emergency: ['none'], urgent: ['night_pain', 'none'], physio: ['none'] }],
    ['every list answered', { emergency: ['none'], urgent: ['night_pain'], physio: ['radiating'] }],
  ])('shows the urgent outcome at once, without the pain questions, with %s', async (_name, values) => {
    const core = buildTestCore(database().db);
    const result = await screen(core, values);
    expect(result.form).toBeUndefined();
    expect(result.formErrors).toBeUndefined();
    expect(replyText(result)).toMatch(/^\*Contact a doctor today/);
    expect(replyText(result)).toContain('Constant pain, worse at night');
    expect(replyText(result)).not.toContain('Pain spreading around the ribs');
    expect(result.actions.map((a) => a.actionId)).toEqual(['triage.discard', 'triage.keep']);
  });

  it('with an urgent sign but the emergency list unanswered, asks the emergency list first', async () => {
    const core = buildTestCore(database().db);
    const result = await screen(core, { emergency: [], urgent: ['fever'], physio: [] });
    expect(result.form?.formId).toBe('triage.screen');
    expect(Object.keys(result.formErrors ?? {})).toEqual(['emergency', 'physio']);
  });

  it('names what needs another look by the question a person saw, never by internal ids or "highlighted"', async () => {
    const core = buildTestCore(database().db);
    const result = await screen(core, { emergency: [], urgent: ['none'], physio: [] });
    expect(result.summary).toContain(`${rules.screen.emergency}: tick what applies`);
    expect(result.summary).toContain(`${rules.screen.physio}: tick what applies`);
    expect(result.summary).not.toMatch(/highlighted|\bemergency:|\bphysio:/);
    const next = await screen(core, noneOfThese);
    const bad = await details(core, next.form!.state, { ...calmDetails, pain: '11', weeks: 'lots' });
    expect(bad.summary).toContain(fieldOf(next, 'pain').label);
    expect(bad.summary).toContain(fieldOf(next, 'weeks').label);
    expect(bad.summary).not.toMatch(/highlighted|\bpain:|\bweeks:/);
  });

  it('lets a platform submit the screen with only the emergency list answered (the lists below it are optional)', async () => {
    const core = buildTestCore(database().db);
    const start = await ask(core, '/backcare triage');
    expect(start.form?.fields.map((f) => [f.id, f.optional ?? false])).toEqual([
      ['emergency', false],
      ['urgent', true],
      ['physio', true],
    ]);
  });

  it.each([
    ['nothing ticked', { ...noneOfThese, urgent: [] }, 'urgent', /tick what applies/],
    [
      '"None of these" with a symptom',
      { ...noneOfThese, physio: ['none', 'radiating'] },
      'physio',
      /cannot go with other choices/,
    ],
    ['a code from another checklist', { ...noneOfThese, urgent: ['radiating'] }, 'urgent', /choose from the list/],
    ['an unknown code', { ...noneOfThese, emergency: ['sore'] }, 'emergency', /choose from the list/],
    ['a missing checklist', { emergency: ['none'], urgent: ['none'] }, 'physio', /tick what applies/],
  ])('asks again when the screen has %s', async (_name, values, field, message) => {
    const core = buildTestCore(database().db);
    const result = await screen(core, values);
    expect(Object.keys(result.formErrors ?? {})).toEqual([field]);
    expect(result.formErrors?.[field]).toMatch(message);
    expect(result.form?.formId).toBe('triage.screen');
  });

  it('both forms fit every platform uncut: titles, labels, options and hints', async () => {
    const core = buildTestCore(database().db);
    const start = await ask(core, '/backcare triage');
    const next = await screen(core, noneOfThese);
    expect(next.form?.formId).toBe('triage.details');
    expect([...formFitProblems(start.form!), ...formFitProblems(next.form!)]).toEqual([]);
    // The pain question keeps its scale within Discord's 45-character label, with what the ends mean beside it.
    expect(fieldOf(next, 'pain')).toMatchObject({
      label: expect.stringMatching(/0 to 10/),
      hint: '0 = none, 10 = worst imaginable',
    });
  });

  it('accepts checklists as comma-separated text too (console and plain-text adapters)', async () => {
    const core = buildTestCore(database().db);
    const result = await screen(core, { emergency: 'none', urgent: 'none', physio: 'arm_numbness, radiating' });
    expect(result.form?.formId).toBe('triage.details');
  });

  it('asks pain, weeks, interference and worsening next, carrying the screen in the form state', async () => {
    const core = buildTestCore(database().db);
    const next = await screen(core, { ...noneOfThese, physio: ['radiating'] });
    expect(next.form?.fields.map((f) => f.id)).toEqual(['pain', 'weeks', 'interferes', 'worsening']);
    expect(fieldOf(next, 'pain')).toMatchObject({ kind: 'number', min: 0, max: 10 });
    // Every platform must let "0.5 for a few days" through; pain stays a whole number.
    expect(fieldOf(next, 'weeks')).toMatchObject({ kind: 'number', min: 0, decimals: true });
    expect(fieldOf(next, 'pain')).not.toHaveProperty('decimals', true);
    expect(next.form?.state).toContain('radiating');
    const result = await details(core, next.form!.state, calmDetails);
    expect(replyText(result)).toMatch(/physiotherapist/);
    expect(replyText(result)).toContain('Pain spreading around the ribs or down an arm');
  });

  it.each([
    ['self_care', noneOfThese, calmDetails, /Self-care is a reasonable place to start/],
    ['physio (pain 7)', noneOfThese, { ...calmDetails, pain: '7' }, /Book an appointment with a physiotherapist/],
    ['self_care (pain 6, 2.9 weeks)', noneOfThese, { ...calmDetails, pain: '6', weeks: '2.9' }, /Self-care/],
    ['physio (3 weeks, typed with a comma)', noneOfThese, { ...calmDetails, weeks: '3,0' }, /physiotherapist/],
    ['urgent', { ...noneOfThese, urgent: ['night_pain'] }, { ...calmDetails, pain: '9' }, /Contact a doctor today/],
  ])(
    'a full flow can end in %s, with the disclaimer and consent buttons',
    async (_name, screenValues, detailValues, headline) => {
      const core = buildTestCore(database().db);
      const result = await runFlow(core, screenValues, detailValues);
      expect(result.form).toBeUndefined();
      expect(replyText(result)).toMatch(headline);
      expect(replyText(result)).toMatch(DISCLAIMER);
      expect(result.visibility).toBe('ephemeral');
      // Consent defaults to no: "No" comes first and is the highlighted choice.
      expect(result.actions.map((a) => a.actionId)).toEqual(['triage.discard', 'triage.keep']);
      expect(result.actions[0]).toMatchObject({ style: 'primary', label: 'No, keep nothing' });
      expect(await database().db.select().from(triageRecords)).toHaveLength(0);
      expect(await database().db.select().from(users)).toHaveLength(0);
    },
  );

  it('the urgent outcome says what to mention and when to call an emergency number', async () => {
    const core = buildTestCore(database().db);
    const result = await runFlow(core, { ...noneOfThese, urgent: ['fever', 'cancer_history'] });
    const all = replyText(result);
    expect(all).toMatch(/NHS 111/);
    expect(all).toContain('Fever or chills');
    expect(all).toContain('You have had cancer in the past');
    expect(all).toMatch(/mention/i);
    expect(all).toMatch(/999, 112 or 911/);
    expect(all).not.toMatch(/backcare (stretch|roll|breathe)/);
  });

  it('self-care and physio suggest routines and say when to come back or when it becomes more urgent', async () => {
    const core = buildTestCore(database().db);
    const selfCare = replyText(await runFlow(core, noneOfThese));
    expect(selfCare).toMatch(/heat|warm/i);
    expect(selfCare).toMatch(/lasts beyond a few weeks/);
    expect(selfCare).toMatch(/gets worse/);
    expect(selfCare).toMatch(/new symptoms/i);
    // Weakness, and pain that stops daily life, are reasons to see someone: say so before they happen.
    expect(selfCare).toContain('Weakness, numbness or tingling appears in an arm or hand');
    expect(selfCare).toContain('It stops you from working, sleeping or doing daily tasks');
    const physio = replyText(await runFlow(core, noneOfThese, { ...calmDetails, worsening: 'yes' }));
    expect(physio).toContain('It is getting worse');
    expect(physio).toMatch(/more urgent/);
    expect(physio).toMatch(/stop any routine/i);
  });

  it('stable weakness in an arm or hand, ticked on the screen, ends in physio with it as the reason', async () => {
    const core = buildTestCore(database().db);
    const start = await ask(core, '/backcare triage');
    const physio = fieldOf(start, 'physio');
    if (physio.kind !== 'multiselect') throw new Error('expected a checklist');
    expect(physio.options.map((o) => o.value)).toEqual(['arm_numbness', 'arm_weakness', 'radiating', 'none']);
    const result = await runFlow(core, { ...noneOfThese, physio: ['arm_weakness'] });
    expect(replyText(result)).toMatch(/Book an appointment with a physiotherapist/);
    expect(replyText(result)).toContain('Weakness in an arm or hand');
  });

  it('with the routine library, suggests fitting routines by id and title: heat first for self-care, only gentle ones for physio', async () => {
    const core = buildTestCore(database().db, { deps: { library } });
    const selfCare = await runFlow(core, noneOfThese);
    const ids = (reply: Reply) => [...replyText(reply).matchAll(/\/backcare routine ([a-z0-9-]+)/g)].map((m) => m[1]!);
    const selfCareIds = ids(selfCare);
    expect(selfCareIds.length).toBeGreaterThanOrEqual(3);
    const selfCareRoutines = selfCareIds.map((id) => library.get(id)!);
    expect(selfCareRoutines[0]).toMatchObject({ kind: 'habit', topic: 'heat' });
    expect(selfCareRoutines.map((r) => r.kind)).toEqual(expect.arrayContaining(['stretch', 'foam_roll', 'breathing']));
    for (const routine of selfCareRoutines) expect(replyText(selfCare)).toContain(routine.title);

    const physio = await runFlow(core, { ...noneOfThese, physio: ['arm_numbness'] });
    const physioRoutines = ids(physio).map((id) => library.get(id)!);
    expect(physioRoutines.length).toBeGreaterThan(0);
    for (const routine of physioRoutines) {
      expect(['breathing', 'relaxation', 'stretch']).toContain(routine.kind);
      expect(replyText(physio)).toContain(routine.cautions[0]);
    }
    // The library replaces the generic command list.
    expect(replyText(physio)).not.toContain('/backcare roll');
  });

  it('falls back to the guided-session commands without a library, and never suggests rolling for physio', () => {
    const selfCare = routineSuggestions(rules, 'self_care', undefined).join('\n');
    expect(selfCare).toMatch(/\/backcare stretch[\s\S]*\/backcare roll[\s\S]*\/backcare breathe/);
    const physio = routineSuggestions(rules, 'physio', undefined).join('\n');
    expect(physio).toMatch(/\/backcare breathe/);
    expect(physio).not.toMatch(/\/backcare roll/);
  });

  it.each([
    ['pain 11', { pain: '11' }, 'pain', /0 to 10/],
    ['pain 6.5', { pain: '6.5' }, 'pain', /whole number/],
    ['pain left empty', { pain: '' }, 'pain', /whole number/],
    ['negative weeks', { weeks: '-1' }, 'weeks', /number of weeks/],
    ['weeks as words', { weeks: 'two' }, 'weeks', /number of weeks/],
    ['no answer to interferes', { interferes: '' }, 'interferes', /yes or no/],
    ['maybe for worsening', { worsening: 'maybe' }, 'worsening', /yes or no/],
  ])('asks again when the details have %s, keeping the screen answers', async (_name, override, field, message) => {
    const core = buildTestCore(database().db);
    const next = await screen(core, { ...noneOfThese, physio: ['radiating'] });
    const result = await details(core, next.form!.state, { ...calmDetails, ...override });
    expect(Object.keys(result.formErrors ?? {})).toEqual([field]);
    expect(result.formErrors?.[field]).toMatch(message);
    expect(result.form?.state).toBe(next.form!.state);
    const fixed = await details(core, result.form!.state, calmDetails);
    expect(replyText(fixed)).toMatch(/Book an appointment with a physiotherapist/);
  });

  it('refuses a missing, forged or expired state instead of guessing the screen answers', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const next = await screen(core, noneOfThese);
    expect((await details(core, undefined, calmDetails)).summary).toMatch(/expired/);
    expect((await details(core, 'not json', calmDetails)).summary).toMatch(/expired/);
    expect((await details(core, encodeActionValue({ s: ['sore_back'] }), calmDetails)).summary).toMatch(/expired/);
    clock.advance(61 * 60 * 1000);
    expect((await details(core, next.form!.state, calmDetails)).summary).toMatch(/expired/);
  });

  it('with consent keeps only the outcome level and the time; /backcare me shows it and forget-me deletes it', async () => {
    const clock = testClock(new Date('2026-03-02T10:00:00Z'));
    const core = buildTestCore(database().db, { now: clock.now });
    const result = await runFlow(core, noneOfThese, { ...calmDetails, interferes: 'yes' });
    clock.advance(5 * 60 * 1000);
    const kept = await ask(core, { kind: 'action', ...button(result, 'triage.keep') });
    expect(kept.summary).toMatch(/^Kept/);
    // Pressing it again does not keep a second copy.
    await ask(core, { kind: 'action', ...button(result, 'triage.keep') });
    const rows = await database().db.select().from(triageRecords);
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!).sort()).toEqual(['id', 'outcome', 'recordedAt', 'userId']);
    expect(rows[0]).toMatchObject({ outcome: 'physio', recordedAt: new Date('2026-03-02T10:00:00Z') });
    // Triage is not activity: it never feeds participation figures or team stats.
    expect(await database().db.select().from(activityEvents)).toHaveLength(0);

    const me = await ask(core, '/backcare me');
    expect(replyText(me)).toMatch(/Triage outcomes kept.*see a physiotherapist or doctor on 2026-03-02/);

    const confirm = await ask(core, '/backcare forget-me');
    await ask(core, { kind: 'action', ...button(confirm, 'forget.confirm') });
    expect(await database().db.select().from(triageRecords)).toHaveLength(0);
    expect(await database().db.select().from(users)).toHaveLength(0);
  });

  it('keeps nothing when the person says no, or lets the consent button expire', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const result = await runFlow(core, noneOfThese);
    const declined = await ask(core, { kind: 'action', ...button(result, 'triage.discard') });
    expect(declined.summary).toBe('Nothing was kept.');
    clock.advance(25 * 60 * 60 * 1000);
    const late = await ask(core, { kind: 'action', ...button(result, 'triage.keep') });
    expect(late.summary).toMatch(/expired/);
    expect(await database().db.select().from(triageRecords)).toHaveLength(0);
  });

  it('one person keeping an outcome stores nothing for anyone else', async () => {
    const core = buildTestCore(database().db);
    const other = testActor({ userExternalId: 'colleague' });
    const mine = await runFlow(core, noneOfThese);
    await ask(core, { kind: 'action', ...button(mine, 'triage.keep') });
    const theirs = await ask(core, '/backcare me', other);
    expect(replyText(theirs)).toMatch(/stores nothing/);
  });

  it('never writes answers, symptom words or outcomes to the logs', async () => {
    const capture = captureLogger('trace');
    const core = buildTestCore(database().db, { log: capture.log });
    await runFlow(core, { emergency: ['tearing_pain', 'leg_weakness'], urgent: ['none'], physio: ['none'] });
    await runFlow(
      core,
      { ...noneOfThese, urgent: ['fever'] },
      { pain: '8', weeks: '4.5', interferes: 'yes', worsening: 'yes' },
    );
    const last = await runFlow(core, { ...noneOfThese, physio: ['arm_numbness'] }, { ...calmDetails, pain: '11' });
    expect(last.formErrors).toBeDefined();
    await details(core, last.form!.state, { pain: '9', weeks: '2.5', interferes: 'yes', worsening: 'no' });
    await screen(core, { ...noneOfThese, emergency: ['none', 'chest_pain'] });

    const raw = capture.raw();
    expect(capture.lines().some((l) => l.event === 'triage.completed')).toBe(true);
    expect(capture.lines().some((l) => l.event === 'triage.invalid')).toBe(true);
    for (const symptom of rules.symptoms) {
      expect(raw).not.toContain(symptom.code);
      expect(raw).not.toContain(symptom.label);
    }
    for (const word of [
      'self_care',
      'physio',
      'urgent"',
      'emergency"',
      'severe_pain',
      'persistent',
      'interferes"',
      'worsening"',
      '"pain"',
      '"weeks"',
      '"symptoms"',
      '4.5',
      '2.5',
    ]) {
      expect(raw).not.toContain(word);
    }
  });
});
