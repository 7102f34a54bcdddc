import { describe, expect, it } from 'vitest';
import { choicesFor, fieldPrompt, parseFieldAnswer, renderReply } from '../../../adapters/console/render.js';
import type { Form, FormField, Reply } from '../../../src/core/reply.js';

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
    {
      type: 'select',
      actionId: 'pick',
      placeholder: 'Pattern',
      options: [
        { label: 'Box', value: 'box' },
        { label: '4-7-8', value: '478' },
      ],
    },
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

  it('shows every form error at once, named by the field label in the form order, never by the internal id', () => {
    const form: Form = {
      formId: 'settings',
      title: 'Settings',
      submitLabel: 'Save',
      fields: [
        { id: 'timezone', label: 'Timezone', kind: 'timezone' },
        { id: 'everyMinutes', label: 'Minutes between nudges', kind: 'number' },
        { id: 'channelId', label: 'Team channel', kind: 'text' },
      ],
    };
    const errors = {
      channelId: 'name the team channel',
      everyMinutes: 'too often',
      timezone: 'unknown zone',
      form: 'something else',
    };
    const { text } = renderReply({ ...sample, blocks: [], actions: [], form, formErrors: errors }, plain);
    expect(text).toBe(
      '  ✗ Timezone: unknown zone\n  ✗ Minutes between nudges: too often\n  ✗ Team channel: name the team channel\n  ✗ something else',
    );
  });

  it('has no choices for a reply without actions', () => {
    expect(choicesFor([])).toEqual([]);
  });
});

describe('console form fields', () => {
  const select: FormField = {
    id: 'optedIn',
    label: 'Nudges',
    kind: 'select',
    options: [
      { label: 'Yes', value: 'yes' },
      { label: 'No', value: 'no' },
    ],
    initial: 'no',
  };
  const multi: FormField = {
    id: 'days',
    label: 'Days',
    kind: 'multiselect',
    options: [
      { label: 'Monday', value: 'mon' },
      { label: 'Tuesday', value: 'tue' },
      { label: 'Friday', value: 'fri' },
    ],
    initial: ['mon'],
  };
  const time: FormField = { id: 'start', label: 'Start', kind: 'time', initial: '09:00' };

  it('prompts with the options and the current value', () => {
    expect(fieldPrompt(select)).toBe('Nudges [1 Yes, 2 No] (now: No): ');
    expect(fieldPrompt(multi)).toBe(
      'Days, numbers or codes separated by commas [1 Monday, 2 Tuesday, 3 Friday] (now: mon): ',
    );
    expect(fieldPrompt(time)).toBe('Start (now: 09:00): ');
  });

  it('keeps the current value on an empty answer, and accepts numbers, codes or labels', () => {
    expect(parseFieldAnswer(select, '')).toEqual({ value: 'no' });
    expect(parseFieldAnswer(select, '1')).toEqual({ value: 'yes' });
    expect(parseFieldAnswer(select, 'YES')).toEqual({ value: 'yes' });
    expect(parseFieldAnswer(select, '3')).toEqual({ error: 'choose a number from 1 to 2' });
    expect(parseFieldAnswer(multi, '')).toEqual({ value: ['mon'] });
    expect(parseFieldAnswer(multi, '1, 3')).toEqual({ value: ['mon', 'fri'] });
    expect(parseFieldAnswer(multi, 'tue fri')).toEqual({ value: ['tue', 'fri'] });
    expect(parseFieldAnswer(multi, '1,9')).toEqual({
      error: '"9" is not one of the choices: choose a number from 1 to 3',
    });
    expect(parseFieldAnswer(time, ' 10:30 ')).toEqual({ value: '10:30' });
    expect(parseFieldAnswer(time, '')).toEqual({ value: '09:00' });
  });
});

describe('console form fields are checked as they are answered', () => {
  it('a time must be HH:MM from 00:00 to 23:59 (9:05 is read as 09:05)', () => {
    const time: FormField = { id: 'start', label: 'Start', kind: 'time', initial: '09:00' };
    expect(parseFieldAnswer(time, '25:00')).toEqual({ error: 'use 24-hour HH:MM, from 00:00 to 23:59' });
    expect(parseFieldAnswer(time, 'noon')).toEqual({ error: 'use 24-hour HH:MM, from 00:00 to 23:59' });
    expect(parseFieldAnswer(time, '9:05')).toEqual({ value: '09:05' });
  });

  it('a number must be in the declared range; a decimal comma counts', () => {
    const pain: FormField = { id: 'pain', label: 'Pain', kind: 'number', min: 0, max: 10 };
    expect(parseFieldAnswer(pain, '11')).toEqual({ error: 'type a number from 0 to 10' });
    expect(parseFieldAnswer(pain, 'lots')).toEqual({ error: 'type a number from 0 to 10' });
    expect(parseFieldAnswer(pain, '7')).toEqual({ value: '7' });
    const weeks: FormField = { id: 'weeks', label: 'Weeks', kind: 'number', min: 0 };
    expect(parseFieldAnswer(weeks, '2,5')).toEqual({ value: '2,5' });
    expect(parseFieldAnswer(weeks, '-1')).toEqual({ error: 'type a number of at least 0' });
  });

  it('a timezone must be one the core knows', () => {
    const tz: FormField = { id: 'timezone', label: 'Timezone', kind: 'timezone', initial: 'UTC' };
    expect(parseFieldAnswer(tz, 'Mars/Olympus')).toEqual({
      error: 'that is not a timezone I know; use a name like Europe/London or America/New_York',
    });
    expect(parseFieldAnswer(tz, 'europe/london')).toEqual({ value: 'europe/london' });
  });

  it('a required field without a current value is not offered "now: none" and Enter asks again', () => {
    const weeks: FormField = { id: 'weeks', label: 'How many weeks?', kind: 'number', min: 0 };
    expect(fieldPrompt(weeks)).toBe('How many weeks?: ');
    expect(parseFieldAnswer(weeks, '')).toEqual({ error: 'this one needs an answer' });
    const channel: FormField = { id: 'channelId', label: 'Channel', kind: 'text', optional: true };
    expect(fieldPrompt(channel)).toBe('Channel (optional: press Enter to leave it empty): ');
    expect(parseFieldAnswer(channel, '')).toEqual({ value: '' });
  });
});
