import type { Action, Block, Form, FormField, Reply } from '../../src/core/reply.js';

export interface ConsoleStyle {
  /** ANSI emphasis when writing to a terminal; plain text when piped. */
  ansi: boolean;
}

const bold = (s: string, style: ConsoleStyle) => (style.ansi ? `\x1b[1m${s}\x1b[22m` : s);
const dim = (s: string, style: ConsoleStyle) => (style.ansi ? `\x1b[2m${s}\x1b[22m` : s);

/** The core's light markup (*bold*, _italic_, `code`) as terminal text. */
export function renderInline(value: string, style: ConsoleStyle): string {
  return value
    .replace(/\*([^*\n]+)\*/g, (_, inner: string) => bold(inner, style))
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,!?:;])/g, (_, lead: string, inner: string) => `${lead}${inner}`)
    .replace(/`([^`\n]+)`/g, '$1');
}

export function renderBlock(block: Block, style: ConsoleStyle): string {
  switch (block.type) {
    case 'header':
      return bold(`== ${block.text} ==`, style);
    case 'text':
      return renderInline(block.text, style);
    case 'list':
      return block.items
        .map((item, i) => (block.style === 'numbered' ? `  ${i + 1}. ` : '  • ') + renderInline(item, style))
        .join('\n');
    case 'caution':
      return `  ! ${renderInline(block.text, style)}`;
    case 'context':
      return dim(renderInline(block.text, style), style);
    case 'fields':
      return block.fields.map((f) => `  ${f.label}: ${renderInline(f.value, style)}`).join('\n');
    case 'image':
      return block.path ? `[image: ${block.alt}] ${block.path}` : `[image: ${block.alt}]${block.url ? ` ${block.url}` : ''}`;
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
        choices.push({ number: choices.length + 1, label: `${action.placeholder}: ${option.label}`, actionId: action.actionId, value: option.value });
      }
    }
  }
  return choices;
}

export function renderChoices(choices: readonly Choice[], style: ConsoleStyle): string {
  if (choices.length === 0) return '';
  return `${choices.map((c) => `  [${c.number}] ${c.label}`).join('\n')}\n${dim('Type a number to choose.', style)}`;
}

/** A whole reply as the console shows it (the form, if any, is asked afterwards, field by field). */
export function renderReply(reply: Reply, style: ConsoleStyle): { text: string; choices: Choice[] } {
  const choices = choicesFor(reply.actions);
  const parts = [renderBlocks(reply.blocks, style)];
  if (reply.formErrors) {
    parts.push(Object.entries(reply.formErrors).map(([field, message]) => `  ✗ ${field}: ${message}`).join('\n'));
  }
  const rendered = renderChoices(choices, style);
  if (rendered) parts.push(rendered);
  return { text: parts.filter(Boolean).join('\n'), choices };
}

/** The prompt for one form field, with its current value as the default. */
export function fieldPrompt(field: FormField): string {
  const hint = field.hint ? ` (${field.hint})` : '';
  switch (field.kind) {
    case 'select': {
      const options = field.options.map((o, i) => `${i + 1} ${o.label}`).join(', ');
      const current = field.options.find((o) => o.value === field.initial)?.label ?? '';
      return `${field.label} [${options}]${hint} (now: ${current || 'none'}): `;
    }
    case 'multiselect': {
      const options = field.options.map((o, i) => `${i + 1} ${o.label}`).join(', ');
      const current = (field.initial ?? []).join(',');
      return `${field.label}, numbers or codes separated by commas [${options}]${hint} (now: ${current || 'none'}): `;
    }
    default:
      return `${field.label}${hint} (now: ${field.initial || 'none'}): `;
  }
}

/**
 * Turns what the person typed into a form value. Empty keeps the default; numbers pick options.
 * Returns an error message for numbers that pick nothing; everything else is left to the core to validate.
 */
export function parseFieldAnswer(field: FormField, typed: string): { value: string | string[] } | { error: string } {
  const answer = typed.trim();
  switch (field.kind) {
    case 'select': {
      if (answer === '') return { value: field.initial ?? '' };
      const pick = pickOption(field.options, answer);
      return pick === null ? { error: `choose 1–${field.options.length}` } : { value: pick };
    }
    case 'multiselect': {
      if (answer === '') return { value: field.initial ?? [] };
      const values: string[] = [];
      for (const part of answer.split(/[\s,]+/).filter(Boolean)) {
        const pick = pickOption(field.options, part);
        if (pick === null) return { error: `"${part}" is not one of 1–${field.options.length}` };
        values.push(pick);
      }
      return { value: values };
    }
    default:
      if (answer === '') return { value: field.initial ?? '' };
      if (answer === '-' && field.optional) return { value: '' };
      return { value: answer };
  }
}

function pickOption(options: readonly { label: string; value: string }[], typed: string): string | null {
  if (/^\d+$/.test(typed)) return options[Number(typed) - 1]?.value ?? null;
  const lower = typed.toLowerCase();
  return options.find((o) => o.value.toLowerCase() === lower || o.label.toLowerCase() === lower)?.value ?? null;
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/y;

/** Columns one code point takes in a terminal: combining marks none, emoji and East Asian wide characters two. */
function cellWidth(char: string): number {
  if (/\p{Mark}|\u200d|\ufe0f/u.test(char)) return 0;
  if (/\p{Extended_Pictographic}|[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(char)) return 2;
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
  for (let i = 0; i < value.length; ) {
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
