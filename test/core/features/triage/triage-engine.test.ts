import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { triage } from '../../../../src/core/features/triage/engine.js';
import { defaultTriageFile, parseTriageRules, triageRules } from '../../../../src/core/features/triage/load.js';
import { parseAnswersJson, type Answers } from '../../../../src/core/features/triage/schema.js';

const rules = triageRules();
const calm: Answers = { pain: 2, weeks: 1, symptoms: [], interferes: false, worsening: false };
const answers = (overrides: Partial<Answers>): Answers => ({ ...calm, ...overrides });

// The table, written out here rather than read from the content file, so a wrong file fails the test.
const symptomLevels: [string, 'emergency' | 'urgent' | 'physio'][] = [
  ['chest_pain', 'emergency'],
  ['breathless', 'emergency'],
  ['tearing_pain', 'emergency'],
  ['leg_weakness', 'emergency'],
  ['bladder_bowel', 'emergency'],
  ['major_trauma', 'emergency'],
  ['fever', 'urgent'],
  ['weight_loss', 'urgent'],
  ['cancer_history', 'urgent'],
  ['night_pain', 'urgent'],
  ['fragile_trauma', 'urgent'],
  ['progressive_weakness', 'urgent'],
  ['arm_numbness', 'physio'],
  ['arm_weakness', 'physio'],
  ['radiating', 'physio'],
];

describe('triage rules engine', () => {
  it('the content file lists exactly the symptom codes of the issue, in its order', () => {
    expect(rules.symptoms.map((s) => [s.code, s.level])).toEqual(symptomLevels);
  });

  it.each(symptomLevels)('%s alone gives %s with itself as the only reason', (code, level) => {
    expect(triage(answers({ symptoms: [code] }), rules)).toEqual({ outcome: level, reasons: [code] });
  });

  it.each([
    ['no pain, nothing else', {}, 'self_care', []],
    ['pain 0', { pain: 0 }, 'self_care', []],
    ['pain 6 (just below the threshold)', { pain: 6 }, 'self_care', []],
    ['pain 7 (at the threshold)', { pain: 7 }, 'physio', ['severe_pain']],
    ['pain 10', { pain: 10 }, 'physio', ['severe_pain']],
    ['weeks 0', { weeks: 0 }, 'self_care', []],
    ['weeks 2.9 (just below the threshold)', { weeks: 2.9 }, 'self_care', []],
    ['weeks 3 (at the threshold)', { weeks: 3 }, 'physio', ['persistent']],
    ['weeks 52', { weeks: 52 }, 'physio', ['persistent']],
    ['interferes', { interferes: true }, 'physio', ['interferes']],
    ['worsening', { worsening: true }, 'physio', ['worsening']],
    ['pain 6 and weeks 2.9 together stay self-care', { pain: 6, weeks: 2.9 }, 'self_care', []],
    [
      'every physio reason at once, listed in rule order',
      { pain: 7, weeks: 3, interferes: true, worsening: true, symptoms: ['radiating', 'arm_weakness', 'arm_numbness'] },
      'physio',
      ['arm_numbness', 'arm_weakness', 'radiating', 'severe_pain', 'persistent', 'interferes', 'worsening'],
    ],
    [
      'stable weakness in an arm or hand, nothing else',
      { pain: 3, weeks: 1, symptoms: ['arm_weakness'] },
      'physio',
      ['arm_weakness'],
    ],
    [
      'weakness getting worse outranks stable weakness',
      { symptoms: ['arm_weakness', 'progressive_weakness'] },
      'urgent',
      ['progressive_weakness'],
    ],
    ['a physio symptom with a threshold', { symptoms: ['radiating'], weeks: 4 }, 'physio', ['radiating', 'persistent']],
    [
      'urgent outranks every physio reason, and only urgent reasons are listed',
      { pain: 10, weeks: 8, interferes: true, worsening: true, symptoms: ['arm_numbness', 'night_pain', 'fever'] },
      'urgent',
      ['fever', 'night_pain'],
    ],
    [
      'emergency outranks urgent and physio, and only emergency reasons are listed',
      { pain: 9, weeks: 5, worsening: true, symptoms: ['radiating', 'fever', 'major_trauma', 'chest_pain'] },
      'emergency',
      ['chest_pain', 'major_trauma'],
    ],
    [
      'emergency wins even with the calmest other answers',
      { pain: 0, weeks: 0, symptoms: ['bladder_bowel'] },
      'emergency',
      ['bladder_bowel'],
    ],
    [
      'all six emergency symptoms, given backwards, come back in rule order',
      { symptoms: ['major_trauma', 'bladder_bowel', 'leg_weakness', 'tearing_pain', 'breathless', 'chest_pain'] },
      'emergency',
      ['chest_pain', 'breathless', 'tearing_pain', 'leg_weakness', 'bladder_bowel', 'major_trauma'],
    ],
    [
      'all six urgent symptoms, given backwards, come back in rule order',
      { symptoms: ['progressive_weakness', 'fragile_trauma', 'night_pain', 'cancer_history', 'weight_loss', 'fever'] },
      'urgent',
      ['fever', 'weight_loss', 'cancer_history', 'night_pain', 'fragile_trauma', 'progressive_weakness'],
    ],
    ['a symptom ticked twice is one reason', { symptoms: ['fever', 'fever'] }, 'urgent', ['fever']],
  ] as [string, Partial<Answers>, string, string[]][])('%s', (_name, overrides, outcome, reasons) => {
    expect(triage(answers(overrides), rules)).toEqual({ outcome, reasons });
  });

  it('does not change the answers it is given', () => {
    const given = answers({ symptoms: ['radiating', 'fever'], pain: 8 });
    const copy = structuredClone(given);
    triage(given, rules);
    expect(given).toEqual(copy);
  });

  it('applies the thresholds from the rules it is given, not hard-coded ones', () => {
    const stricter = { ...rules, thresholds: { severePain: 5, persistentWeeks: 1 } };
    expect(triage(answers({ pain: 5, weeks: 0 }), stricter)).toEqual({ outcome: 'physio', reasons: ['severe_pain'] });
    expect(triage(answers({ pain: 5, weeks: 0 }), rules)).toEqual({ outcome: 'self_care', reasons: [] });
    expect(triage(answers({ weeks: 1 }), stricter)).toEqual({ outcome: 'physio', reasons: ['persistent'] });
  });
});

describe('answers validation', () => {
  const valid = { pain: 4, weeks: 1, symptoms: [], interferes: false, worsening: false };
  const json = (overrides: Record<string, unknown>, drop?: string) => {
    const value: Record<string, unknown> = { ...valid, ...overrides };
    if (drop) delete value[drop];
    return JSON.stringify(value);
  };

  it('accepts the issue example and fractional weeks', () => {
    expect(parseAnswersJson(json({}), rules)).toEqual({ ok: true, answers: valid });
    expect(parseAnswersJson(json({ weeks: 2.9 }), rules)).toMatchObject({ ok: true, answers: { weeks: 2.9 } });
  });

  it.each([
    ['not JSON', '{pain: 4', /not valid JSON/],
    ['empty text', '', /not valid JSON/],
    ['a JSON array', '[]', /must be a JSON object/],
    ['JSON null', 'null', /must be a JSON object/],
    ['unknown symptom code', json({ symptoms: ['back_ache'] }), /symptoms\[0\]: unknown symptom code "back_ache"/],
    ['"none" is not a symptom code', json({ symptoms: ['none'] }), /unknown symptom code "none"/],
    ['a symptom code of the wrong type', json({ symptoms: [3] }), /symptoms\[0\]/],
    ['symptoms as a string', json({ symptoms: 'fever' }), /symptoms: must be a list/],
    ['pain 11', json({ pain: 11 }), /pain: must be a whole number from 0 to 10/],
    ['pain -1', json({ pain: -1 }), /pain: must be a whole number from 0 to 10/],
    ['pain 6.5', json({ pain: 6.5 }), /pain: must be a whole number from 0 to 10/],
    ['pain as text', json({ pain: '4' }), /pain: must be a whole number/],
    ['negative weeks', json({ weeks: -0.1 }), /weeks: must be a number of weeks, 0 or more/],
    ['weeks as text', json({ weeks: '2' }), /weeks: must be a number/],
    ['interferes as text', json({ interferes: 'yes' }), /interferes: must be true or false/],
    ['missing pain', json({}, 'pain'), /pain: is missing/],
    ['missing weeks', json({}, 'weeks'), /weeks: is missing/],
    ['missing symptoms', json({}, 'symptoms'), /symptoms: is missing/],
    ['missing interferes', json({}, 'interferes'), /interferes: is missing/],
    ['missing worsening', json({}, 'worsening'), /worsening: is missing/],
    ['an extra field (a typo would otherwise be ignored)', json({ symptom: ['fever'] }), /unknown field "symptom"/],
  ])('rejects %s', (_name, raw, message) => {
    const result = parseAnswersJson(raw, rules);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatch(message);
      expect(result.error).not.toContain('\n');
    }
  });
});

describe('triage content file', () => {
  const source = readFileSync(defaultTriageFile, 'utf8');

  it('fills the thresholds into the reason labels', () => {
    expect(rules.reasons.severe_pain).toContain('7');
    expect(rules.reasons.persistent).toContain('3 weeks');
    expect(JSON.stringify(rules)).not.toMatch(/\{severePain\}|\{persistentWeeks\}/);
  });

  it('every outcome text says Backcare is not a diagnosis or medical advice, and emergency names the numbers', () => {
    expect(rules.disclaimer).toMatch(/not a diagnosis or medical advice/);
    expect(rules.outcomes.emergency.headline).toMatch(/999.*112.*911/s);
    expect(rules.outcomes.emergency.headline).toMatch(/not drive yourself/i);
    expect(rules.outcomes.urgent.headline).toMatch(/NHS 111/);
  });

  it.each([
    [
      'a duplicated code',
      (s: string) => s.replace('code: breathless', 'code: chest_pain'),
      /symptoms\.1\.code: "chest_pain" is listed twice/,
    ],
    ['the reserved code "none"', (s: string) => s.replace('code: radiating', 'code: none'), /reserved/],
    [
      'an unknown level',
      (s: string) => s.replace('level: physio', 'level: mild'),
      /level: must be one of emergency, urgent, physio/,
    ],
    [
      'a missing outcome text',
      (s: string) => s.replace(/ {4}escalate: "Call 999.*\n/, ''),
      /outcomes\.urgent\.escalate/,
    ],
    [
      'a pain threshold above 10',
      (s: string) => s.replace('severePain: 7', 'severePain: 11'),
      /thresholds\.severePain/,
    ],
    ['broken YAML', (s: string) => `${s}\n  - : [\n`, /not valid YAML/],
    [
      'a symptom label longer than a checklist choice may be (Slack cuts option text at 75)',
      (s: string) =>
        s.replace('label: Short of breath', `label: Short of breath ${'x'.repeat(76 - 'Short of breath '.length)}`),
      /symptoms\.1\.label: must be at most 75 characters/,
    ],
    [
      'more urgent symptoms than one Slack checklist holds',
      (s: string) =>
        s.replace(
          '  - code: arm_numbness',
          [1, 2, 3, 4]
            .map((n) => `  - code: extra_${'abcd'[n - 1]}\n    level: urgent\n    label: Extra ${n}\n`)
            .join('') + '  - code: arm_numbness',
        ),
      /at most 9 urgent symptoms/,
    ],
  ])('rejects %s, naming the file and the line', (_name, edit, message) => {
    expect(() => parseTriageRules(edit(source), 'content/triage.yaml')).toThrow(message);
    expect(() => parseTriageRules(edit(source), 'content/triage.yaml')).toThrow(/^content\/triage\.yaml(:\d+)?: /);
  });

  it('takes a symptom label of exactly 75 characters', () => {
    const edited = source.replace(
      'label: Short of breath',
      `label: Short of breath ${'x'.repeat(75 - 'Short of breath '.length)}`,
    );
    expect(parseTriageRules(edited, 'content/triage.yaml').symptoms[1]!.label).toHaveLength(75);
  });

  it('points at the line of the problem', () => {
    const edited = source.replace('level: physio', 'level: mild');
    const line = edited.split('\n').findIndex((l) => l.includes('level: mild')) + 1;
    expect(() => parseTriageRules(edited, 'content/triage.yaml')).toThrow(`content/triage.yaml:${line}: `);
  });
});
