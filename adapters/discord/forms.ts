import {
  ButtonStyle,
  ChannelType,
  ComponentType,
  SelectMenuDefaultValueType,
  TextInputStyle,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIModalInteractionResponseCallbackData,
} from 'discord.js';
import type { Form, FormField } from '../../src/core/ports.js';
import { encodeCustomId } from './custom-id.js';
import { clip, discordLimits, markdown, type DiscordMessage } from './render.js';

/**
 * A core form on Discord: a modal holds at most five text inputs and no selects we can rely on, so a form
 * is filled in as a short wizard: pages of select menus (four per ephemeral message, the fifth row holds
 * Next/Cancel), then modals of up to five text inputs, then one submit to the core. Nothing is saved until then.
 */

export type FormValues = Record<string, string | string[]>;

export interface Draft {
  id: string;
  form: Form;
  values: FormValues;
  /** Who may continue it (another user pressing the buttons is refused). */
  userId: string;
  /** The guild it is about (a DM wizard keeps the guild it started from). */
  guildId?: string | undefined;
  /** After a rejected submit: only these fields are asked again, with these messages. */
  only?: string[];
  errors?: Record<string, string>;
  position: number;
  expires: number;
}

export type Step =
  { kind: 'page'; fields: FormField[] } | { kind: 'modal'; index: number; fields: FormField[] } | { kind: 'submit' };

/** Fields picked on a page of selects; a channel is picked too, so Discord sends its id rather than a typed name. */
const isChoice = (f: FormField) => f.kind === 'select' || f.kind === 'multiselect' || f.kind === 'channel';
const SELECTS_PER_PAGE = discordLimits.discordActionRows - 1;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function steps(draft: Pick<Draft, 'form' | 'only'>): Step[] {
  const fields = draft.only ? draft.form.fields.filter((f) => draft.only!.includes(f.id)) : draft.form.fields;
  const pages = chunk(fields.filter(isChoice), SELECTS_PER_PAGE).map((page): Step => ({ kind: 'page', fields: page }));
  const modals = chunk(
    fields.filter((f) => !isChoice(f)),
    discordLimits.modalTextInputs,
  ).map((group, index): Step => ({ kind: 'modal', index, fields: group }));
  return [...pages, ...modals, { kind: 'submit' }];
}

export function initialValues(form: Form): FormValues {
  const values: FormValues = {};
  for (const field of form.fields) values[field.id] = field.initial ?? (field.kind === 'multiselect' ? [] : '');
  return values;
}

/** Drafts live in memory for an hour: a modal can be left open a long time, a restart simply asks to start again. */
export class FormDrafts {
  private readonly drafts = new Map<string, Draft>();
  private counter = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 60 * 60 * 1000,
  ) {}

  create(
    form: Form,
    owner: { userId: string; guildId?: string | undefined },
    previous?: { values: FormValues; errors?: Record<string, string> },
  ): Draft {
    this.sweep();
    const id = `${(this.now() % 2 ** 40).toString(36)}${(this.counter++ % 1296).toString(36)}`;
    const errors = previous?.errors && Object.keys(previous.errors).length > 0 ? previous.errors : undefined;
    const only = errors ? Object.keys(errors).filter((f) => form.fields.some((field) => field.id === f)) : [];
    const draft: Draft = {
      id,
      form,
      values: { ...initialValues(form), ...(previous?.values ?? {}) },
      userId: owner.userId,
      ...(owner.guildId ? { guildId: owner.guildId } : {}),
      ...(errors ? { errors } : {}),
      ...(only.length > 0 ? { only } : {}),
      position: 0,
      expires: this.now() + this.ttlMs,
    };
    this.drafts.set(id, draft);
    return draft;
  }

  get(id: string, userId: string): Draft | null {
    const draft = this.drafts.get(id);
    if (!draft || draft.userId !== userId || draft.expires < this.now()) return null;
    return draft;
  }

  delete(id: string): void {
    this.drafts.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, draft] of this.drafts) if (draft.expires < now) this.drafts.delete(id);
  }
}

function fieldNote(draft: Draft, field: FormField): string {
  const error = draft.errors?.[field.id];
  const hint = field.hint ? ` _(${field.hint})_` : '';
  return error ? `❌ **${field.label}**: ${error}` : `**${field.label}**${hint}`;
}

function nextLabel(draft: Draft, after: number): string {
  const next = steps(draft)[after];
  if (!next || next.kind === 'submit') return clip(draft.form.submitLabel, discordLimits.discordButtonLabel);
  return next.kind === 'modal' ? 'Next: type the rest' : 'Next';
}

/** An ephemeral page of selects (the current step), or the "continue" message before a modal. */
export function pageMessage(draft: Draft): DiscordMessage {
  const all = steps(draft);
  const step = all[draft.position];
  const progress = `Step ${draft.position + 1} of ${all.length - 1}`;
  const rows: APIActionRowComponent<APIComponentInMessageActionRow>[] = [];
  const notes: string[] = [];
  if (step?.kind === 'page') {
    for (const field of step.fields) {
      const index = draft.form.fields.indexOf(field);
      const current = draft.values[field.id];
      if (field.kind === 'channel') {
        const chosen = typeof current === 'string' && /^\d{15,21}$/.test(current) ? current : undefined;
        notes.push(fieldNote(draft, field));
        rows.push({
          type: ComponentType.ActionRow,
          components: [
            {
              type: ComponentType.ChannelSelect,
              custom_id: encodeCustomId({ kind: 'form', draft: draft.id, step: String(index) }),
              placeholder: clip(field.label, discordLimits.selectPlaceholder),
              channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement],
              min_values: field.optional ? 0 : 1,
              max_values: 1,
              ...(chosen ? { default_values: [{ id: chosen, type: SelectMenuDefaultValueType.Channel }] } : {}),
            },
          ],
        });
        continue;
      }
      if (field.kind !== 'select' && field.kind !== 'multiselect') continue;
      const chosen = new Set(Array.isArray(current) ? current : current ? [current] : []);
      const options = field.options.slice(0, discordLimits.discordSelectOptions);
      notes.push(fieldNote(draft, field));
      rows.push({
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.StringSelect,
            custom_id: encodeCustomId({ kind: 'form', draft: draft.id, step: String(index) }),
            placeholder: clip(field.label, discordLimits.selectPlaceholder),
            min_values: field.kind === 'multiselect' ? (field.optional ? 0 : 1) : 1,
            max_values: field.kind === 'multiselect' ? options.length : 1,
            options: options.map((o) => ({
              label: clip(o.label, discordLimits.selectOptionLabel),
              value: o.value.slice(0, discordLimits.selectOptionValue),
              default: chosen.has(o.value),
            })),
          },
        ],
      });
    }
  } else if (step?.kind === 'modal') {
    for (const field of step.fields) notes.push(fieldNote(draft, field));
  }
  const errorsElsewhere = Object.entries(draft.errors ?? {}).filter(
    ([id]) => !draft.form.fields.some((f) => f.id === id),
  );
  for (const [, message] of errorsElsewhere) notes.push(`❌ ${message}`);
  rows.push({
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Primary,
        label: step?.kind === 'modal' ? 'Open the form' : nextLabel(draft, draft.position + 1),
        custom_id: encodeCustomId({ kind: 'form', draft: draft.id, step: '>' }),
      },
      {
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: 'Cancel',
        custom_id: encodeCustomId({ kind: 'form', draft: draft.id, step: 'x' }),
      },
    ],
  });
  const intro = draft.errors
    ? 'Some answers need another look:'
    : step?.kind === 'modal'
      ? 'Next, a few things to type:'
      : 'Choose below, then press the button.';
  return {
    embeds: [
      {
        title: clip(draft.form.title, discordLimits.embedTitle),
        description: clip(markdown([intro, ...notes].join('\n')), discordLimits.discordEmbedDescription),
        footer: { text: `${progress} · nothing is saved until the last step` },
        color: 0x3ba99c,
      },
    ],
    components: rows,
  };
}

/** The modal for a group of text fields (at most five), prefilled with the current values. */
export function modalFor(
  draft: Draft,
  step: Extract<Step, { kind: 'modal' }>,
): APIModalInteractionResponseCallbackData {
  return {
    custom_id: encodeCustomId({ kind: 'modal', draft: draft.id, chunk: step.index }),
    title: clip(draft.form.title, discordLimits.modalTitle),
    components: step.fields.map((field) => {
      const current = draft.values[field.id];
      const value = typeof current === 'string' ? current : '';
      const placeholder =
        draft.errors?.[field.id] ??
        field.hint ??
        (field.kind === 'timezone' ? 'e.g. Europe/London' : field.kind === 'time' ? 'HH:MM' : undefined);
      const maxLength = field.kind === 'text' ? field.maxLength : field.kind === 'time' ? 5 : 100;
      return {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: field.id,
            label: clip(field.label, discordLimits.textInputLabel),
            style: field.kind === 'text' && field.multiline ? TextInputStyle.Paragraph : TextInputStyle.Short,
            required: !field.optional,
            ...(value ? { value: value.slice(0, maxLength ?? 4000) } : {}),
            ...(placeholder ? { placeholder: clip(placeholder, discordLimits.textInputPlaceholder) } : {}),
            ...(maxLength ? { max_length: maxLength } : {}),
          },
        ],
      };
    }),
  };
}
