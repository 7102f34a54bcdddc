import { closest, distance } from 'fastest-levenshtein';
import type {
  CommandContext,
  CoreDeps,
  Feature,
  HandledEvent,
  RegisteredAction,
  RegisteredCommand,
  RegisteredForm,
  Runnable,
} from './command.js';
import { DISCLAIMER } from './disclaimer.js';
import { echo } from './echo.js';
import { bullets, context, reply, text, type Reply } from './reply.js';
import type { Precondition } from './command-options.js';
import { allows, refusalReply } from './preconditions.js';
import { coreRequestSchema, type Actor, type CoreRequest } from './request.js';
import type { Db } from '../db/client.js';
import { findUser, findWorkspace, identityOf } from '../db/users.js';

export interface Core {
  /** Validates the request, routes it, and always answers: never throws. */
  handle(request: CoreRequest): Promise<Reply>;
  /**
   * The reply to a command that needs no I/O (see CommandDefinition.instant), or null: then `handle` it. Pure and
   * synchronous, so an adapter can open a modal before any database work. Never throws. Optional (as is
   * `checkSubmit`): a stand-in core that leaves them out has every request go through `handle`. A `rehearsal` (an
   * adapter warming up its code at start) is neither logged nor counted in the metrics.
   */
  instantReply?(request: CoreRequest, options?: { rehearsal?: boolean }): Reply | null;
  /** A form submission's field errors found without I/O (see RegisteredForm.check); empty when none. Never throws. */
  checkSubmit?(submission: {
    formId: string;
    values: Record<string, string | string[]>;
    state?: string;
  }): Record<string, string>;
  /**
   * The answer to a submission of a pure form open to everyone (see RegisteredForm.pure), computed without any
   * I/O, or null: then `handle` it. The triage forms are pure, so a red flag's emergency advice goes back in the
   * ack whatever the database or the queue are doing. Never rejects.
   */
  instantSubmit?(request: CoreRequest): Promise<Reply | null>;
  /**
   * Who may submit a form (its declared precondition; undefined for an unknown form). Pure: an adapter that
   * knows a form is open to everyone need not look up admin rights before answering it.
   */
  formPrecondition?(formId: string): Precondition | undefined;
  readonly commands: readonly RegisteredCommand[];
  readonly deps: CoreDeps;
}

/** Splits `/backcare breathe box 2` into tokens; the `/backcare` prefix is optional and quotes group words. */
export function tokenize(input: string): string[] {
  const tokens: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of input.trim().matchAll(pattern)) tokens.push(match[1] ?? match[2] ?? match[3] ?? '');
  if (tokens[0]?.toLowerCase() === '/backcare' || tokens[0]?.toLowerCase() === 'backcare') tokens.shift();
  return tokens;
}

/** The closest known command name, if it is close enough to be what the person meant. */
export function suggestCommand(typed: string, names: readonly string[]): string | null {
  if (names.length === 0 || typed === '') return null;
  const lower = typed.toLowerCase();
  const prefixed = names.filter((n) => n.startsWith(lower));
  if (prefixed.length === 1) return prefixed[0]!;
  const best = closest(lower, [...names]);
  const apart = distance(lower, best);
  // Close means one slip (a letter wrong, missing, extra or two swapped); two only in longer words. A looser rule
  // offered `lead` for `clear`, which helps nobody.
  if (apart <= 1 || isSwap(lower, best)) return best;
  return apart === 2 && lower.length >= 6 ? best : null;
}

/** Two neighbouring letters swapped (`hlep` for `help`): one slip, though Levenshtein counts two. */
function isSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const diff = [...a].flatMap((c, i) => (c === b[i] ? [] : [i]));
  return diff.length === 2 && diff[1] === diff[0]! + 1 && a[diff[0]!] === b[diff[1]!] && a[diff[1]!] === b[diff[0]!];
}

export function helpReply(commands: readonly RegisteredCommand[]): Reply {
  const listed = commands.filter((c) => c.listed);
  return reply(
    'Backcare commands',
    [
      { type: 'header', text: 'Backcare: look after your upper back at the desk' },
      bullets(listed.map((c) => `*${c.usage}*: ${c.summary}`)),
      context(DISCLAIMER),
    ],
    { visibility: 'ephemeral' },
  );
}

function errorReply(message: string, extra: Reply['blocks'] = []): Reply {
  return reply(message, [text(message), ...extra], { visibility: 'ephemeral' });
}

export const expiredButtonReply = (): Reply =>
  errorReply('This button has expired or is no longer valid. Run `/backcare help` to start again.');

/** What a person is told while the database is unreachable (adapters that store drafts say it too). */
export const TROUBLE_TEXT = 'Backcare is having trouble, try again in a minute.';
const troubleReply = (): Reply => errorReply(TROUBLE_TEXT);

/** Errors that mean "the database is unreachable", as opposed to a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  // 57014 statement timeout and 55P03 lock timeout: a locked table or an overloaded server, not a bug.
  if (
    typeof code === 'string' &&
    (/^08/.test(code) ||
      ['57P01', '57P02', '57P03', '53300', '57014', '55P03', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(code))
  ) {
    return true;
  }
  // 55000 is a broad class; only "database … is not currently accepting connections" (ALLOW_CONNECTIONS false) means away.
  if (code === '55000' && /not currently accepting connections/i.test(error.message)) return true;
  const cause = (error as { cause?: unknown }).cause;
  if (cause && cause !== error && isDatabaseUnavailable(cause)) return true;
  return /connection terminated|Connection terminated|ECONNREFUSED|PGlite is closed|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    error.message,
  );
}

/** Every command (by name and alias), button and form the features contribute; a name used twice is a bug. */
function registry(features: readonly Feature[]) {
  const commands: RegisteredCommand[] = [];
  const byName = new Map<string, RegisteredCommand>();
  const actions = new Map<string, RegisteredAction>();
  const forms = new Map<string, RegisteredForm>();
  for (const feature of features) {
    for (const command of feature.commands ?? []) {
      for (const name of [command.name, ...command.aliases]) {
        if (byName.has(name)) throw new Error(`command "${name}" is registered twice`);
        byName.set(name, command);
      }
      commands.push(command);
    }
    for (const action of feature.actions ?? []) {
      if (actions.has(action.actionId)) throw new Error(`action "${action.actionId}" is registered twice`);
      actions.set(action.actionId, action);
    }
    for (const form of feature.forms ?? []) {
      if (forms.has(form.formId)) throw new Error(`form "${form.formId}" is registered twice`);
      forms.set(form.formId, form);
    }
  }
  return { commands, byName, actions, forms };
}

const anyone = (run: Runnable['run']): Runnable => ({ precondition: 'everyone', run });

/** Runs a routed request if its precondition holds, otherwise answers with the one refusal. */
async function runChecked(routed: Runnable & { label: string }, ctx: CommandContext): Promise<Reply> {
  const { precondition, run, label } = routed;
  // The one permission check: every command, button and form declares who may use it.
  if (precondition === 'everyone' || (await allows(precondition, ctx))) return run(ctx);
  ctx.log.info({ event: 'request.refused', route: label, precondition }, 'refused: precondition not met');
  return refusalReply(precondition);
}

/** What a handler gets for one request: the actor, lazy access to their rows, and the core's services. */
function contextFor(deps: CoreDeps, commands: readonly RegisteredCommand[], actor: Actor): CommandContext {
  const workspaceKey = { platform: actor.platform, externalId: actor.workspaceExternalId, name: actor.workspaceName };
  return {
    actor,
    db: deps.db,
    log: deps.log,
    now: deps.now,
    deps,
    commands,
    // One round trip for both rows, shared with the other requests of the moment (a burst is a few statements).
    ensureUser: () =>
      identityOf(deps.db)({ ...workspaceKey, platformUserId: actor.userExternalId, displayName: actor.displayName }),
    async findUser() {
      const workspace = await findWorkspace(deps.db, workspaceKey);
      if (!workspace) return null;
      const user = await findUser(deps.db, workspace.id, actor.userExternalId);
      return user ? { workspace, user } : null;
    },
  };
}

/** See Core.instantReply. */
function instantReply(
  deps: CoreDeps,
  byName: ReadonlyMap<string, RegisteredCommand>,
  raw: CoreRequest,
  rehearsal = false,
): Reply | null {
  try {
    const request = coreRequestSchema.safeParse(raw);
    if (!request.success || request.data.input.kind !== 'command') return null;
    const [name = 'help', ...rest] = tokenize(request.data.input.text);
    const command = byName.get(name.toLowerCase());
    const parsed = command?.parse(rest);
    if (!command || !parsed?.ok || !parsed.instant || parsed.precondition !== 'everyone') return null;
    const started = performance.now();
    const answer = parsed.instant();
    if (rehearsal) return answer;
    deps.log.info(
      { event: 'request.handled', route: command.name, platform: request.data.actor.platform, instant: true },
      'handled',
    );
    deps.onHandled?.({
      route: command.name,
      platform: request.data.actor.platform,
      result: 'ok',
      seconds: (performance.now() - started) / 1000,
    });
    return answer;
  } catch (error) {
    // Not fatal: the request then goes through `handle`, which answers whatever happens.
    deps.log.warn({ event: 'request.instant_failed', err: error }, 'instant reply failed');
    return null;
  }
}

/** See Core.checkSubmit. */
function checkSubmit(
  deps: CoreDeps,
  forms: ReadonlyMap<string, RegisteredForm>,
  submission: { formId: string; values: Record<string, string | string[]>; state?: string },
): Record<string, string> {
  try {
    return forms.get(submission.formId)?.check?.(submission.values, submission.state) ?? {};
  } catch (error) {
    deps.log.warn({ event: 'request.check_failed', err: error }, 'form check failed; submit decides');
    return {};
  }
}

/** Stands in for storage where a handler promised to need none: any use throws, so the promise is checked. */
const noStorage = new Proxy({} as Db, {
  get() {
    throw new Error('a pure form touched storage');
  },
});

/** See Core.instantSubmit. */
async function instantSubmit(
  deps: CoreDeps,
  commands: readonly RegisteredCommand[],
  forms: ReadonlyMap<string, RegisteredForm>,
  raw: CoreRequest,
): Promise<Reply | null> {
  // Most submissions are of forms that store something: those are turned away before the (costly) validation.
  const asked = (raw as Partial<CoreRequest> | undefined)?.input;
  const named = asked?.kind === 'submit' ? forms.get(asked.formId) : undefined;
  if (!named?.pure) return null;
  const request = coreRequestSchema.safeParse(raw);
  if (!request.success || request.data.input.kind !== 'submit') return null;
  const { actor, input } = request.data;
  const form = forms.get(input.formId);
  if (!form?.pure || (form.precondition ?? 'everyone') !== 'everyone') return null;
  const pureDeps: CoreDeps = { ...deps, db: noStorage };
  const ctx: CommandContext = {
    ...contextFor(pureDeps, commands, actor),
    ensureUser: () => Promise.reject(new Error('a pure form touched storage')),
    findUser: () => Promise.reject(new Error('a pure form touched storage')),
  };
  const started = performance.now();
  try {
    const answer = await form.submit(ctx, input.values, input.state);
    deps.log.info(
      { event: 'request.handled', route: `form:${form.formId}`, platform: actor.platform, instant: true },
      'handled',
    );
    deps.onHandled?.({
      route: `form:${form.formId}`,
      platform: actor.platform,
      result: 'ok',
      seconds: (performance.now() - started) / 1000,
    });
    return answer;
  } catch (error) {
    // Not fatal: the submission then goes through `handle`, which answers whatever happens.
    deps.log.warn(
      { event: 'request.instant_failed', route: `form:${form.formId}`, err: error },
      'instant submit failed',
    );
    return null;
  }
}

export function createCore(deps: CoreDeps, features: readonly Feature[]): Core {
  const { commands, byName, actions, forms } = registry(features);

  function route(request: CoreRequest): Runnable & { label: string } {
    const { input } = request;
    switch (input.kind) {
      case 'command': {
        const tokens = tokenize(input.text);
        const [name = 'help', ...rest] = tokens;
        const command = byName.get(name.toLowerCase());
        if (!command) {
          // One line, not the whole help: a suggestion only when it is close, and where to find the rest.
          const suggestion = suggestCommand(name, [...byName.keys()]);
          const message = suggestion
            ? `I don't know ${echo(name)}. Did you mean \`/backcare ${suggestion}\`? \`/backcare help\` lists every command.`
            : `I don't know ${echo(name)}. \`/backcare help\` lists every command.`;
          return { label: 'unknown', ...anyone(async () => errorReply(message)) };
        }
        const parsed = command.parse(rest);
        if (!parsed.ok) {
          const message = `${parsed.error}. Usage: \`${command.usage}\``;
          return { label: `${command.name}:invalid`, ...anyone(async () => errorReply(message)) };
        }
        return { label: command.name, precondition: parsed.precondition, run: parsed.run };
      }
      case 'action': {
        const action = actions.get(input.actionId);
        const parsed = action?.parse(input.value, deps.now());
        if (!parsed) return { label: 'action:invalid', ...anyone(async () => expiredButtonReply()) };
        return { label: `action:${input.actionId}`, ...parsed };
      }
      case 'submit': {
        const form = forms.get(input.formId);
        if (!form) return { label: 'form:unknown', ...anyone(async () => expiredButtonReply()) };
        return {
          label: `form:${input.formId}`,
          precondition: form.precondition ?? 'everyone',
          run: (ctx) => form.submit(ctx, input.values, input.state),
        };
      }
    }
  }

  return {
    commands,
    deps,
    instantReply: (request, options) => instantReply(deps, byName, request, options?.rehearsal),
    checkSubmit: (submission) => checkSubmit(deps, forms, submission),
    instantSubmit: (request) => instantSubmit(deps, commands, forms, request),
    formPrecondition: (formId) => {
      const form = forms.get(formId);
      return form ? (form.precondition ?? 'everyone') : undefined;
    },
    async handle(raw) {
      const request = coreRequestSchema.safeParse(raw);
      if (!request.success) {
        deps.log.warn(
          { event: 'request.invalid', issues: request.error.issues.map((i) => i.path.join('.')) },
          'invalid core request',
        );
        return errorReply("Sorry, I couldn't understand that request.");
      }
      let routed: ReturnType<typeof route>;
      try {
        routed = route(request.data);
      } catch (error) {
        // An argument parser that throws is a bug in that command, not the person's fault: answer anyway.
        deps.log.error({ event: 'request.parse_failed', err: error }, 'routing failed');
        return errorReply('Sorry, something went wrong on my side. It has been logged; please try again.');
      }
      const { label } = routed;
      const started = performance.now();
      const observe = (result: HandledEvent['result']) => {
        try {
          deps.onHandled?.({
            route: label,
            platform: request.data.actor.platform,
            result,
            seconds: (performance.now() - started) / 1000,
          });
        } catch (error) {
          deps.log.warn({ event: 'request.observer_failed', err: error }, 'onHandled hook failed');
        }
      };
      try {
        const result = await runChecked(routed, contextFor(deps, commands, request.data.actor));
        deps.log.info(
          {
            event: 'request.handled',
            route: label,
            platform: request.data.actor.platform,
            ms: Math.round(performance.now() - started),
          },
          'handled',
        );
        observe('ok');
        return result;
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          deps.log.error({ event: 'request.db_unavailable', route: label, err: error }, 'database unavailable');
          observe('db_unavailable');
          return troubleReply();
        }
        deps.log.error({ event: 'request.failed', route: label, err: error }, 'handler failed');
        observe('error');
        return errorReply('Sorry, something went wrong on my side. It has been logged; please try again.');
      }
    },
  };
}
