import { describe, expect, it } from 'vitest';
import { choicesFor, fieldPrompt, parseFieldAnswer, renderReply } from '../../../adapters/console/render.js';
import type { FormField, Reply } from '../../../src/core/reply.js';

const plain = { ansi: false };

const sample: Reply = {
  summary: 'sample',
  visibility: 'ephemeral',
  blocks: [
    { type: 'header', text: 'Shoulder rolls' },
    { type: 'text', text: 'Sit *tall* and `relax` your jaw.' },
    { type: 'list', style: 'numbered', items: ['Roll forward', 'Roll back'] },
    { type: 'list', style: 'bullet', items: ['No equipment'] },
    { type: 'caution', text: 'Stop if pain sharpens.' },
    { type: 'fields', fields: [{ label: 'Time', value: '2 min' }] },
    { type: 'image', alt: 'chart', path: '/tmp/chart.png' },
    { type: 'divider' },
    { type: 'context', text: 'Not medical advice.' },
  ],
  actions: [
    { type: 'button', actionId: 'nudge.done', label: 'Done', value: '{"d":1}', style: 'primary' },
    { type: 'select', actionId: 'pick', placeholder: 'Pattern', options: [{ label: 'Box', value: 'box' }, { label: '4-7-8', value: '478' }] },
  ],
};

describe('console renderer', () => {
  it('renders every block kind as readable terminal text and numbers every choice', () => {
    const { text, choices } = renderReply(sample, plain);
    expect(text).toBe(
      [
        '== Shoulder rolls ==',
        'Sit tall and relax your jaw.',
        '  1. Roll forward',
        '  2. Roll back',
        '  • No equipment',
        '  ! Stop if pain sharpens.',
        '  Time: 2 min',
        '[image: chart] /tmp/chart.png',
        '----',
        'Not medical advice.',
        '  [1] Done',
        '  [2] Pattern: Box',
        '  [3] Pattern: 4-7-8',
        'Type a number to choose.',
      ].join('\n'),
    );
    expect(choices.map((c) => [c.number, c.actionId, c.value])).toEqual([
      [1, 'nudge.done', '{"d":1}'],
      [2, 'pick', 'box'],
      [3, 'pick', '478'],
    ]);
  });

  it('uses ANSI emphasis only in a terminal', () => {
    expect(renderReply(sample, { ansi: true }).text).toContain('\x1b[1mtall\x1b[22m');
    expect(renderReply(sample, plain).text).not.toContain('\x1b[');
  });

  it('shows form errors next to the field names', () => {
    const { text } = renderReply({ ...sample, blocks: [], actions: [], formErrors: { timezone: 'unknown zone' } }, plain);
    expect(text).toBe('  ✗ timezone: unknown zone');
  });

  it('has no choices for a reply without actions', () => {
    expect(choicesFor([])).toEqual([]);
  });
});

describe('console form fields', () => {
  const select: FormField = { id: 'optedIn', label: 'Nudges', kind: 'select', options: [{ label: 'Yes', value: 'yes' }, { label: 'No', value: 'no' }], initial: 'no' };
  const multi: FormField = {
    id: 'days',
    label: 'Days',
    kind: 'multiselect',
    options: [{ label: 'Monday', value: 'mon' }, { label: 'Tuesday', value: 'tue' }, { label: 'Friday', value: 'fri' }],
    initial: ['mon'],
  };
  const time: FormField = { id: 'start', label: 'Start', kind: 'time', initial: '09:00' };

  it('prompts with the options and the current value', () => {
    expect(fieldPrompt(select)).toBe('Nudges [1 Yes, 2 No] (now: No): ');
    expect(fieldPrompt(multi)).toBe('Days, numbers or codes separated by commas [1 Monday, 2 Tuesday, 3 Friday] (now: mon): ');
    expect(fieldPrompt(time)).toBe('Start (now: 09:00): ');
  });

  it('keeps the current value on an empty answer, and accepts numbers, codes or labels', () => {
    expect(parseFieldAnswer(select, '')).toEqual({ value: 'no' });
    expect(parseFieldAnswer(select, '1')).toEqual({ value: 'yes' });
    expect(parseFieldAnswer(select, 'YES')).toEqual({ value: 'yes' });
    expect(parseFieldAnswer(select, '3')).toEqual({ error: 'choose 1–2' });
    expect(parseFieldAnswer(multi, '')).toEqual({ value: ['mon'] });
    expect(parseFieldAnswer(multi, '1, 3')).toEqual({ value: ['mon', 'fri'] });
    expect(parseFieldAnswer(multi, 'tue fri')).toEqual({ value: ['tue', 'fri'] });
    expect(parseFieldAnswer(multi, '1,9')).toEqual({ error: '"9" is not one of 1–3' });
    expect(parseFieldAnswer(time, ' 10:30 ')).toEqual({ value: '10:30' });
    expect(parseFieldAnswer(time, '')).toEqual({ value: '09:00' });
  });
});
