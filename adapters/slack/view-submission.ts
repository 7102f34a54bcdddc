import type { Logger } from '../../src/config/logger.js';
import type { Actor, Core, Form, Reply } from '../../src/core/ports.js';
import type { SlackContext } from './context.js';
import {
  formValues,
  parseModalMetadata,
  viewSubmissionSchema,
  type ModalMetadata,
  type ViewSubmission,
} from './parse.js';
import { modalErrors, renderMessage, renderModal, resultModal } from './render.js';
import { inBurst, isFresh, othersArrived, othersUnanswered, sinceReceived } from './replay-guard.js';
import { classifySlackError } from './slack-api.js';

/** A submitted modal: field errors go back in the ack, so the core's answer must come within Slack's 3 s. */
export function registerViewSubmission(ctx: SlackContext): void {
  const { app, log, track, urgent, queued } = ctx;
  const { resolveActor } = ctx.people;
  const { handle, postToDm, publishHome } = ctx.replies;
  const options = { submitDeadlineMs: ctx.submitDeadlineMs };

  app.view(/.*/, async ({ ack, body, client, context }) => {
    const read = readSubmission(ctx.core, body);
    if (read.kind === 'invalid') {
      log.warn({ event: 'slack.view_invalid', issues: read.issues }, 'unexpected view_submission payload');
      await ack();
      return;
    }
    if (read.kind === 'no_team') {
      await ack();
      return;
    }
    const { submission, teamId, metadata, values, formId, early } = read;
    if (early) {
      await ack(early);
      return;
    }
    // A form everyone may submit needs no admin rights: users.info (rate-limited, slow under a burst) stays off
    // the path to the ack unless the profile is already cached.
    const profile = ctx.core.formPrecondition?.(formId) === 'everyone' ? 'cached' : 'fetch';
    const submitted = { kind: 'submit', formId, values, ...(metadata.state ? { state: metadata.state } : {}) } as const;
    // A form that stores nothing (triage) is answered in the ack, before the replay check, the database or any
    // queue: a red flag's emergency advice never waits on them. A replay gets the same answer again.
    if (ctx.core.instantSubmit) {
      const actor = await resolveActor(
        client,
        teamId,
        submission.user.id,
        submission.user.username ?? submission.user.name,
        submission.team?.domain,
        { profile: 'cached' },
      );
      const instant = await ctx.core.instantSubmit({ actor, input: submitted });
      if (instant) {
        await ack(ackFor({ actor, reply: instant }, formId, values, metadata));
        return;
      }
    }
    // Field errors can only go back in the ack, so the person's rows and the core's answer get most of Slack's 3 s.
    const answer = async (): Promise<Answer | null> => {
      const [fresh, actor] = await Promise.all([
        isFresh(context),
        resolveActor(
          client,
          teamId,
          submission.user.id,
          submission.user.username ?? submission.user.name,
          submission.team?.domain,
          { profile },
        ),
      ]);
      // Already processed (by another replica): an empty ack closes the modal, nothing is done twice.
      if (!fresh) return null;
      const reply = await handle(actor, submitted);
      return { actor, reply };
    };
    /** Too slow for the ack: the modal stays open saying so, and the answer replaces it when it comes. */
    const answerLater = async (handled: Promise<Answer | null>) => {
      await ack({ response_action: 'update', view: workingModal() });
      // Waiting for the answer and for Slack's rate limit holds no work slot; the DM fallback and Home do.
      urgent(async () => {
        const late = await handled;
        if (!late) return;
        const { actor, reply } = late;
        const view = answerView(late, metadata);
        if (!(await updateModal(log, () => client.views.update({ view_id: submission.view.id, view }))))
          track('form', () =>
            postToDm({ actor, client, channelId: metadata.channelId, source: 'modal' }, renderMessage(reply), reply),
          );
        if (!reply.form && metadata.from === 'home') track('home', () => publishHome(client, actor));
      });
    };
    // During a burst (others unanswered, or one came just before or after this) the others' acks come first: this
    // one says "working on it" at once, and its work waits for a slot after the acks instead of running beside them.
    if (othersUnanswered(context) > 0 || inBurst(context)) return answerLater(queued('form', answer));
    const handled = answer();
    // Requests arriving while this one waits (it came first, alone: the start of a burst) get their acks first:
    // this one says "working on it" as its followers do, and its answer replaces that in place.
    const outcome = await withinDeadline(
      handled,
      (options.submitDeadlineMs ?? DEFAULT_SUBMIT_DEADLINE_MS) - sinceReceived(context),
      () => othersArrived(context),
    );
    if (outcome === null) {
      await ack();
      return;
    }
    if (outcome === 'timeout') return answerLater(handled);
    const { actor, reply: result } = outcome;
    await ack(ackFor(outcome, formId, values, metadata));
    // Settings may have changed: redraw the Home tab the form was opened from. Not for a form opened elsewhere:
    // Slack sends app_home_opened at each visit and the tab is drawn then; a redraw nobody looks at costs a
    // views.publish (100 a minute per workspace) and the database reads behind it, 200 of them after 200 forms.
    if (!result.form && !hasErrors(result) && metadata.from === 'home') track('home', () => publishHome(client, actor));
  });
}

type Answer = { actor: Actor; reply: Reply };

type ReadSubmission =
  | { kind: 'invalid'; issues: string[] }
  | { kind: 'no_team' }
  | {
      kind: 'read';
      submission: ViewSubmission;
      teamId: string;
      metadata: ModalMetadata;
      values: Record<string, string | string[]>;
      formId: string;
      /** The ack that sends bad input back at once (found without I/O), or null. */
      early: { response_action: 'errors'; errors: Record<string, string> } | null;
    };

/**
 * A view_submission payload validated, and its fields checked by the core's pure check: everything the ack needs
 * before any I/O. Pure, so the start can warm it up (see warm-up.ts).
 */
export function readSubmission(core: Pick<Core, 'checkSubmit'>, body: unknown): ReadSubmission {
  const parsed = viewSubmissionSchema.safeParse(body);
  if (!parsed.success) return { kind: 'invalid', issues: parsed.error.issues.map((i) => i.path.join('.')) };
  const submission = parsed.data;
  const teamId = submission.team?.id ?? submission.user.team_id;
  if (!teamId) return { kind: 'no_team' };
  const metadata = parseModalMetadata(submission.view.private_metadata);
  const values = formValues(submission.view.state.values);
  const formId = submission.view.callback_id;
  // Bad input found without any I/O goes back at once (the core's pure check leaves red flags to the submit).
  const found = core.checkSubmit?.({ formId, values, ...(metadata.state ? { state: metadata.state } : {}) });
  const early =
    found && Object.keys(found).length > 0
      ? { response_action: 'errors' as const, errors: modalErrors(fallbackForm(formId, values), found) }
      : null;
  return { kind: 'read', submission, teamId, metadata, values, formId, early };
}

/** How often a submission waiting for its answer looks whether a burst has started behind it. */
const BURST_CHECK_MS = 10;

/** The answer if it comes within `ms` and before `giveUp()` says so, else 'timeout' (it still comes later). */
async function withinDeadline<T>(work: Promise<T>, ms: number, giveUp: () => boolean): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watch: ReturnType<typeof setInterval> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), ms);
        watch = setInterval(() => {
          if (giveUp()) resolve('timeout');
        }, BURST_CHECK_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(watch);
  }
}

/**
 * The longest Retry-After waited out with the modal open: Slack counts views.update per minute, so one window. A
 * DM sent instead would leave the modal saying "Working on it…" for good; past a minute it goes by DM all the same.
 */
const LATE_UPDATE_MAX_WAIT_MS = 60_000;

/**
 * Puts a late answer into the open modal: a burst of submissions meets views.update's rate limit (Slack's tier 4,
 * about 100 a minute), so a 429 is waited out and tried again (twice at most) rather than sent by DM at once.
 * False when the modal could not be updated (closed meanwhile, refused, or a long wait).
 */
async function updateModal(log: Logger, update: () => Promise<unknown>, attempts = 3): Promise<boolean> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await update();
      return true;
    } catch (error) {
      const failure = classifySlackError(error);
      const retry =
        failure.kind === 'rate_limited' && failure.retryAfterMs <= LATE_UPDATE_MAX_WAIT_MS && attempt < attempts;
      if (!retry) {
        log.warn({ event: 'slack.late_answer_dm', failure }, 'could not update the modal; answer sent by DM');
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, failure.retryAfterMs));
    }
  }
}

const hasErrors = (reply: Reply) => Boolean(reply.formErrors && Object.keys(reply.formErrors).length > 0);

/** The ack that answers a submission in time: field errors placed on their fields, or the answer's view. */
function ackFor(
  answer: { actor: Actor; reply: Reply },
  formId: string,
  values: Record<string, string | string[]>,
  metadata: ModalMetadata,
) {
  const { reply } = answer;
  if (hasErrors(reply))
    return {
      response_action: 'errors' as const,
      errors: modalErrors(reply.form ?? fallbackForm(formId, values), reply.formErrors!),
    };
  return { response_action: 'update' as const, view: answerView(answer, metadata) };
}

/**
 * How long after the request arrived the ack may wait for the core's answer before it says "working on it" (the
 * answer then replaces that view in place, so it is not lost). A quiet bot answers a settings form in tens of ms;
 * under a burst of 200 submissions, or with a database 250 ms away, waiting longer only made the acks slow (1 s
 * gave p99s five times a bare Bolt app's in the acks bench). Counted from the arrival, not the listener's start,
 * which under a burst is already hundreds of ms later.
 */
const DEFAULT_SUBMIT_DEADLINE_MS = 250;

/** The modal while a slow answer is on its way (it replaces this view in place). */
export function workingModal(): ReturnType<typeof resultModal> {
  return resultModal('Backcare', {
    blocks: [{ type: 'text', text: 'Working on it… the answer will appear here in a moment.' }],
    actions: [],
  });
}

/**
 * The view that answers a submission: the next form (e.g. triage step 2, carrying its own state), or the result.
 * Field errors found after the ack cannot be attached to fields any more: the form comes back with them on top.
 */
function answerView(answer: { actor: Actor; reply: Reply }, metadata: ModalMetadata): ReturnType<typeof resultModal> {
  const { actor, reply } = answer;
  const errors = reply.formErrors && Object.keys(reply.formErrors).length > 0 ? reply.formErrors : null;
  // Late errors list every problem by field label (the summary), above the form to correct.
  const problems = resultModal('Backcare', { blocks: [{ type: 'text', text: reply.summary }], actions: [] });
  if (!reply.form) return errors ? problems : resultModal('Backcare', reply);
  const form = reply.form;
  // The next form carries its own state, not the submitted one's; a form sent back with errors keeps the submitted.
  const state = errors ? (reply.form?.state ?? metadata.state) : reply.form?.state;
  const next = JSON.stringify({
    ...(state ? { state } : {}),
    ...(metadata.channelId ? { channelId: metadata.channelId } : {}),
    ...(metadata.from ? { from: metadata.from } : {}),
  });
  const view = renderModal(form, { profileTimezone: actor.timezone, privateMetadata: next });
  if (errors) view.blocks = [...problems.blocks, ...view.blocks].slice(0, 100);
  return view;
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
