import { z } from 'zod';
import type { RoutineLibrary } from './content/library.js';

/**
 * What a command declares about its options: the one description that text parsing, typed option values
 * (Discord) and the Discord slash-command registration all read, so they cannot drift apart.
 * The words of the command text are the options in declaration order; the command's own parser reads them.
 */

/** Who may run a command, a button or a form: checked once, in the router. Admins count as leads. */
export type Precondition = 'everyone' | 'lead' | 'admin';

export interface OptionChoice {
  value: string;
  /** How a picker shows it (default: the value). */
  label?: string;
}

/** Fixed choices, or choices read from the routine library (areas that have routines, …). */
type ChoiceSource = readonly OptionChoice[] | ((library: RoutineLibrary | undefined) => readonly OptionChoice[]);

interface OptionBase {
  name: string;
  /** At most 100 characters (Discord's limit). */
  description: string;
  required?: boolean;
}

export type CommandOption =
  | (OptionBase & {
      type: 'string';
      choices?: ChoiceSource;
      /** Suggestions while typing, from the routine library. */
      suggest?: 'routine';
      maxLength?: number;
    })
  | (OptionBase & { type: 'integer'; min: number; max: number })
  /** A person, by platform user id; written into the command as a `<@id>` mention. */
  | (OptionBase & { type: 'person' })
  /** A team, as the platform's team resolver reads it (Discord `<@&role>`, Slack `<#channel>`). */
  | (OptionBase & { type: 'team' })
  /** The person's timezone, for platforms that do not share it: it fills the settings form, not a word of the text. */
  | (OptionBase & { type: 'timezone' })
  /** The rest of the command as typed, for commands that declare no options of their own. */
  | (OptionBase & { type: 'words'; maxLength: number });

/** An option with its choices read (from the library where they come from content). */
export type ResolvedOption =
  | (Extract<CommandOption, { type: 'string' }> & { choices?: readonly OptionChoice[] })
  | Exclude<CommandOption, { type: 'string' }>;

/** What a command without declared options takes: the words after its name, as typed. */
export const FREE_TEXT_OPTION: ResolvedOption = {
  type: 'words',
  name: 'args',
  description: 'anything after the command, as you would type it',
  maxLength: 200,
};

export const TIMEZONE_MAX_LENGTH = 100;

/** The declared options with their choices resolved; no declaration means one free-text option. */
export function resolveOptions(
  options: readonly CommandOption[] | undefined,
  library: RoutineLibrary | undefined,
): ResolvedOption[] {
  if (options === undefined) return [FREE_TEXT_OPTION];
  return options.map((option) =>
    option.type === 'string' && typeof option.choices === 'function'
      ? { ...option, choices: option.choices(library) }
      : (option as ResolvedOption),
  );
}

export type OptionValues = Record<string, string | number>;

const personId = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/);
const teamRef = z.string().regex(/^\S{1,200}$/);

/** The value, checked against its declaration (type, choices, range), or null when it cannot be used. */
export function checkOptionValue(option: ResolvedOption, value: unknown): string | number | null {
  switch (option.type) {
    case 'string':
    case 'words':
    case 'timezone': {
      const max = option.type === 'timezone' ? TIMEZONE_MAX_LENGTH : (option.maxLength ?? 200);
      const s = z.string().trim().max(max).safeParse(value);
      if (!s.success || s.data === '') return null;
      if (option.type === 'string' && option.choices && !option.choices.some((c) => c.value === s.data)) return null;
      return s.data;
    }
    case 'integer': {
      const n = z.number().int().min(option.min).max(option.max).safeParse(value);
      return n.success ? n.data : null;
    }
    case 'person': {
      const id = personId.safeParse(value);
      return id.success ? id.data : null;
    }
    case 'team': {
      const ref = teamRef.safeParse(value);
      return ref.success ? ref.data : null;
    }
  }
}

/** A token the router's tokenizer reads back as one word. */
const quote = (value: string) => (/\s/.test(value) ? `"${value.replace(/"/g, '')}"` : value);

/**
 * The command text for declared option values: the command name, then each given option in declaration order,
 * as a person would type it. The command's own parser then reads it, so typed values and typed text meet the
 * same rules.
 */
export function commandTextFrom(name: string, options: readonly ResolvedOption[], values: OptionValues): string {
  const parts = [name];
  for (const option of options) {
    const value = values[option.name];
    if (value === undefined) continue;
    switch (option.type) {
      case 'timezone':
        break;
      case 'words':
        parts.push(String(value));
        break;
      case 'person':
        parts.push(`<@${value}>`);
        break;
      default:
        parts.push(quote(String(value)));
    }
  }
  return parts.join(' ');
}
