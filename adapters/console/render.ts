import { stripControl } from '../../src/core/ports.js';
import { describeFormErrors } from '../../src/core/ports.js';
import { canonicalTimezone } from '../../src/core/ports.js';
import type { Action, Block, Form, FormField, Reply } from '../../src/core/ports.js';

export interface ConsoleStyle {
  /** ANSI emphasis when writing to a terminal; plain text when piped. */
  ansi: boolean;
}

/**
 * No control character from a reply reaches the terminal except the emphasis this file adds itself: the core
 * already cleans what it echoes, and this keeps any text that slipped through from moving the cursor or recolouring.
 */
function stripTerminalControls(value: string): string {
  // eslint-disable-next-line no-control-regex -- C0/C1 controls are what must not reach the terminal
  return value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

const bold = (s: string, style: ConsoleStyle) => (style.ansi ? `\x1b[1m${s}\x1b[22m` : s);
const dim = (s: string, style: ConsoleStyle) => (style.ansi ? `\x1b[2m${s}\x1b[22m` : s);

/** The core's light markup (*bold*, _italic_, `code`) as terminal text. */
function renderInline(value: string, style: ConsoleStyle): string {
  return (
    stripTerminalControls(value)
      // Mentions as the core writes them for chat platforms (`<@id>`, `<@id|name>`, `<#id|name>`) read as @name/#name here.
      .replace(
        /<([@#])([^<>|\s]+)(?:\|([^<>]+))?>/g,
        (_, sigil: string, id: string, name?: string) => `${sigil}${name ?? id}`,
      )
      .replace(/\*([^*\n]+)\*/g, (_, inner: string) => bold(inner, style))
      .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,!?:;])/g, (_, lead: string, inner: string) => `${lead}${inner}`)
      .replace(/`([^`\n]+)`/g, '$1')
  );
}

function renderBlock(block: Block, style: ConsoleStyle): string {
  switch (block.type) {
    case 'header':
      return bold(`== ${stripTerminalControls(block.text)} ==`, style);
    case 'text':
      return renderInline(block.text, style);
    case 'list':
      return block.items
        .map((item, i) => (block.style === 'numbered' ? `  ${i + 1}. ` : '  • ') + renderInline(item, style))
        .join('\n');
    case 'caution':
      return block.text
        .split('\n')
        .map((line) => `  ! ${renderInline(line, style)}`)
        .join('\n');
    case 'context':
      return dim(renderInline(block.text, style), style);
    case 'fields':
      return block.fields.map((f) => `  ${stripTerminalControls(f.label)}: ${renderInline(f.value, style)}`).join('\n');
    case 'image':
      return block.path
        ? `[image: ${block.alt}] ${block.path}`
        : `[image: ${block.alt}]${block.url ? ` ${block.url}` : ''}`;
    case 'file':
      return `[file: ${block.alt}] saved to ${block.path}`;
    case 'divider':
      return '----';
  }
}

export function renderBlocks(blocks: readonly Block[], style: ConsoleStyle): string {
  return blocks
    .map((b) => renderBlock(b, style))
    .filter((s) => s !== '')
    .join('\n');
}

/** Buttons and select options flattened into numbered choices, in order. */
export interface Choice {
  number: number;
  label: string;
  actionId: string;
  value: string;
}

export function choicesFor(actions: readonly Action[]): Choice[] {
  const choices: Choice[] = [];
  for (const action of actions) {
    if (action.type === 'button') {
      choices.push({ number: choices.length + 1, label: action.label, actionId: action.actionId, value: action.value });
    } else {
      for (const option of action.options) {
        choices.push({
          number: choices.length + 1,
          label: `${action.placeholder}: ${option.label}`,
          actionId: action.actionId,
          value: option.value,
        });
      }
    }
  }
  return choices;
}

function renderChoices(choices: readonly Choice[], style: ConsoleStyle): string {
  if (choices.length === 0) return '';
  return `${choices.map((c) => `  [${c.number}] ${c.label}`).join('\n')}\n${dim('Type a number to choose.', style)}`;
}

/** A whole reply as the console shows it (the form, if any, is asked afterwards, field by field). */
export function renderReply(reply: Reply, style: ConsoleStyle): { text: string; choices: Choice[] } {
  const choices = choicesFor(reply.actions);
  const parts = [renderBlocks(reply.blocks, style)];
  if (reply.formErrors) {
    // Every problem at once, in the form's order, each named by the label the person was asked with.
    const order = (id: string) => {
      const index = reply.form?.fields.findIndex((f) => f.id === id) ?? -1;
      return index < 0 ? Number.MAX_SAFE_INTEGER : index;
    };
    const sorted = Object.fromEntries(Object.entries(reply.formErrors).sort(([a], [b]) => order(a) - order(b)));
    parts.push(
      describeFormErrors(reply.form, sorted)
        .map((line) => `  ✗ ${stripTerminalControls(line)}`)
        .join('\n'),
    );
  }
  const rendered = renderChoices(choices, style);
  if (rendered) parts.push(rendered);
  return { text: parts.filter(Boolean).join('\n'), choices };
}

/** "(now: …)" when there is a value to keep; otherwise whether Enter may leave it empty. */
function currentNote(field: FormField, current: string): string {
  if (current) return ` (now: ${current})`;
  return field.optional ? ' (optional: press Enter to leave it empty)' : '';
}

/** The prompt for one form field, with its current value as the default. */
export function fieldPrompt(field: FormField): string {
  const hint = field.hint ? ` (${field.hint})` : '';
  switch (field.kind) {
    case 'select': {
      const options = field.options.map((o, i) => `${i + 1} ${o.label}`).join(', ');
      const current = field.options.find((o) => o.value === field.initial)?.label ?? '';
      return `${field.label} [${options}]${hint}${currentNote(field, current)}: `;
    }
    case 'multiselect': {
      const options = field.options.map((o, i) => `${i + 1} ${o.label}`).join(', ');
      const current = (field.initial ?? []).join(',');
      return `${field.label}, numbers or codes separated by commas [${options}]${hint}${currentNote(field, current)}: `;
    }
    default:
      return `${field.label}${hint}${currentNote(field, field.initial ?? '')}: `;
  }
}

/** Longest answer the console passes on for a field that declares no limit (the core refuses longer values). */
const MAX_ANSWER_LENGTH = 3000;
const MAX_TIMEZONE_LENGTH = 100;

/** "choose 1–3", or with a single option "type 1 to choose it". */
function chooseFrom(count: number): string {
  return count === 1 ? 'type 1 to choose it' : `choose a number from 1 to ${count}`;
}

/**
 * Turns what the person typed into a form value, checking it at once against the field's declared constraints
 * (options, time format, number range, length, a known timezone) so a wrong answer is asked again on the spot.
 * Empty keeps the current value; a required field with none must be answered. Cross-field rules stay with the core.
 */
export function parseFieldAnswer(field: FormField, typed: string): { value: string | string[] } | { error: string } {
  const answer = typed.trim();
  const needed = { error: 'this one needs an answer' };
  switch (field.kind) {
    case 'select': {
      if (answer === '') return field.initial || field.optional ? { value: field.initial ?? '' } : needed;
      const pick = pickOption(field.options, answer);
      return pick === null ? { error: chooseFrom(field.options.length) } : { value: pick };
    }
    case 'multiselect': {
      if (answer === '')
        return (field.initial ?? []).length > 0 || field.optional ? { value: field.initial ?? [] } : needed;
      const values: string[] = [];
      for (const part of answer.split(/[\s,]+/).filter(Boolean)) {
        const pick = pickOption(field.options, part);
        if (pick === null)
          return { error: `"${stripControl(part)}" is not one of the choices: ${chooseFrom(field.options.length)}` };
        values.push(pick);
      }
      return { value: values };
    }
    default: {
      if (answer === '') return field.initial || field.optional ? { value: field.initial ?? '' } : needed;
      if (answer === '-' && field.optional) return { value: '' };
      const limit =
        field.kind === 'text'
          ? (field.maxLength ?? MAX_ANSWER_LENGTH)
          : field.kind === 'timezone'
            ? MAX_TIMEZONE_LENGTH
            : MAX_ANSWER_LENGTH;
      if (answer.length > limit)
        return { error: `that answer is too long: at most ${limit} characters (it had ${answer.length})` };
      return checkValue(field, answer);
    }
  }
}

/**
 * A checklist answer that ticks one of the field's `submitNowOn` values: its valid choices, with any part that is not
 * a choice dropped (a typo beside a red flag must not hold the form back). Null when no such value is ticked.
 */
export function submitNowAnswer(field: FormField, typed: string): string[] | null {
  if (field.kind !== 'multiselect' || !field.submitNowOn?.length) return null;
  const picks = typed
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((part) => pickOption(field.options, part))
    .filter((pick): pick is string => pick !== null);
  return picks.some((pick) => field.submitNowOn!.includes(pick)) ? [...new Set(picks)] : null;
}

function checkValue(field: FormField, answer: string): { value: string } | { error: string } {
  switch (field.kind) {
    case 'time': {
      // 9:05 is 09:05; the core stores exactly HH:MM.
      const time = /^\d:\d\d$/.test(answer) ? `0${answer}` : answer;
      return /^([01]\d|2[0-3]):[0-5]\d$/.test(time)
        ? { value: time }
        : { error: 'use 24-hour HH:MM, from 00:00 to 23:59' };
    }
    case 'timezone':
      return canonicalTimezone(answer)
        ? { value: answer }
        : { error: 'that is not a timezone I know; use a name like Europe/London or America/New_York' };
    case 'number': {
      // A decimal comma (2,5) is a decimal point to many people; the core reads both.
      const number = /^-?\d+(?:[.,]\d+)?$/.test(answer) ? Number(answer.replace(',', '.')) : Number.NaN;
      const range =
        field.min !== undefined && field.max !== undefined
          ? ` from ${field.min} to ${field.max}`
          : field.min !== undefined
            ? ` of at least ${field.min}`
            : field.max !== undefined
              ? ` of at most ${field.max}`
              : '';
      if (Number.isNaN(number)) return { error: `type a number${range}` };
      if ((field.min !== undefined && number < field.min) || (field.max !== undefined && number > field.max))
        return { error: `type a number${range}` };
      return { value: answer };
    }
    default:
      return { value: answer };
  }
}

function pickOption(options: readonly { label: string; value: string }[], typed: string): string | null {
  if (/^\d+$/.test(typed)) return options[Number(typed) - 1]?.value ?? null;
  const lower = typed.toLowerCase();
  return options.find((o) => o.value.toLowerCase() === lower || o.label.toLowerCase() === lower)?.value ?? null;
}

// eslint-disable-next-line no-control-regex -- ESC starts the ANSI sequences this file writes (zero width)
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/y;

/** Columns one code point takes in a terminal: combining marks none, emoji and East Asian wide characters two. */
function cellWidth(char: string): number {
  if (/\p{Mark}|\u200d|\ufe0f/u.test(char)) return 0;
  if (
    /\p{Extended_Pictographic}|[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(
      char,
    )
  )
    return 2;
  return 1;
}

/**
 * One live line cut to the terminal's width (ANSI emphasis costs no columns), ending in "…" when cut.
 * A line that wrapped would leave its first rows behind when the next frame clears only the last one.
 */
export function fitToWidth(value: string, columns: number): string {
  // The last column stays free: writing into it makes some terminals wrap early.
  const room = Math.max(1, columns - 1);
  const parts: { text: string; width: number }[] = [];
  let width = 0;
  let styled = false;
  for (let i = 0; i < value.length;) {
    ANSI.lastIndex = i;
    const escape = ANSI.exec(value);
    if (escape) {
      parts.push({ text: escape[0], width: 0 });
      styled = true;
      i += escape[0].length;
      continue;
    }
    const char = String.fromCodePoint(value.codePointAt(i)!);
    const w = cellWidth(char);
    if (width + w > room) {
      // Cut: make room for the ellipsis, then close any emphasis that was left open.
      while (width + 1 > room && parts.length > 0) width -= parts.pop()!.width;
      return `${parts.map((p) => p.text).join('')}…${styled ? '\x1b[0m' : ''}`;
    }
    parts.push({ text: char, width: w });
    width += w;
    i += char.length;
  }
  return value;
}

export function formIntro(form: Form, style: ConsoleStyle): string {
  return `${bold(form.title, style)}\n${dim('Answer each question; press Enter to keep the current value. A command (such as help, with or without /backcare) leaves the form.', style)}`;
}
