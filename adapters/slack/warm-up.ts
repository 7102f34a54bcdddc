import { createHmac } from 'node:crypto';
import type { Core } from '../../src/core/ports.js';
import { commandInput, parseRequestBody, slashCommandSchema } from './parse.js';
import { renderModal } from './render.js';
import { verifySlackSignature } from './verify.js';
import { readSubmission, workingModal } from './view-submission.js';

/**
 * At most this many rounds, and this long, at start (measured: 50 rounds, about 30 ms, halve the pure work of a
 * first burst; start to ready is held to 3x a bare Bolt app's, so the bound is kept short).
 */
const WARM_UP_ROUNDS = 300;
const WARM_UP_MAX_MS = 40;

/** A secret of our own: warming up signs and verifies like Slack does, never with the real one. */
const WARM_UP_SECRET = 'backcare-warm-up';

/**
 * Runs the pure code on the path to an ack (verifying and parsing a request, validating a slash command and a
 * settings submission, the core's field check, the modal a command opens, the "working on it" view) on payloads
 * shaped like Slack's, before the app listens. Measured on the acks bench: a replica's first burst of 200 after a
 * start or deploy ran this code cold (zod compiles its parsers on first use, V8 interprets before it optimises)
 * and its acks took 2-3.5x a bare Bolt app's; the same burst a minute later 1-1.4x. No I/O: nothing is stored or
 * sent, `core.handle` is never called, and the core neither logs nor counts these rehearsals.
 */
export function warmUpAckPath(
  core: Pick<Core, 'instantReply' | 'checkSubmit'>,
  options: { rounds?: number; maxMs?: number; now?: () => number; offset?: number } = {},
): { rounds: number; ms: number } {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const maxRounds = options.rounds ?? WARM_UP_ROUNDS;
  const maxMs = options.maxMs ?? WARM_UP_MAX_MS;
  let rounds = 0;
  // Round numbers go on from `offset` (the background warm-up's slices): its rounds vary as the start's did.
  const offset = options.offset ?? 0;
  // At least one round: a slice of the background warm-up always gets somewhere.
  while (rounds < maxRounds && (rounds === 0 || now() - started < maxMs)) {
    warmCommand(core, offset + rounds);
    warmSubmission(core, offset + rounds);
    rounds += 1;
  }
  return { rounds, ms: now() - started };
}

/**
 * Once the app has started, more rounds in slices between bursts. Measured (200 settings submissions sent at once
 * after a start, the app's CPU time for the burst read from /proc): 420-440 ms with the warm-up before listening
 * alone, which on a slow afternoon managed one round (the first, cold, took 60 ms), and 280-370 ms once these
 * 1,000 rounds had run (0.7 s after ready). Not during the start: start to ready is held to 3x a bare Bolt app's.
 */
const BACKGROUND_ROUNDS = 1000;
const BACKGROUND_SLICE_MS = 5;

export interface BackgroundWarmUp {
  /** Resolves with the rounds run once they are all done, or once stopped. */
  done: Promise<number>;
  stop(): void;
}

/**
 * Goes on warming the ack path in short slices (at least one round each, 5 ms by default), each one after a turn of
 * the event loop and `quiet()`: the receiver's burst gate, which lets it go once a burst is acknowledged (or has
 * lasted a second: steady traffic). A request arriving meanwhile waits for the slice under way, not for the rest.
 */
export function keepWarmingUp(
  core: Pick<Core, 'instantReply' | 'checkSubmit'>,
  options: { quiet: () => Promise<void>; rounds?: number; sliceMs?: number },
): BackgroundWarmUp {
  let stopped = false;
  const total = options.rounds ?? BACKGROUND_ROUNDS;
  const done = (async () => {
    let rounds = 0;
    while (!stopped && rounds < total) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await options.quiet();
      if (stopped) break;
      rounds += warmUpAckPath(core, {
        rounds: total - rounds,
        maxMs: options.sliceMs ?? BACKGROUND_SLICE_MS,
        offset: rounds,
      }).rounds;
    }
    return rounds;
  })();
  return {
    done,
    stop: () => {
      stopped = true;
    },
  };
}

function signedRequest(rawBody: string): Record<string, unknown> | null {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', WARM_UP_SECRET).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
  const verified = verifySlackSignature({
    signingSecret: WARM_UP_SECRET,
    timestamp,
    signature,
    rawBody,
    nowMs: Date.now(),
  });
  return verified.ok ? parseRequestBody(rawBody, 'application/x-www-form-urlencoded') : null;
}

/** `/backcare triage` (a modal opened before any I/O) and `/backcare breathe` (answered after the ack). */
function warmCommand(core: Pick<Core, 'instantReply'>, round: number): void {
  const user = `UWARM${round}`;
  const body = signedRequest(
    new URLSearchParams({
      command: '/backcare',
      text: round % 2 === 0 ? 'triage' : 'breathe',
      team_id: 'TWARMUP',
      team_domain: 'warm-up',
      user_id: user,
      user_name: user.toLowerCase(),
      channel_id: `D${user}`,
      response_url: 'https://hooks.slack.com/commands/TWARMUP/1/warm',
      trigger_id: `${round}.1.warm`,
    }).toString(),
  );
  const parsed = slashCommandSchema.safeParse(body);
  if (!parsed.success) return;
  const actor = {
    platform: 'slack',
    workspaceExternalId: parsed.data.team_id,
    userExternalId: parsed.data.user_id,
    isAdmin: false,
    isLead: false,
  } as const;
  const reply = core.instantReply?.({ actor, input: commandInput(parsed.data) }, { rehearsal: true });
  if (reply?.form) JSON.stringify(renderModal(reply.form, { privateMetadata: '{}' }));
}

const option = (value: string) => ({ text: { type: 'plain_text', text: value }, value });

/** A settings submission as Slack sends it: every other round with a wrong field, so the errors path warms too. */
function warmSubmission(core: Pick<Core, 'checkSubmit'>, round: number): void {
  const fields: Record<string, Record<string, unknown>> = {
    optedIn: { type: 'static_select', selected_option: option('yes') },
    timezone: { type: 'external_select', selected_option: option('Europe/Paris') },
    days: { type: 'checkboxes', selected_options: [option('mon'), option('tue'), option('wed')] },
    start: { type: 'timepicker', selected_time: '09:00' },
    end: { type: 'timepicker', selected_time: '17:00' },
    everyMinutes: { type: 'number_input', value: round % 2 === 0 ? '60' : 'often' },
    kinds: { type: 'checkboxes', selected_options: [option('stretch')] },
    delivery: { type: 'static_select', selected_option: option('dm') },
    channelId: { type: 'plain_text_input', value: null },
    pause: { type: 'static_select', selected_option: option('keep') },
  };
  const payload = {
    type: 'view_submission',
    team: { id: 'TWARMUP', domain: 'warm-up' },
    user: { id: `UWARM${round}`, username: 'warm', name: 'warm', team_id: 'TWARMUP' },
    api_app_id: 'AWARMUP',
    trigger_id: `${round}.2.warm`,
    view: {
      id: `VWARM${round}`,
      type: 'modal',
      callback_id: 'settings',
      private_metadata: '',
      state: { values: Object.fromEntries(Object.entries(fields).map(([id, value]) => [id, { [id]: value }])) },
    },
  };
  const body = signedRequest(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  const read = readSubmission(core, body);
  if (read.kind === 'read') JSON.stringify(read.early ?? { response_action: 'update', view: workingModal() });
}
