import type { Form } from '../../src/core/ports.js';
import type { CoreInput } from '../../src/core/ports.js';
import { stripControl } from '../../src/core/ports.js';
import { fieldPrompt, formIntro, parseFieldAnswer, submitNowAnswer, type ConsoleStyle } from './render.js';
import type { Terminal } from './terminal.js';

export interface ConsoleFormsOptions {
  terminal: Terminal;
  /** Sends the filled form to the core; a rejected submit comes back as a form to `begin` again. */
  submit(input: CoreInput): Promise<void>;
  /** Words that start a command inside a form even without `/backcare`. */
  commandWords: ReadonlySet<string>;
  /** A real terminal: the typed line already ended the row, so no extra newline is needed. */
  interactive: boolean;
  style: ConsoleStyle;
}

/** A form asked field by field in the terminal, one line per answer. */
export interface ConsoleForms {
  /** Starts asking a form; with errors (a rejected submit) only the fields in question are asked again. */
  begin(form: Form, errors?: Record<string, string>): Promise<void>;
  /** Offers a typed line to the open form: true when it was the form's (an answer); false when it is a command. */
  takeLine(raw: string): Promise<boolean>;
  isOpen(): boolean;
}

interface FormState {
  form: Form;
  index: number;
  values: Record<string, string | string[]>;
  /** After a rejected submit: only these fields are asked again. */
  only?: string[];
  /** A free-text answer that looked like a command: typed again it runs, Enter keeps it as the answer. */
  confirmCommand?: string;
}

function currentFields(state: FormState) {
  return state.only ? state.form.fields.filter((f) => state.only!.includes(f.id)) : state.form.fields;
}

export function createConsoleForms(options: ConsoleFormsOptions): ConsoleForms {
  const { terminal, interactive, style } = options;
  const { write, say } = terminal;
  let formState: FormState | null = null;

  async function begin(form: Form, errors?: Record<string, string>): Promise<void> {
    const initial: Record<string, string | string[]> = {};
    for (const field of form.fields) initial[field.id] = field.initial ?? (field.kind === 'multiselect' ? [] : '');
    const keep = formState?.form.formId === form.formId ? formState.values : initial;
    formState = { form, index: 0, values: { ...initial, ...keep } };
    if (errors && Object.keys(errors).length > 0) {
      formState.only = Object.keys(errors).filter((id) => form.fields.some((f) => f.id === id));
      if (formState.only.length === 0) formState.only = undefined;
    } else {
      await say(formIntro(form, style));
    }
    await askNextField();
  }

  async function askNextField(): Promise<void> {
    const state = formState;
    if (!state) return;
    const fields = currentFields(state);
    const field = fields[state.index];
    if (!field) return submitForm(state);
    const withCurrent = { ...field, initial: state.values[field.id] } as typeof field;
    await write(fieldPrompt(withCurrent));
  }

  async function submitForm(state: FormState): Promise<void> {
    const submitted: FormState = { ...state, index: 0 };
    formState = submitted;
    const { form, values } = state;
    await options.submit({ kind: 'submit', formId: form.formId, values, ...(form.state ? { state: form.state } : {}) });
    // A clean submit ends the form; a rejected one has already replaced it to re-ask the fields in question.
    if (formState === submitted) formState = null;
  }

  async function answerField(line: string): Promise<void> {
    const state = formState!;
    const field = currentFields(state)[state.index]!;
    if (!interactive) await write('\n');
    const withCurrent = { ...field, initial: state.values[field.id] } as typeof field;
    // A choice the core marked as deciding (a red flag) goes to the core at once: the remaining fields, and any
    // mistake beside it in the same answer, must not delay it.
    const decisive = submitNowAnswer(withCurrent, line);
    if (decisive) {
      state.values[field.id] = decisive;
      return submitForm(state);
    }
    const parsed = parseFieldAnswer(withCurrent, line);
    if ('error' in parsed) {
      await say(`  ✗ ${parsed.error}`);
      await write(fieldPrompt(withCurrent));
      return;
    }
    state.values[field.id] = parsed.value;
    state.index += 1;
    await askNextField();
  }

  /**
   * Inside a form, is this line a command rather than an answer? `/backcare` makes it one; without the prefix a line
   * whose first word names a command is one too, unless it is a valid answer to a choice field. A free-text field
   * could legitimately start with a command word (a step "stretch your arms"), so there the person confirms first.
   */
  async function commandInForm(state: FormState, raw: string): Promise<'command' | 'answer' | 'asked'> {
    const line = raw.trim();
    if (/^\/?backcare\b/i.test(line)) return 'command';
    const field = currentFields(state)[state.index];
    const first = line.split(/\s+/)[0]!.toLowerCase();
    if (!field || !options.commandWords.has(first)) return 'answer';
    if (
      (field.kind === 'select' || field.kind === 'multiselect') &&
      (!('error' in parseFieldAnswer(field, line)) || submitNowAnswer(field, line))
    )
      return 'answer';
    if (field.kind !== 'text') return 'command';
    if (state.confirmCommand === line) return 'command';
    state.confirmCommand = line;
    if (!interactive) await write('\n');
    await say(
      `  That looks like the command \`${stripControl(line)}\`: type it again to run it, or press Enter to use it as your answer.`,
    );
    await write(fieldPrompt({ ...field, initial: state.values[field.id] } as typeof field));
    return 'asked';
  }

  async function takeLine(raw: string): Promise<boolean> {
    if (!formState) return false;
    const pending = formState.confirmCommand;
    // Enter right after "that looks like a command" keeps the line as the answer.
    if (pending !== undefined && raw.trim() === '') {
      formState.confirmCommand = undefined;
      await answerField(pending);
      return true;
    }
    const kind = await commandInForm(formState, raw);
    if (kind === 'asked') return true;
    if (formState) formState.confirmCommand = undefined;
    if (kind === 'answer') {
      await answerField(raw);
      return true;
    }
    formState = null;
    if (!interactive) await write('\n');
    await say('(form cancelled)');
    return false;
  }

  return { begin, takeLine, isOpen: () => formState !== null };
}
