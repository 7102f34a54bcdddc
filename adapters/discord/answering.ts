import {
  context,
  encodeActionValue,
  reply as makeReply,
  text,
  withPauseNote as corePauseNote,
  type Actor,
  type CoreInput,
  type FormField,
  type Reply,
} from '../../src/core/ports.js';
import type { DiscordContext } from './context.js';
import { initialValues, type FormValues } from './forms.js';
import type { OptionValues } from './parse.js';
import { DMS_CLOSED_REASON } from './sender.js';
import type { Who } from './who.js';

export type Answering = ReturnType<typeof createAnswering>;

/** What the person is told with every personal reply while their nudges are paused for a reason they can fix. */
const pauseNotes = {
  [DMS_CLOSED_REASON]:
    'Your nudges are paused: Discord would not let me send you a direct message. Open the server menu → *Privacy Settings* and allow direct messages from server members (or choose a team channel in settings), then run `/backcare settings mode:on`.',
};

/** Asking the core within Discord's three seconds, and the settings flow Discord needs (it has no user timezone). */
export function createAnswering(ctx: DiscordContext, who: Who) {
  const { core, deferAfterMs } = ctx;
  const { storedPreferences } = who;

  // ---- answering within three seconds ------------------------------------------------------------

  /**
   * Runs the work in a slot of the process's work queue; if it is not done in time (waiting for a slot counts),
   * acknowledges first (defer) so the token stays valid. So a burst of one kind fills the queue, never the acks.
   */
  async function within<T>(
    kind: string,
    run: () => Promise<T>,
    defer: () => Promise<unknown>,
  ): Promise<{ value: T; deferred: boolean }> {
    const work = ctx.work.run(`discord:${kind}`, run);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<'slow'>((resolve) => (timer = setTimeout(() => resolve('slow'), deferAfterMs)));
    const first = await Promise.race([work.then((value) => ({ value })), slow]);
    clearTimeout(timer);
    if (first !== 'slow') return { value: first.value, deferred: false };
    await defer();
    return { value: await work, deferred: true };
  }

  const ask = (actor: Actor, input: CoreInput) => core.handle({ actor, input });

  // ---- Discord has no user timezone ----------------------------------------------------------------

  function askTimezoneReply(): Reply {
    const message = 'Discord does not tell apps your timezone, and nudges follow your working hours.';
    return makeReply(
      message,
      [
        text(`*Which timezone are you in?* ${message}`),
        text(
          'Run `/backcare settings mode:on timezone:` and start typing your city (for example London or New York), then pick it from the list.',
        ),
        context('Or set everything at once with the button below.'),
      ],
      {
        actions: [
          {
            type: 'button',
            actionId: 'settings.edit',
            label: 'Edit all settings',
            value: encodeActionValue({}),
            style: 'primary',
          },
        ],
      },
    );
  }

  async function settingsFlow(actor: Actor, values: OptionValues): Promise<Reply> {
    const timezone = typeof values.timezone === 'string' ? values.timezone : undefined;
    const mode = typeof values.mode === 'string' ? values.mode : 'show';
    if (mode === 'on' && !timezone && !(await storedPreferences(actor))) return askTimezoneReply();
    if (!timezone || mode === 'off')
      return ask(actor, { kind: 'command', text: mode === 'show' ? 'settings' : `settings ${mode}` });
    // A timezone from autocomplete: fill it into the core's own settings form and submit that (validated there).
    const withZone = { ...actor, timezone };
    const opened = await ask(withZone, { kind: 'command', text: 'settings edit' });
    if (!opened.form) return opened;
    if (mode === 'edit') {
      return {
        ...opened,
        form: {
          ...opened.form,
          fields: opened.form.fields.map((f): FormField =>
            f.id === 'timezone' && f.kind === 'timezone' ? { ...f, initial: timezone } : f,
          ),
        },
      };
    }
    const submitted: FormValues = {
      ...initialValues(opened.form),
      timezone,
      ...(mode === 'on' ? { optedIn: 'yes' } : {}),
    };
    return ask(withZone, {
      kind: 'submit',
      formId: opened.form.formId,
      values: submitted,
      ...(opened.form.state ? { state: opened.form.state } : {}),
    });
  }

  /** Someone whose nudges were paused because their DMs are closed is told how to fix it with every personal reply until they do. */
  const withPauseNote = (actor: Actor, result: Reply): Promise<Reply> =>
    corePauseNote(core.deps, actor, result, pauseNotes);

  return { within, ask, askTimezoneReply, settingsFlow, withPauseNote };
}
