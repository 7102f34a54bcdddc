import { describe, expect, it } from 'vitest';
import { formValues, normalizeMentions, actionInput, baseActionId } from '../../../adapters/slack/parse.js';
import {
  escapeMrkdwn,
  modalErrors,
  renderMessage,
  renderModal,
  splitText,
  timezoneOptions,
} from '../../../adapters/slack/render.js';
import type { Form, Reply } from '../../../src/core/reply.js';
import { messageProblems, modalProblems } from '../../support/slack/block-kit.js';

const big = (n: number, word = 'stretch ') => word.repeat(Math.ceil(n / word.length)).slice(0, n);

describe('Block Kit rendering within limits', () => {
  it('splits long text over several sections, keeps line breaks, never exceeds 3,000 characters', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `Line ${i}: ${big(40)}`).join('\n');
    const message = renderMessage({ summary: 'Long', blocks: [{ type: 'text', text: lines }], actions: [] });
    expect(message.blocks.length).toBeGreaterThan(3);
    expect(messageProblems(message, 'long')).toEqual([]);
    const joined = message.blocks.map((b) => (b.type === 'section' ? b.text?.text : '')).join('\n');
    expect(joined).toBe(lines);
  });

  it('a reply with too many blocks is shortened with a note, and its buttons survive', () => {
    const reply: Reply = {
      summary: big(5000),
      visibility: 'ephemeral',
      blocks: Array.from({ length: 80 }, (_, i) => ({ type: 'text' as const, text: `Paragraph ${i}` })),
      actions: [{ type: 'button', actionId: 'settings.edit', label: big(120), value: '{}' }],
    };
    const message = renderMessage(reply);
    expect(message.blocks).toHaveLength(50);
    expect(message.blocks.at(-1)?.type).toBe('actions');
    expect(JSON.stringify(message.blocks.at(-2))).toContain('Shortened to fit in Slack');
    expect(message.text).toHaveLength(2000);
    expect(messageProblems(message, 'many')).toEqual([]);
  });

  it('fields go ten to a section, labels and values escaped', () => {
    const message = renderMessage({
      summary: 'f',
      blocks: [
        {
          type: 'fields',
          fields: Array.from({ length: 23 }, (_, i) => ({ label: `L<${i}>`, value: i === 3 ? '' : `v&${i}` })),
        },
      ],
      actions: [],
    });
    expect(message.blocks).toHaveLength(3);
    expect(JSON.stringify(message.blocks[0])).toContain('*L&lt;0&gt;*\\nv&amp;0');
    expect(JSON.stringify(message.blocks[0])).toContain('*L&lt;3&gt;*\\n–');
    expect(messageProblems(message, 'fields')).toEqual([]);
  });

  it('buttons sharing an action id get unique ids that parse back to the core id', () => {
    const message = renderMessage({
      summary: 'x',
      blocks: [],
      actions: [
        { type: 'button', actionId: 'nudge.routine', label: 'A', value: '{"r":"a"}' },
        { type: 'button', actionId: 'nudge.routine', label: 'B', value: '{"r":"b"}' },
      ],
    });
    const ids = (message.blocks[0] as { elements: { action_id: string }[] }).elements.map((e) => e.action_id);
    expect(ids).toEqual(['nudge.routine', 'nudge.routine::1']);
    expect(ids.map(baseActionId)).toEqual(['nudge.routine', 'nudge.routine']);
    expect(actionInput({ action_id: 'nudge.routine::1', type: 'button', value: '{"r":"b"}' })).toEqual({
      kind: 'action',
      actionId: 'nudge.routine',
      value: '{"r":"b"}',
    });
  });

  it('more than 25 buttons spill into a second actions block; empty text makes no block', () => {
    const actions = Array.from({ length: 30 }, (_, i) => ({
      type: 'button' as const,
      actionId: `a${i}`,
      label: `B${i}`,
      value: '{}',
    }));
    const message = renderMessage({
      summary: 'x',
      blocks: [
        { type: 'text', text: '  ' },
        { type: 'context', text: '' },
      ],
      actions,
    });
    expect(message.blocks.map((b) => b.type)).toEqual(['actions', 'actions']);
    expect(messageProblems(message, 'buttons')).toEqual([]);
  });

  it('escapes mrkdwn control characters but keeps user mentions live', () => {
    expect(escapeMrkdwn('a < b & <@U0SAM> > <!channel>')).toBe('a &lt; b &amp; <@U0SAM> &gt; &lt;!channel&gt;');
    expect(normalizeMentions('lead add <@U0SAM|sam> <@W0ENT>')).toBe('lead add <@U0SAM> <@W0ENT>');
  });

  it('splitText cuts at line breaks or spaces, never inside a word when it can help it', () => {
    expect(splitText('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(splitText('', 10)).toEqual(['']);
  });
});

describe('modals from the core Form', () => {
  const form: Form = {
    formId: 'triage',
    title: 'A title much longer than twenty-four characters',
    submitLabel: 'Send',
    state: '{"s":1}',
    fields: [
      {
        id: 'where',
        label: 'Where does it hurt?',
        kind: 'select',
        options: [{ label: 'Upper back', value: 'upper' }],
        initial: 'upper',
      },
      {
        id: 'many',
        label: 'Pick',
        kind: 'multiselect',
        options: Array.from({ length: 14 }, (_, i) => ({ label: `Option ${i}`, value: `o${i}` })),
        initial: ['o2'],
      },
      { id: 'note', label: 'Anything else', kind: 'text', optional: true, maxLength: 500 },
      { id: 'tz', label: 'Timezone', kind: 'timezone' },
    ],
  };

  it('renders within modal limits, long lists as a menu, and the timezone from the profile', () => {
    const view = renderModal(form, { profileTimezone: 'Asia/Tokyo', privateMetadata: '{"state":"{\\"s\\":1}"}' });
    expect(modalProblems(view as unknown as Record<string, unknown>, 'triage')).toEqual([]);
    expect(view.title.text).toHaveLength(24);
    const elements = view.blocks.map((b) => (b as { element: { type: string } }).element.type);
    expect(elements).toEqual(['static_select', 'multi_static_select', 'plain_text_input', 'external_select']);
    expect(JSON.stringify(view.blocks[3])).toContain(
      '"initial_option":{"text":{"type":"plain_text","text":"Asia/Tokyo","emoji":true},"value":"Asia/Tokyo"}',
    );
    expect((view.blocks[2] as { optional: boolean }).optional).toBe(true);
  });

  it('initial values Slack would refuse are trimmed or left out instead of failing views.open', () => {
    const view = renderModal({
      formId: 'f',
      title: 't',
      submitLabel: 's',
      fields: [
        { id: 'note', label: 'Note', kind: 'text', initial: 'x'.repeat(150), maxLength: 100 },
        { id: 'n', label: 'N', kind: 'number', initial: '5', min: 10, max: 480 },
        { id: 'm', label: 'M', kind: 'number', initial: '45', min: 10, max: 480 },
      ],
    });
    const elements = view.blocks.map((b) => (b as unknown as { element: Record<string, unknown> }).element);
    expect(String(elements[0]?.initial_value)).toHaveLength(100);
    expect(elements[1]?.initial_value).toBeUndefined();
    expect(elements[2]?.initial_value).toBe('45');
  });

  it('errors for unknown fields go on the first field', () => {
    expect(modalErrors(form, { note: 'too long', other: 'something else' })).toEqual({
      note: 'too long',
      where: 'something else',
    });
  });

  it('reads every element type back from view state', () => {
    const values = formValues({
      a: { a: { type: 'plain_text_input', value: null } },
      b: { b: { type: 'checkboxes', selected_options: [{ value: 'mon' }] } },
      c: { c: { type: 'static_select', selected_option: null } },
      d: { d: { type: 'timepicker', selected_time: '09:15' } },
      e: { e: { type: 'number_input', value: '45' } },
    });
    expect(values).toEqual({ a: '', b: ['mon'], c: '', d: '09:15', e: '45' });
  });

  it('timezone search matches words with spaces or underscores and caps the list at 100', () => {
    expect(timezoneOptions('los angeles').map((o) => o.value)).toEqual(['America/Los_Angeles']);
    expect(timezoneOptions('').length).toBe(100);
  });
});
