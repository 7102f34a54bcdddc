import { describe, expect, it } from 'vitest';
import { formFitProblems, type Form } from '../../src/core/reply.js';

const fitting: Form = {
  formId: 'f',
  title: 'x'.repeat(24),
  submitLabel: 'Next',
  fields: [
    { id: 'n', label: 'y'.repeat(45), kind: 'number', hint: 'h'.repeat(100) },
    { id: 'c', label: 'q'.repeat(150), kind: 'multiselect', options: [{ label: 'o'.repeat(75), value: 'o' }] },
  ],
};

describe('formFitProblems: a form text any platform would cut', () => {
  it('is empty for texts at the limits', () => {
    expect(formFitProblems(fitting)).toEqual([]);
  });

  it('names each text one character over: title (Slack 24), typed label (Discord 45), hint (Discord 100), option (Slack 75)', () => {
    const over: Form = {
      ...fitting,
      title: 'x'.repeat(25),
      fields: [
        { id: 'n', label: 'y'.repeat(46), kind: 'number', hint: 'h'.repeat(101) },
        { id: 'c', label: 'q'.repeat(151), kind: 'multiselect', options: [{ label: 'o'.repeat(76), value: 'o' }] },
      ],
    };
    const problems = formFitProblems(over);
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/title .* 25 characters \(at most 24\)/);
    expect(problems.join('\n')).toMatch(/n label .* 46 characters \(at most 45\)/);
    expect(problems.join('\n')).toMatch(/n hint .* 101 characters \(at most 100\)/);
    expect(problems.join('\n')).toMatch(/c label .* 151 characters \(at most 150\)/);
    expect(problems.join('\n')).toMatch(/c option .* 76 characters \(at most 75\)/);
  });
});
