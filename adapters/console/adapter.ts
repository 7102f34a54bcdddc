import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../src/config/logger.js';
import type { Adapter } from '../../src/core/ports.js';
import type { Reply } from '../../src/core/ports.js';
import type { Actor, CoreInput } from '../../src/core/ports.js';
import type { Core } from '../../src/core/ports.js';
import { createConsoleForms } from './forms.js';
import { createConsoleLive } from './live.js';
import { renderBlocks, renderReply, type Choice, type ConsoleStyle } from './render.js';
import type { ConsoleSurface } from './sender.js';
import { SerialQueue } from './serial-queue.js';
import { createTerminal } from './terminal.js';

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

/**
 * A chat surface in the terminal: lines in, rendered replies out. Buttons become numbered choices,
 * forms are asked field by field (forms.ts), sequences play live (live.ts). At end of input it finishes what is
 * pending, then resolves `finished`.
 */
export function createConsoleAdapter(options: ConsoleAdapterOptions): Adapter & ConsoleSurface {
  const { core, log, interactive } = options;
  const actor = localActor(options.timezone);
  const style: ConsoleStyle = { ansi: interactive };
  const terminal = createTerminal(options.output);
  const { write, say } = terminal;
  // Typed lines, pushed nudges and live completions run one at a time, in order.
  const queue = new SerialQueue();
  const forms = createConsoleForms({
    terminal,
    submit: send,
    // Words that start a command inside a form even without `/backcare` (the console's own quit/exit included).
    commandWords: new Set([
      'quit',
      'exit',
      ...core.commands.flatMap((c) => [c.name, ...c.aliases].map((n) => n.toLowerCase())),
    ]),
    interactive,
    style,
  });
  const live = createConsoleLive({ log, terminal, queue, send, interactive, style, timeScale: options.timeScale });
  let choices: Choice[] = [];
  let closed = false;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  const rl = createInterface({ input: options.input, terminal: false });

  async function send(input: CoreInput): Promise<void> {
    const result = await core.handle({ actor, input });
    await show(result);
  }

  async function show(result: Reply): Promise<void> {
    const rendered = renderReply(result, style);
    // Everything that reads or sets the choices runs in the queue, so a sequence's buttons can be set before it plays.
    choices = rendered.choices;
    if (result.sequence) return live.play(result.sequence, renderBlocks(result.blocks, style));
    await say(rendered.text);
    if (result.form) await forms.begin(result.form, result.formErrors);
  }

  async function handleLine(raw: string): Promise<void> {
    if (await forms.takeLine(raw)) return;
    const line = raw.trim();
    if (line === '') return;
    if (/^\d+$/.test(line) && choices.length > 0) {
      const choice = choices.find((c) => c.number === Number(line));
      if (!choice)
        return say(choices.length === 1 ? 'Type 1 to choose it.' : `Choose a number from 1 to ${choices.length}.`);
      // A pressed button during a live sequence (Stop) cancels the pending frames first.
      if (live.playing) live.stop();
      return send({ kind: 'action', actionId: choice.actionId, value: choice.value });
    }
    if (/^(quit|exit)$/i.test(line)) {
      rl.close();
      return;
    }
    return send({ kind: 'command', text: line });
  }

  rl.on('line', (line) => {
    void queue.enqueue(
      () => handleLine(line),
      (error: unknown) => log.error({ event: 'console.line_failed', err: error }, 'console line failed'),
    );
  });

  rl.on('close', () => {
    closed = true;
    void (async () => {
      // Finish the queued lines first, then any live sequence (and the reply it triggers), then flush output.
      await queue.idle();
      await live.idle();
      await queue.idle();
      if (forms.isOpen()) await say('');
      await write('');
      resolveFinished();
    })();
  });

  return {
    name: 'console',
    finished,
    /** A scheduler-pushed message (a nudge): shown between lines the person types, never in the middle of one. */
    push(message) {
      return queue.enqueue(
        async () => {
          if (closed) throw new Error('the console has closed');
          if (interactive) await write('\n');
          await show(message);
        },
        (error: unknown) => log.error({ event: 'console.push_failed', err: error }, 'console push failed'),
      );
    },
    async start() {
      if (interactive) {
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
      live.stop();
      if (!closed) rl.close();
      await finished;
    },
  };
}
