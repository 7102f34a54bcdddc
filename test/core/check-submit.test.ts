import { describe, expect, it } from 'vitest';
import { coreWithoutDb } from '../adapters/discord/harness-core.js';

/** The core's pure pre-check of form submissions: what a platform may refuse before any I/O. */
describe('checkSubmit: field errors found without I/O', () => {
  const { core } = coreWithoutDb();
  const check = (formId: string, values: Record<string, string | string[]>) => core.checkSubmit!({ formId, values });

  it('settings: a malformed time, an unknown timezone or an interval out of range is reported on its field', () => {
    const errors = check('settings', {
      optedIn: 'yes',
      timezone: 'Mars/Olympus',
      start: '25:99',
      end: '16:30',
      everyMinutes: '5',
      days: ['mon'],
      kinds: ['stretch'],
    });
    expect(Object.keys(errors).sort()).toEqual(['everyMinutes', 'start', 'timezone']);
    expect(errors.everyMinutes).toMatch(/at least 10/);
  });

  it('settings: well-formed fields give no early error (the submit checks the rest)', () => {
    const valid = {
      optedIn: 'yes',
      timezone: 'Europe/Paris',
      start: '08:30',
      end: '16:30',
      everyMinutes: '45',
      days: ['mon'],
      kinds: ['stretch'],
    };
    expect(check('settings', valid)).toEqual({});
    // Working days may come from the hours text instead (`sat 10:00-12:00` makes Saturday one): the submit decides.
    expect(check('settings', { ...valid, days: [], hours: 'sat 10:00-12:00' })).toEqual({});
    expect(Object.keys(check('settings', { ...valid, days: [] }))).toEqual(['days']);
  });

  it('triage screen: an unanswered list is an error when no red flag is ticked', () => {
    expect(check('triage.screen', { emergency: ['none'], urgent: [], physio: ['none'] })).toEqual({
      urgent: expect.any(String),
    });
  });

  it.each([
    ['an emergency sign with the other lists empty', { emergency: ['tearing_pain'], urgent: [], physio: [] }],
    [
      'an emergency sign beside "None of these"',
      { emergency: ['tearing_pain', 'none'], urgent: ['bogus'], physio: [] },
    ],
    ['an urgent sign with the physio list empty', { emergency: ['none'], urgent: ['fever'], physio: [] }],
    ['an urgent sign with the emergency list empty', { emergency: [], urgent: ['fever'], physio: [] }],
  ])('triage screen: a red flag is never held back by the pure check (%s)', (_name, values) => {
    expect(check('triage.screen', values)).toEqual({});
  });

  it('a form without a check, or an unknown form, gives no early error', () => {
    expect(check('triage.details', { pain: 'x' })).toEqual({});
    expect(check('no.such.form', {})).toEqual({});
  });
});
