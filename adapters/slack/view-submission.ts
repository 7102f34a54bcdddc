import type { Form } from '../../src/core/ports.js';
import type { SlackContext } from './context.js';
import { formValues, parseModalMetadata, viewSubmissionSchema } from './parse.js';
import { modalErrors, renderMessage, renderModal, resultModal } from './render.js';
import { isFresh } from './replay-guard.js';

/** A submitted modal: field errors go back in the ack, so the core's answer must come within Slack's 3 s. */
export function registerViewSubmission(ctx: SlackContext): void {
  const { app, log, track } = ctx;
  const { resolveActor } = ctx.people;
  const { handle, postToDm, publishHome } = ctx.replies;
  const options = { submitDeadlineMs: ctx.submitDeadlineMs };

  app.view(/.*/, async ({ ack, body, client, context }) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      log.warn(
        { event: 'slack.view_invalid', issues: parsed.error.issues.map((i) => i.path.join('.')) },
        'unexpected view_submission payload',
      );
      await ack();
      return;
    }
    const submission = parsed.data;
    const teamId = submission.team?.id ?? submission.user.team_id;
    if (!teamId) {
      await ack();
      return;
    }
    const metadata = parseModalMetadata(submission.view.private_metadata);
    const values = formValues(submission.view.state.values);
    const formId = submission.view.callback_id;
    // Bad input found without any I/O goes back at once (the core's pure check leaves red flags to the submit).
    const early = ctx.core.checkSubmit?.({ formId, values, ...(metadata.state ? { state: metadata.state } : {}) });
    if (early && Object.keys(early).length > 0) {
      await ack({ response_action: 'errors', errors: modalErrors(fallbackForm(formId, values), early) });
      return;
    }
    // Field errors can only go back in the ack, so looking up the person and the core's answer get most of
    // Slack's 3 s; a slower answer closes the modal and goes to the DM instead.
    const handled = (async () => {
      const [fresh, actor] = await Promise.all([
        isFresh(context),
        resolveActor(
          client,
          teamId,
          submission.user.id,
          submission.user.username ?? submission.user.name,
          submission.team?.domain,
        ),
      ]);
      // Already processed (by another replica): an empty ack closes the modal, nothing is done twice.
      if (!fresh) return null;
      const reply = await handle(actor, {
        kind: 'submit',
        formId: submission.view.callback_id,
        values,
        ...(metadata.state ? { state: metadata.state } : {}),
      });
      return { actor, reply };
    })();
    const timeout = Symbol('timeout');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      handled,
      new Promise<typeof timeout>((resolve) => {
        timer = setTimeout(() => resolve(timeout), options.submitDeadlineMs ?? 2000);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === null) {
      await ack();
      return;
    }
    if (outcome === timeout) {
      await ack();
      track('form', async () => {
        const late = await handled;
        if (!late) return;
        await postToDm(
          { actor: late.actor, client, channelId: metadata.channelId, source: 'modal' },
          renderMessage(late.reply),
          late.reply,
        );
      });
      return;
    }
    const { actor, reply: result } = outcome;
    if (result.formErrors && Object.keys(result.formErrors).length > 0) {
      const form = result.form ?? fallbackForm(formId, values);
      await ack({ response_action: 'errors', errors: modalErrors(form, result.formErrors) });
      return;
    }
    if (result.form) {
      // The next form carries its own state (e.g. triage step 2 carries the screen answers), not the submitted one's.
      const next = JSON.stringify({
        ...(result.form.state ? { state: result.form.state } : {}),
        ...(metadata.channelId ? { channelId: metadata.channelId } : {}),
      });
      await ack({
        response_action: 'update',
        view: renderModal(result.form, { profileTimezone: actor.timezone, privateMetadata: next }),
      });
      return;
    }
    await ack({ response_action: 'update', view: resultModal('Backcare', result) });
    // Settings may have changed: keep the Home tab in step.
    track('home', () => publishHome(client, actor));
  });
}

/** The submitted modal's fields as a form (its block ids are the field ids): enough to place field errors. */
function fallbackForm(formId: string, values: Record<string, string | string[]>): Form {
  return {
    formId,
    title: '',
    submitLabel: '',
    fields: Object.keys(values).map((id) => ({ id, label: id, kind: 'text' as const })),
  };
}
