import { TextInputStyle } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { modalFor, steps, initialValues, type Draft } from '../../adapters/discord/forms.js';
import { renderModal } from '../../adapters/slack/render.js';
import type { Form } from '../../src/core/reply.js';

const form: Form = {
  formId: 'routines.import',
  title: 'Import team routines',
  submitLabel: 'Import',
  fields: [
    { id: 'yaml', label: 'Routines (YAML)', kind: 'text', multiline: true, maxLength: 3000 },
    { id: 'title', label: 'Title', kind: 'text', maxLength: 60 },
  ],
};

describe('multi-line text fields (a YAML document, a list of steps)', () => {
  it('are a multi-line box in a Slack modal, and single-line fields stay single-line', () => {
    const modal = renderModal(form);
    const elements = modal.blocks.map((b) => (b as { element: { multiline?: boolean } }).element);
    expect(elements[0]?.multiline).toBe(true);
    expect(elements[1]?.multiline).toBeUndefined();
  });

  it('are a paragraph input in a Discord modal, and single-line fields stay short', () => {
    const draft: Draft = {
      id: 'd1',
      form,
      values: initialValues(form),
      owner: { platform: 'discord', workspaceExternalId: 'dm-u', userId: 'u' },
      position: 0,
      expiresAt: new Date(Date.now() + 60_000),
    };
    const step = steps(draft).find((s) => s.kind === 'modal');
    if (!step || step.kind !== 'modal') throw new Error('expected a modal step');
    const rows = modalFor(draft, step).components as { components: { custom_id: string; style: number }[] }[];
    const styles = Object.fromEntries(rows.map((r) => [r.components[0]!.custom_id, r.components[0]!.style]));
    expect(styles).toEqual({ yaml: TextInputStyle.Paragraph, title: TextInputStyle.Short });
  });
});
