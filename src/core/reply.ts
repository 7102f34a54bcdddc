/**
 * The platform-neutral reply model. Everything an adapter can show is a value of this model;
 * the Slack, Discord and console renderers translate it and nothing else.
 */

export type Block =
  | { type: 'header'; text: string }
  /** Light markup only: *bold* and _italic_; renderers translate it. */
  | { type: 'text'; text: string }
  | { type: 'list'; style: 'bullet' | 'numbered'; items: string[] }
  /** Safety or care notes, rendered so they stand out. */
  | { type: 'caution'; text: string }
  /** Small print: disclaimers, hints. */
  | { type: 'context'; text: string }
  | { type: 'fields'; fields: { label: string; value: string }[] }
  /** `path` is a local file (charts) that adapters upload; `url` is shown as is. */
  | { type: 'image'; alt: string; url?: string; path?: string }
  /** A local file the adapter uploads or attaches as `filename` (data exports, CSVs); the console prints its path. */
  | { type: 'file'; path: string; filename: string; alt: string }
  | { type: 'divider' };

type ButtonStyle = 'primary' | 'danger';

export type Action =
  | { type: 'button'; actionId: string; label: string; value: string; style?: ButtonStyle }
  | {
      type: 'select';
      actionId: string;
      placeholder: string;
      options: { label: string; value: string }[];
    };

/** The options of every yes/no select, so each platform shows them the same way. */
export const yesNoOptions: { label: string; value: 'yes' | 'no' }[] = [
  { label: 'Yes', value: 'yes' },
  { label: 'No', value: 'no' },
];

export type FormField =
  | {
      id: string;
      label: string;
      kind: 'text';
      initial?: string;
      hint?: string;
      optional?: boolean;
      maxLength?: number;
      /** Several lines (steps, a YAML document): a multi-line box in Slack, a paragraph input in Discord. */
      multiline?: boolean;
    }
  | { id: string; label: string; kind: 'time'; initial?: string; hint?: string; optional?: boolean }
  /**
   * A channel of the workspace: Slack and Discord offer a channel picker (the value is the channel's id), the console
   * asks for text. Whatever arrives is read by the core through the platform's one channel parser.
   */
  | { id: string; label: string; kind: 'channel'; initial?: string; hint?: string; optional?: boolean }
  /** An IANA timezone: Slack offers its profile zone, Discord autocompletes, the console validates as typed. */
  | { id: string; label: string; kind: 'timezone'; initial?: string; hint?: string; optional?: boolean }
  | {
      id: string;
      label: string;
      kind: 'number';
      initial?: string;
      hint?: string;
      optional?: boolean;
      min?: number;
      max?: number;
      /** Whether a fraction (0.5, or 0,5 as many people type it) is a valid answer; whole numbers only when absent. */
      decimals?: boolean;
    }
  | {
      id: string;
      label: string;
      kind: 'select';
      options: { label: string; value: string }[];
      initial?: string;
      hint?: string;
      optional?: boolean;
    }
  | {
      id: string;
      label: string;
      kind: 'multiselect';
      options: { label: string; value: string }[];
      initial?: string[];
      hint?: string;
      optional?: boolean;
      /**
       * Option values that make the rest of the form moot (a red flag): an adapter that asks field by field submits
       * the form as soon as an answer ticks one, with the later fields unanswered. Whole-form platforms ignore it.
       */
      submitNowOn?: string[];
    };

/** A multi-field form: a Slack modal, a Discord modal or selects, field-by-field prompts in the console. */
export interface Form {
  formId: string;
  title: string;
  submitLabel: string;
  fields: FormField[];
  /** Opaque state the core wants back on submit (validated like an action value). */
  state?: string;
  /**
   * Health answers (triage): an adapter that keeps a draft between steps keeps it in its own memory only, never in
   * storage, so "answers are never stored" holds (a restart then asks to start again).
   */
  sensitive?: boolean;
}

/** One frame of a timed sequence: shown for `ms`, then replaced by the next. */
export interface Frame {
  blocks: Block[];
  ms: number;
}

/**
 * A paced, live-updating message (guided breathing, timed steps). The adapter plays the frames by
 * editing one message; when it cannot update fast enough it shows `staticBlocks` instead. When the last frame
 * ends, the adapter sends `onComplete` back to the core as an action; a Stop button cancels what is pending.
 */
export interface Sequence {
  /** Stable per user: a new sequence for the same user replaces the one still playing. */
  sessionId: string;
  frames: Frame[];
  staticBlocks: Block[];
  onComplete?: { actionId: string; value: string };
  /** Actions shown while it plays (usually Stop). */
  actions: Action[];
}

type Visibility = 'ephemeral' | 'public' | 'dm';

export interface Reply {
  blocks: Block[];
  actions: Action[];
  visibility: Visibility;
  /** Plain-text summary for notifications and accessibility fallbacks. */
  summary: string;
  sequence?: Sequence;
  form?: Form;
  /** Field id → message: the submitted form had problems; show them in place and let the person fix them. */
  formErrors?: Record<string, string>;
  /** When answering a button press: replace the message that carried the button. */
  replaceOriginal?: boolean;
}

export function reply(
  summary: string,
  blocks: Block[],
  options: Partial<Omit<Reply, 'summary' | 'blocks'>> = {},
): Reply {
  return { summary, blocks, actions: [], visibility: 'ephemeral', ...options };
}

export const text = (value: string): Block => ({ type: 'text', text: value });
export const header = (value: string): Block => ({ type: 'header', text: value });
export const context = (value: string): Block => ({ type: 'context', text: value });
export const caution = (value: string): Block => ({ type: 'caution', text: value });
export const bullets = (items: string[]): Block => ({ type: 'list', style: 'bullet', items });
export const steps = (items: string[]): Block => ({ type: 'list', style: 'numbered', items });

/** Plain text of a block, for summaries, fallbacks and tests. */
export function blockText(block: Block): string {
  switch (block.type) {
    case 'header':
    case 'text':
    case 'caution':
    case 'context':
      return block.text;
    case 'list':
      return block.items.join('\n');
    case 'fields':
      return block.fields.map((f) => `${f.label}: ${f.value}`).join('\n');
    case 'image':
    case 'file':
      return block.alt;
    case 'divider':
      return '';
  }
}

export function replyText(value: Reply): string {
  return value.blocks.map(blockText).filter(Boolean).join('\n');
}

/** Platform limits every renderer must respect; the core keeps its own text inside them. */
export const limits = {
  slackSectionText: 3000,
  slackButtonText: 75,
  slackBlocks: 50,
  slackFallbackText: 2000,
  discordEmbedDescription: 4096,
  discordButtonLabel: 80,
  discordActionRows: 5,
  discordButtonsPerRow: 5,
  discordSelectOptions: 25,
  discordCustomId: 100,
  /*
   * Form texts, at the tightest platform's limit (renderers clip anything longer, which loses meaning: see
   * formFitProblems). A form's title and submit label: Slack modal title/submit 24 (Discord modal title 45).
   */
  formTitle: 24,
  /** A choice in a select or checklist: Slack option text 75 (Discord select option 100). */
  formOptionLabel: 75,
  /** The label of a typed field (text, number, time, timezone): Discord text-input label 45 (Slack 2000). */
  formFieldLabel: 45,
  /** The label of a select or checklist: Discord shows it as the select's placeholder, 150 (Slack 2000). */
  formChoiceLabel: 150,
  /** The hint of a typed field: Discord shows it as the text input's placeholder, 100 (Slack 2000). */
  formFieldHint: 100,
} as const;

/** Every text of a form that a platform would have to cut, as readable problems (empty when it all fits). */
export function formFitProblems(form: Form): string[] {
  const problems: string[] = [];
  const check = (what: string, value: string, max: number) => {
    if (value.length > max)
      problems.push(`${form.formId} ${what} "${value}" has ${value.length} characters (at most ${max})`);
  };
  check('title', form.title, limits.formTitle);
  check('submit label', form.submitLabel, limits.formTitle);
  for (const field of form.fields) {
    const choice = field.kind === 'select' || field.kind === 'multiselect';
    check(`${field.id} label`, field.label, choice ? limits.formChoiceLabel : limits.formFieldLabel);
    if (!choice && field.hint) check(`${field.id} hint`, field.hint, limits.formFieldHint);
    if (choice) for (const option of field.options) check(`${field.id} option`, option.label, limits.formOptionLabel);
  }
  return problems;
}
