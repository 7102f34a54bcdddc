import type { types } from '@slack/bolt';
import {
  blockText,
  limits,
  type Action,
  type Block,
  type Form,
  type FormField,
  type Reply,
} from '../../src/core/ports.js';

/**
 * The core's reply model → Block Kit, always inside Slack's limits: long text is split over several
 * sections, labels are cut with an ellipsis, and a reply with too many blocks is shortened with a note
 * rather than rejected by Slack.
 */

export type SlackBlock = types.KnownBlock;
export type SlackView = types.View;

export const slackLimits = {
  ...limits,
  headerText: 150,
  fieldText: 2000,
  fieldsPerSection: 10,
  elementsPerActions: 25,
  optionText: 75,
  optionValue: 150,
  optionsPerSelect: 100,
  placeholder: 150,
  modalTitle: 24,
  modalBlocks: 100,
  homeBlocks: 100,
  privateMetadata: 3000,
  inputLabel: 2000,
  imageUrl: 3000,
  altText: 2000,
  contextElements: 10,
} as const;

/** Cuts to `max` characters, marking the cut. */
function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  return `${value.slice(0, max - 1)}…`;
}

/**
 * Slack mrkdwn needs &, < and > escaped in everything, echoed input included; only the app's own mentions stay live
 * (`<@U123>` people, `<#C123>` / `<#C123|name>` channels). An entity Slack already escaped in what the person
 * typed (`&lt;`) is left as it is, so it shows once as `<` rather than as `&lt;`.
 */
export function escapeMrkdwn(value: string): string {
  return value
    .split(/(<@[UW][A-Z0-9]{2,30}>|<#[CG][A-Z0-9]{2,30}(?:\|[^<>|&]{1,80})?>)/)
    .map((part, index) =>
      index % 2 === 1
        ? part
        : part
            .replace(/&(?!(?:amp|lt|gt);)/g, '&amp;')
            .replace(/</g, '&lt;')
            .replace(/>/g, '&gt;'),
    )
    .join('');
}

/** Splits text into pieces of at most `max` characters, preferring line breaks, then spaces. */
export function splitText(value: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = value;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut < max / 2) cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]/, '');
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest);
  return pieces;
}

const plain = (value: string, max: number): types.PlainTextElement => ({
  type: 'plain_text',
  text: clip(value, max),
  emoji: true,
});

/** Slack rejects empty text objects, so empty text renders as nothing. */
function sections(value: string): SlackBlock[] {
  if (value.trim() === '') return [];
  return splitText(escapeMrkdwn(value), slackLimits.slackSectionText).map((piece) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: piece },
  }));
}

function renderBlock(block: Block): SlackBlock[] {
  switch (block.type) {
    case 'header':
      return block.text.trim() === '' ? [] : [{ type: 'header', text: plain(block.text, slackLimits.headerText) }];
    case 'text':
      return sections(block.text);
    case 'caution':
      // Several cautions travel as one block, one per line: each line gets its own mark.
      return sections(
        block.text
          .split('\n')
          .map((line) => `:warning: ${line}`)
          .join('\n'),
      );
    case 'list':
      return sections(
        block.items.map((item, i) => (block.style === 'numbered' ? `${i + 1}. ${item}` : `• ${item}`)).join('\n'),
      );
    case 'context':
      if (block.text.trim() === '') return [];
      return splitText(escapeMrkdwn(block.text), slackLimits.slackSectionText).map((piece) => ({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: piece }],
      }));
    case 'fields': {
      const out: SlackBlock[] = [];
      // An empty value would leave a dangling label; Slack shows "–" better than a blank.
      for (let i = 0; i < block.fields.length; i += slackLimits.fieldsPerSection) {
        out.push({
          type: 'section',
          fields: block.fields.slice(i, i + slackLimits.fieldsPerSection).map((f) => ({
            type: 'mrkdwn',
            text: clip(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value) || '–'}`, slackLimits.fieldText),
          })),
        });
      }
      return out;
    }
    case 'image':
      if (block.url && block.url.length <= slackLimits.imageUrl && /^https:\/\//.test(block.url)) {
        return [{ type: 'image', image_url: block.url, alt_text: clip(block.alt, slackLimits.altText) }];
      }
      // Local files (charts) are uploaded next to the message by the adapter; the text says what they show.
      return sections(`:bar_chart: ${block.alt}`);
    case 'divider':
      return [{ type: 'divider' }];
    default:
      // Attachments (data exports) are uploaded next to the message by the adapter; the text says what they are.
      return sections(`:paperclip: ${blockText(block)}`);
  }
}

/** Slack wants action ids unique within a message: repeated ids get a `::n` suffix that parse.ts strips. */
function uniqueActionIds(actions: Action[]): string[] {
  const seen = new Map<string, number>();
  return actions.map((action) => {
    const n = seen.get(action.actionId) ?? 0;
    seen.set(action.actionId, n + 1);
    return n === 0 ? action.actionId : `${action.actionId}::${n}`;
  });
}

function renderElement(action: Action, actionId: string): types.ActionsBlockElement | null {
  if (action.type === 'button') {
    if (action.value.length > 2000) return null;
    return {
      type: 'button',
      action_id: actionId,
      text: plain(action.label, slackLimits.slackButtonText),
      value: action.value,
      ...(action.style ? { style: action.style } : {}),
    };
  }
  const options = action.options
    .filter((o) => o.value.length <= slackLimits.optionValue)
    .slice(0, slackLimits.optionsPerSelect)
    .map((o) => ({ text: plain(o.label, slackLimits.optionText), value: o.value }));
  if (options.length === 0) return null;
  return {
    type: 'static_select',
    action_id: actionId,
    placeholder: plain(action.placeholder, slackLimits.placeholder),
    options,
  };
}

function renderActions(actions: Action[]): SlackBlock[] {
  const ids = uniqueActionIds(actions);
  const elements = actions
    .map((a, i) => renderElement(a, ids[i]!))
    .filter((e): e is types.ActionsBlockElement => e !== null);
  const out: SlackBlock[] = [];
  for (let i = 0; i < elements.length; i += slackLimits.elementsPerActions) {
    out.push({ type: 'actions', elements: elements.slice(i, i + slackLimits.elementsPerActions) });
  }
  return out;
}

const shortenedNote: SlackBlock = {
  type: 'context',
  elements: [
    { type: 'mrkdwn', text: '_Shortened to fit in Slack; run the command in the console or ask for less at once._' },
  ],
};

/** Content blocks then action blocks, at most `maxBlocks` in all; actions are kept, content is shortened. */
export function renderBlocks(
  blocks: Block[],
  actions: Action[],
  maxBlocks: number = slackLimits.slackBlocks,
): SlackBlock[] {
  const content = blocks.flatMap(renderBlock);
  const actionBlocks = renderActions(actions).slice(0, Math.max(0, maxBlocks - 1));
  const room = maxBlocks - actionBlocks.length;
  if (content.length <= room) return [...content, ...actionBlocks];
  return [...content.slice(0, Math.max(0, room - 1)), shortenedNote, ...actionBlocks];
}

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** The fallback text shows in notifications and for screen readers; Slack truncates long ones, we cut first. */
function fallbackText(summary: string): string {
  return clip(escapeMrkdwn(summary), slackLimits.slackFallbackText) || 'Backcare';
}

export function renderMessage(reply: Pick<Reply, 'summary' | 'blocks' | 'actions'>): SlackMessage {
  return { text: fallbackText(reply.summary), blocks: renderBlocks(reply.blocks, reply.actions) };
}

/** Local files (charts, exports) to upload alongside a message. */
export function localFiles(reply: Pick<Reply, 'blocks'>): { path: string; filename: string; alt: string }[] {
  return reply.blocks.flatMap((b) => {
    if (b.type === 'image')
      return b.path && !b.url ? [{ path: b.path, filename: b.path.split('/').pop() ?? 'chart.png', alt: b.alt }] : [];
    const file = b as { path?: unknown; filename?: unknown; alt?: unknown };
    if (typeof file.path === 'string' && typeof file.filename === 'string')
      return [{ path: file.path, filename: file.filename, alt: String(file.alt ?? '') }];
    return [];
  });
}

/* ------------------------------------------------------------------ modals */

const option = (label: string, value: string) => ({ text: plain(label, slackLimits.optionText), value });

/** Timezone choices for the modal's search box (external select): IANA names matching what was typed. */
export function timezoneOptions(
  query: string,
  zones: readonly string[] = Intl.supportedValuesOf('timeZone'),
): { text: types.PlainTextElement; value: string }[] {
  const needle = query.trim().toLowerCase().replace(/\s+/g, '_');
  const all = zones.includes('UTC') ? zones : ['UTC', ...zones];
  return all
    .filter((z) => needle === '' || z.toLowerCase().includes(needle))
    .slice(0, slackLimits.optionsPerSelect)
    .map((z) => option(z, z));
}

function inputElement(field: FormField, profileTimezone: string | undefined): types.InputBlockElement {
  const actionId = field.id;
  switch (field.kind) {
    case 'text':
      return {
        type: 'plain_text_input',
        action_id: actionId,
        // Slack refuses a modal whose initial value is longer than its max_length.
        ...(field.initial
          ? { initial_value: field.maxLength ? field.initial.slice(0, field.maxLength) : field.initial }
          : {}),
        ...(field.maxLength ? { max_length: field.maxLength } : {}),
        ...(field.multiline ? { multiline: true } : {}),
      };
    case 'time':
      return {
        type: 'timepicker',
        action_id: actionId,
        ...(field.initial && /^\d\d:\d\d$/.test(field.initial) ? { initial_time: field.initial } : {}),
      };
    case 'number': {
      // …and an initial number it would not accept (out of bounds, a fraction where none is allowed): leave the
      // field empty rather than fail to open.
      const initial = field.initial ?? '';
      const fits =
        (field.decimals ? /^-?\d+(\.\d+)?$/ : /^-?\d+$/).test(initial) &&
        Number(initial) >= (field.min ?? -Infinity) &&
        Number(initial) <= (field.max ?? Infinity);
      return {
        type: 'number_input',
        action_id: actionId,
        // Slack's client refuses a fraction unless this says so, before the core ever sees it.
        is_decimal_allowed: field.decimals === true,
        ...(fits ? { initial_value: initial } : {}),
        ...(field.min !== undefined ? { min_value: String(field.min) } : {}),
        ...(field.max !== undefined ? { max_value: String(field.max) } : {}),
      };
    }
    case 'timezone': {
      const initial = field.initial ?? profileTimezone;
      return {
        type: 'external_select',
        action_id: actionId,
        placeholder: plain('Type a city or region', slackLimits.placeholder),
        min_query_length: 0,
        ...(initial ? { initial_option: option(initial, initial) } : {}),
      };
    }
    case 'channel':
      // A picker, so Slack sends the channel's id: a name typed into a text box could never be posted to.
      return {
        type: 'conversations_select',
        action_id: actionId,
        placeholder: plain('Pick a channel', slackLimits.placeholder),
        filter: { include: ['public', 'private'], exclude_bot_users: true },
        // Only an id: Slack refuses to open a modal whose initial conversation is not one (older stored names).
        ...(field.initial && /^[CG][A-Z0-9]{2,30}$/.test(field.initial) ? { initial_conversation: field.initial } : {}),
      };
    case 'select': {
      const options = field.options.slice(0, slackLimits.optionsPerSelect).map((o) => option(o.label, o.value));
      const initial = options.find((o) => o.value === field.initial);
      return { type: 'static_select', action_id: actionId, options, ...(initial ? { initial_option: initial } : {}) };
    }
    case 'multiselect': {
      const options = field.options.slice(0, slackLimits.optionsPerSelect).map((o) => option(o.label, o.value));
      const initial = options.filter((o) => field.initial?.includes(o.value));
      // Checkboxes show every choice at once, which suits short lists (days, kinds); long lists get a menu.
      if (options.length <= 10)
        return {
          type: 'checkboxes',
          action_id: actionId,
          options,
          ...(initial.length > 0 ? { initial_options: initial } : {}),
        };
      return {
        type: 'multi_static_select',
        action_id: actionId,
        options,
        ...(initial.length > 0 ? { initial_options: initial } : {}),
      };
    }
  }
}

export interface ModalOptions {
  profileTimezone?: string | undefined;
  /** JSON the submission carries back (see parse.ts modalMetadataSchema). */
  privateMetadata?: string;
  /** Field id → message, shown above the fields when the core rejected a submission. */
  errors?: Record<string, string>;
}

/** The core's Form as a Slack modal: one input block per field, block id = action id = field id. */
export function renderModal(form: Form, options: ModalOptions = {}): types.ModalView {
  const blocks: SlackBlock[] = form.fields.slice(0, slackLimits.modalBlocks).map((field) => ({
    type: 'input',
    block_id: field.id,
    label: plain(field.label, slackLimits.inputLabel),
    optional: field.optional ?? false,
    element: inputElement(field, options.profileTimezone),
    ...(field.hint ? { hint: plain(field.hint, slackLimits.inputLabel) } : {}),
  }));
  const metadata = options.privateMetadata ?? '';
  return {
    type: 'modal',
    callback_id: form.formId,
    title: plain(form.title, slackLimits.modalTitle),
    submit: plain(form.submitLabel, slackLimits.modalTitle),
    close: plain('Cancel', slackLimits.modalTitle),
    private_metadata: metadata.length <= slackLimits.privateMetadata ? metadata : '',
    blocks,
  };
}

/**
 * `response_action: errors` only attaches to input blocks; an error about something that is not a field of
 * this form goes on the first field so the person still sees it.
 */
export function modalErrors(form: Form, errors: Record<string, string>): Record<string, string> {
  const fieldIds = new Set(form.fields.map((f) => f.id));
  const out: Record<string, string> = {};
  const stray: string[] = [];
  for (const [field, message] of Object.entries(errors)) {
    if (fieldIds.has(field)) out[field] = clip(message, slackLimits.inputLabel);
    else stray.push(message);
  }
  const first = form.fields[0]?.id;
  if (stray.length > 0 && first)
    out[first] = clip([out[first], ...stray].filter(Boolean).join(' '), slackLimits.inputLabel);
  return out;
}

/** A modal showing a reply (after a successful submission): same limits, no inputs, just a Close button. */
export function resultModal(title: string, reply: Pick<Reply, 'blocks' | 'actions'>): types.ModalView {
  return {
    type: 'modal',
    title: plain(title, slackLimits.modalTitle),
    close: plain('Close', slackLimits.modalTitle),
    blocks: renderBlocks(reply.blocks, reply.actions, slackLimits.modalBlocks),
  };
}
