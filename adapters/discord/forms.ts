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
import type { Form, FormDraft, FormDraftStore, FormField, FormValues } from '../../src/core/ports.js';
import { ownerFrom } from './parse.js';
import { encodeCustomId } from './custom-id.js';
import { clip, discordLimits, markdown, type DiscordMessage } from './render.js';

/**
 * A core form on Discord: a modal holds at most five text inputs and no selects we can rely on, so a form
 * is filled in as a short wizard: pages of select menus (four per ephemeral message, the fifth row holds
 * Next/Cancel), then modals of up to five text inputs, then one submit to the core. Nothing is saved until then
 * (the draft is stored between steps only so that another replica, or a restart, can carry on).
 */

export type { FormValues };

/** A core draft, plus the guild it is about (a DM wizard keeps the guild it started from). */
export interface Draft extends FormDraft {
  guildId?: string | undefined;
}

/** Who is filling it in: the Discord user, and the guild they act in (none for someone with no server). */
export interface DraftStarter {
  userId: string;
  guildId?: string | undefined;
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

/** A new draft's content: every field's initial value, then what was given before; after errors, only those fields. */
export function draftContent(
  form: Form,
  starter: DraftStarter,
  previous?: { values: FormValues; errors?: Record<string, string> | undefined },
): Omit<FormDraft, 'id' | 'expiresAt'> {
  const errors = previous?.errors && Object.keys(previous.errors).length > 0 ? previous.errors : undefined;
  const only = errors ? Object.keys(errors).filter((f) => form.fields.some((field) => field.id === f)) : [];
  return {
    form,
    values: { ...initialValues(form), ...(previous?.values ?? {}) },
    owner: { platform: 'discord', ...ownerFrom(starter) },
    ...(errors ? { errors } : {}),
    ...(only.length > 0 ? { only } : {}),
    position: 0,
  };
}

const withGuild = (draft: FormDraft): Draft => {
  const { workspaceExternalId } = draft.owner;
  return /^\d{15,21}$/.test(workspaceExternalId) ? { ...draft, guildId: workspaceExternalId } : draft;
};

/**
 * The wizard's drafts, kept by the core's draft store (the database), so the next step may land on another replica
 * or after a restart. Only the person who started a draft may continue it.
 */
export class FormDrafts {
  constructor(private readonly store: FormDraftStore) {}

  async create(
    form: Form,
    starter: DraftStarter,
    previous?: { values: FormValues; errors?: Record<string, string> | undefined },
  ): Promise<Draft> {
    return withGuild(await this.store.create(draftContent(form, starter, previous)));
  }

  async get(id: string, userId: string): Promise<Draft | null> {
    const draft = await this.store.get(id, { platform: 'discord', userId });
    return draft ? withGuild(draft) : null;
  }

  /** Records answers and the step; the draft as stored now, or null when it has gone meanwhile. */
  async update(draft: Draft, change: { values?: FormValues; position?: number }): Promise<Draft | null> {
    const updated = await this.store.update(draft.id, { platform: 'discord', userId: draft.owner.userId }, change);
    return updated ? withGuild(updated) : null;
  }

  /** True when this call removed it (false: gone already, e.g. submitted by a double press). */
  delete(id: string): Promise<boolean> {
    return this.store.remove(id);
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
