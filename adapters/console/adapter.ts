import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../src/config/logger.js';
import type { Adapter } from '../../src/core/adapter.js';
import type { Form, Frame, Reply, Sequence } from '../../src/core/reply.js';
import type { Actor, CoreInput } from '../../src/core/request.js';
import type { Core } from '../../src/core/router.js';
import { stripControl } from '../../src/core/echo.js';
import { LiveSessions, type LiveSession } from '../../src/core/live-sessions.js';
import type { ConsoleSurface } from './sender.js';
import {
  fieldPrompt,
  fitToWidth,
  formIntro,
  parseFieldAnswer,
  renderBlocks,
  renderReply,
  submitNowAnswer,
  type Choice,
  type ConsoleStyle,
} from './render.js';

export interface ConsoleAdapterOptions {
  core: Core;
  log: Logger;
  input: Readable;
  output: Writable;
  /** Rewrite live frames in place and use ANSI emphasis (a real terminal). */
  interactive: boolean;
  timeScale: number;
  timezone?: string;
}

/** The console's one local person in one local workspace. */
function localActor(timezone?: string): Actor {
  return {
    platform: 'console',
    workspaceExternalId: 'local',
    workspaceName: 'Local',
    userExternalId: 'you',
    displayName: 'you',
    timezone: timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    isAdmin: true,
  };
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

/**
 * A chat surface in the terminal: lines in, rendered replies out. Buttons become numbered choices,
 * forms are asked field by field, sequences play live. At end of input it finishes what is pending, then resolves `finished`.
 */
export function createConsoleAdapter(options: ConsoleAdapterOptions): Adapter & ConsoleSurface {
  const { core, log, output } = options;
  const actor = localActor(options.timezone);
  const style: ConsoleStyle = { ansi: options.interactive };
  let choices: Choice[] = [];
  // Words that start a command inside a form even without `/backcare` (the console's own quit/exit included).
  const commandWords = new Set([
    'quit',
    'exit',
    ...core.commands.flatMap((c) => [c.name, ...c.aliases].map((n) => n.toLowerCase())),
  ]);
  let formState: FormState | null = null;
  // Sequences play through the same engine as on the chat platforms, with no budget and a per-second countdown.
  const live = new LiveSessions({ timeScale: options.timeScale, log, platform: 'console' });
  let playing: LiveSession | null = null;
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  const rl = createInterface({ input: options.input, terminal: false });

  // A reader that went away (EPIPE, closed pipe) must not leave us waiting for a 'drain' that never comes.
  let outputGone = false;
  output.on('error', () => (outputGone = true));
  const write = (value: string) =>
    new Promise<void>((resolve) => {
      if (outputGone || output.destroyed) return resolve();
      if (output.write(value)) return resolve();
      const done = () => {
        output.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      output.once('drain', done).once('close', done).once('error', done);
    });
  /** The terminal's width now; 80 when the output does not say (not a TTY). */
  const terminalColumns = () => {
    const columns = (output as { columns?: unknown }).columns;
    return typeof columns === 'number' && columns > 0 ? columns : 80;
  };
  const say = (value: string) => (value === '' ? Promise.resolve() : write(`${value}\n`));

  async function send(input: CoreInput): Promise<void> {
    const result = await core.handle({ actor, input });
    await show(result);
  }

  async function show(result: Reply): Promise<void> {
    const rendered = renderReply(result, style);
    if (result.sequence) {
      await startSequence(result.sequence, rendered.choices, renderBlocks(result.blocks, style));
      return;
    }
    choices = rendered.choices;
    await say(rendered.text);
    if (result.form) await beginForm(result.form, result.formErrors);
  }

  async function startSequence(sequence: Sequence, sequenceChoices: Choice[], intro: string): Promise<void> {
    stopPlaying();
    if (intro) await say(intro);
    choices = sequenceChoices;
    const hint = renderReply(
      { summary: '', blocks: [], actions: sequence.actions, visibility: 'ephemeral' },
      style,
    ).text;
    if (hint) await say(hint);
    const render = (frame: Frame, remainingMs?: number) => {
      const textValue = renderBlocks(frame.blocks, style);
      const countdown = remainingMs === undefined ? '' : `  (${Math.ceil(remainingMs / 1000)})`;
      if (!options.interactive) return say(textValue);
      // In a terminal the frame replaces the previous one on the same row, so it must never wrap: it is cut to the
      // width (read each time, the window may have been resized), keeping the countdown visible.
      const line = fitToWidth(textValue.replace(/\n/g, '  '), terminalColumns() - countdown.length);
      return write(`\r\x1b[2K${line}${countdown}`);
    };
    const session = live.play(sequence, {
      edit: (frame) => render(frame),
      ...(options.interactive
        ? { tick: (frame: Frame, _index: number, remainingMs: number) => render(frame, remainingMs) }
        : {}),
      complete: async (onComplete) => {
        if (!onComplete) return;
        const { actionId, value } = onComplete;
        if (options.interactive) await write('\n');
        queue = queue
          .then(() => send({ kind: 'action', actionId, value }))
          .catch((error: unknown) => log.error({ err: error }, 'console completion failed'));
        await queue;
      },
      onEnd: (outcome) => {
        if (playing === session) playing = null;
        // A completion's reply already started on a fresh line (see complete); anything else ends the live line here.
        if (options.interactive && !(outcome === 'completed' && sequence.onComplete)) return write('\n');
      },
    });
    playing = session;
  }

  function stopPlaying(): void {
    playing?.stop();
    playing = null;
  }

  async function beginForm(form: Form, errors?: Record<string, string>): Promise<void> {
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

  function currentFields(state: FormState) {
    return state.only ? state.form.fields.filter((f) => state.only!.includes(f.id)) : state.form.fields;
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
    await send({ kind: 'submit', formId: form.formId, values, ...(form.state ? { state: form.state } : {}) });
    // A clean submit ends the form; a rejected one has already replaced it to re-ask the fields in question.
    if (formState === submitted) formState = null;
  }

  async function answerField(line: string): Promise<void> {
    const state = formState!;
    const field = currentFields(state)[state.index]!;
    if (!options.interactive) await write('\n');
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
    if (!field || !commandWords.has(first)) return 'answer';
    if (
      (field.kind === 'select' || field.kind === 'multiselect') &&
      (!('error' in parseFieldAnswer(field, line)) || submitNowAnswer(field, line))
    )
      return 'answer';
    if (field.kind !== 'text') return 'command';
    if (state.confirmCommand === line) return 'command';
    state.confirmCommand = line;
    if (!options.interactive) await write('\n');
    await say(
      `  That looks like the command \`${stripControl(line)}\`: type it again to run it, or press Enter to use it as your answer.`,
    );
    await write(fieldPrompt({ ...field, initial: state.values[field.id] } as typeof field));
    return 'asked';
  }

  async function handleLine(raw: string): Promise<void> {
    const line = raw.trim();
    if (formState) {
      const pending = formState.confirmCommand;
      // Enter right after "that looks like a command" keeps the line as the answer.
      if (pending !== undefined && line === '') {
        formState.confirmCommand = undefined;
        return answerField(pending);
      }
      const kind = await commandInForm(formState, raw);
      if (kind === 'asked') return;
      if (formState) formState.confirmCommand = undefined;
      if (kind === 'answer') return answerField(raw);
      formState = null;
      if (!options.interactive) await write('\n');
      await say('(form cancelled)');
    }
    if (line === '') return;
    if (/^\d+$/.test(line) && choices.length > 0) {
      const choice = choices.find((c) => c.number === Number(line));
      if (!choice)
        return say(choices.length === 1 ? 'Type 1 to choose it.' : `Choose a number from 1 to ${choices.length}.`);
      // A pressed button during a live sequence (Stop) cancels the pending frames first.
      if (playing) stopPlaying();
      return send({ kind: 'action', actionId: choice.actionId, value: choice.value });
    }
    if (/^(quit|exit)$/i.test(line)) {
      rl.close();
      return;
    }
    return send({ kind: 'command', text: line });
  }

  rl.on('line', (line) => {
    queue = queue
      .then(() => handleLine(line))
      .catch((error: unknown) => log.error({ event: 'console.line_failed', err: error }, 'console line failed'));
  });

  rl.on('close', () => {
    closed = true;
    void (async () => {
      // Finish the queued lines first, then any live sequence (and the reply it triggers), then flush output.
      await queue;
      await live.idle();
      await queue;
      if (formState) await say('');
      await write('');
      resolveFinished();
    })();
  });

  return {
    name: 'console',
    finished,
    /** A scheduler-pushed message (a nudge): shown between lines the person types, never in the middle of one. */
    push(message) {
      const shown = queue.then(async () => {
        if (closed) throw new Error('the console has closed');
        if (options.interactive) await write('\n');
        await show(message);
      });
      queue = shown.catch((error: unknown) =>
        log.error({ event: 'console.push_failed', err: error }, 'console push failed'),
      );
      return shown;
    },
    async start() {
      if (options.interactive) {
        await say(
          renderBlocks(
            [
              {
                type: 'text',
                text: '*Backcare* in your terminal. Type `/backcare help` (or just `help`). Ctrl-D or `quit` to leave.',
              },
            ],
            style,
          ),
        );
      }
    },
    async stop() {
      stopPlaying();
      if (!closed) rl.close();
      await finished;
    },
  };
}
