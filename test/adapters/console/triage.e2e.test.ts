import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triageRules } from '../../../src/core/features/triage/load.js';
import { runBot, tempDataDir, type RunResult } from '../../support/spawn.js';

const data = tempDataDir({ migrated: true });
afterAll(() => data.cleanup());

// One real bot with piped stdin, as a person would type it: an emergency screen, then a full check.
const input = [
  '/backcare triage',
  '1,tearing_pain', // emergency checklist: by number and by code
  'none',
  'none',
  '/backcare triage',
  '7', // emergency checklist: "None of these"
  'none',
  '1', // physio checklist: numbness or tingling
  '11', // pain: out of range, refused and asked again at once
  '7', // pain
  '2,5', // weeks
  '2', // interferes: No
  'no', // worsening
  '2', // consent: yes, keep the outcome
  '/backcare me',
  '',
].join('\n');

let result: RunResult;
let emergencyPart: string;
let fullPart: string;

describe('/backcare triage in the console (child process, piped stdin)', () => {
  beforeAll(async () => {
    result = await runBot(input, { BACKCARE_DATA_DIR: data.dir, LOG_LEVEL: 'debug' }, 120_000);
    const starts = [...result.stdout.matchAll(/A quick back pain check/g)].map((m) => m.index);
    expect(starts).toHaveLength(2);
    emergencyPart = result.stdout.slice(starts[0], starts[1]);
    fullPart = result.stdout.slice(starts[1]);
  }, 150_000);

  it('exits 0 with the chat on stdout and logs on stderr', () => {
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('"level"');
    expect(result.stderr).toContain('"event":"triage.completed"');
  });

  it('asks the safety screen as checklists with "None of these"', () => {
    expect(emergencyPart).toContain(
      'Do you have any of these right now?, numbers or codes separated by commas [1 Chest pain or pressure',
    );
    expect(emergencyPart).toContain('7 None of these]');
  });

  it('shows the emergency outcome right after the screen, with nothing competing', () => {
    const outcome = emergencyPart.slice(emergencyPart.indexOf('! Call your local emergency number now'));
    expect(outcome).toMatch(
      /^! Call your local emergency number now: 999 in the UK, 112 in the EU, 911 in the US and Canada\. Do not drive yourself/,
    );
    expect(outcome).toContain('Chest pain or pressure, which may spread to the arm, neck or jaw');
    expect(outcome).toContain('Sudden, severe, tearing pain between the shoulder blades');
    expect(outcome).toContain('not a diagnosis or medical advice');
    // No pain questions, no routines, no buttons, no consent question.
    expect(emergencyPart).not.toContain('How strong is the pain');
    expect(outcome).not.toMatch(/\[1\]|Type a number|\/backcare (routine|stretch|roll|breathe)|Keep a note/);
  });

  it('runs a full check: re-asks a bad answer, shows the outcome with reasons, and keeps it only when asked', () => {
    expect(fullPart).toContain('How strong is the pain right now, 0 to 10? (0 = none, 10 = worst imaginable)');
    expect(fullPart).toContain('✗ type a number from 0 to 10');
    expect(fullPart).toContain('Book an appointment with a physiotherapist or your doctor');
    expect(fullPart).toContain('Numbness or tingling in an arm or hand');
    expect(fullPart).toContain('Pain of 7 or more out of 10');
    expect(fullPart).not.toContain('Pain that has lasted'); // 2.5 weeks is under the threshold
    expect(fullPart).toContain('not a diagnosis or medical advice');
    expect(fullPart).toContain('[1] No, keep nothing');
    expect(fullPart).toContain('[2] Yes, keep the outcome and date');
    expect(fullPart).toContain('Kept: the outcome (see a physiotherapist or doctor) and the date, nothing else.');
    expect(fullPart).toMatch(
      /Triage outcomes kept \(only with your consent\): see a physiotherapist or doctor on \d{4}-\d{2}-\d{2}/,
    );
  });

  it('never logs the answers', () => {
    for (const symptom of triageRules().symptoms) {
      expect(result.stderr).not.toContain(symptom.code);
      expect(result.stderr).not.toContain(symptom.label);
    }
    expect(result.stderr).not.toMatch(/"pain"|"weeks"|2,5|physio|emergency"/);
  });
});
