import type { Logger } from '../config/logger.js';
import type { Db } from '../db/client.js';
import { recordActivity } from '../db/activity.js';
import { rememberDmChannel } from '../db/users.js';
import {
  closeDelivery,
  confirmSent,
  pauseTarget,
  recentRoutineIds,
  releaseClaim,
  setRoutine,
  targetOf,
  type ClaimedDelivery,
  type Confirmation,
  type DeliveryKind,
} from '../db/deliveries.js';
import { buildNudgeMessage, buildTeamPostMessage, type NudgeRoutine } from '../core/nudge-message.js';
import type { Platform } from '../core/request.js';
import {
  RateLimitedError,
  type Availability,
  type AvailabilityQuery,
  type NudgeDelivery,
  type ReconcileResult,
  type Sender,
} from '../core/sender.js';
import { LATE_LIMIT_MS } from './late.js';
import { RateLimiter } from '../core/rate-limit.js';
import { createLearnedPace } from './learned-pace.js';
import { localBudgets, type RateBudget, type RateBudgets } from '../core/rate-budget.js';
import { TEAM_POST_KINDS, type RoutinePicker } from './routine-picker.js';

/** How long a claim's platform check may keep failing before the claim is closed without a resend. */
export const RECONCILE_GIVE_UP_MS = 60 * 60 * 1000;
const UNVERIFIABLE = 'could not be checked on the platform for an hour; not resent';

/** Confirmations written per statement. */
const CONFIRM_GROUP = 50;

export interface TickReport {
  claimed: number;
  sent: number;
  missed: number;
  failed: number;
  unavailable: number;
  reconciled: number;
  /** Due slots not sent because the person already had their daily maximum. */
  capped: number;
}

export const emptyReport = (): TickReport => ({
  claimed: 0,
  sent: 0,
  missed: 0,
  failed: 0,
  unavailable: 0,
  reconciled: 0,
  capped: 0,
});

/**
 * A team post addresses a channel, not a person (whoever set it up may since have been forgotten): senders read
 * `user` only to open a DM or check someone's availability, and neither happens for a channel destination.
 */
const NO_PERSON: NudgeDelivery['user'] = { id: 0, platformUserId: '', dmChannelId: null };

/** Log event names per kind of target, so existing dashboards and alerts keep their names. */
const eventOf: Record<DeliveryKind, string> = { person: 'nudge', channel: 'team_post' };
const pausedMessage: Record<DeliveryKind, string> = {
  person: 'nudges paused: person unreachable',
  channel: 'team post paused: channel unreachable',
};

/** Backoff floor for a delivery that keeps failing (on top of the platform's Retry-After). */
function backoffMs(attempt: number): number {
  return attempt < 3 ? 0 : Math.min(30_000, 250 * 2 ** (attempt - 3));
}

export interface PipelineOptions {
  db: Db;
  log: Logger;
  senders: Partial<Record<Platform, Sender>>;
  picker: RoutinePicker;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** Give up on a delivery after this many transient failures, even within its slot. */
  maxAttempts: number;
  /** Per-channel post rates (Sender.channelPostRate): in this process by default; shared in PostgreSQL by the app. */
  budgets?: RateBudgets | undefined;
  /**
   * True once the scheduler is stopping: its sleeps end early then, and a delivery that was waiting out a rate
   * limit or a retry is handed back (released, or left for the next pass) instead of being tried again.
   */
  stopping?: () => boolean;
}

/** Thrown in a send that waited and found the scheduler stopping: `deliver` releases the claim for the next pass. */
class StoppingError extends Error {
  override readonly name = 'StoppingError';
  constructor() {
    super('the scheduler is stopping: left for the next pass');
  }
}

/**
 * The one path every delivery takes, a person's nudge or a team's channel post: send (retried within the slot,
 * paced per platform) → confirm (in groups) → or close without a message; and, after a crash, reconcile (look on
 * the platform first, resend only what is not there).
 */
export interface DeliveryPipeline {
  /** Sends one claimed delivery, retrying transient failures within its slot. Never throws. */
  deliver(claimed: ClaimedDelivery, report: TickReport): Promise<void>;
  /**
   * Resolves an orphaned claim: confirmed if the platform has it, else resent or closed. Never throws. The
   * platform's rate limit is waited for (and learned) until `until`; a check that gets no turn by then is left
   * for a later pass, never taken for "not sent".
   */
  reconcile(claimed: ClaimedDelivery, report: TickReport, until: Date): Promise<void>;
  /** Writes the confirmations still queued. */
  flush(): Promise<void>;
  /**
   * Starts the busy checks of a freshly claimed batch all at once (the platform batches them: Slack answers 50
   * people per call); `deliver` then waits for its own answer instead of asking one person at a time.
   */
  checkAvailability(claimed: readonly ClaimedDelivery[]): void;
}

type SendOutcome =
  | { kind: 'sent'; messageRef: string; dmChannelId?: string }
  | { kind: 'permanent'; reason: string }
  | { kind: 'gave-up'; reason: string };

export function createDeliveryPipeline(options: PipelineOptions): DeliveryPipeline {
  const { db, log, senders, now } = options;
  const confirmations = createConfirmations(db, log);
  const check = createPlatformChecks(options);
  const send = createSendWithinSlot(options, check);
  const { recordOutcome, closeMissed, closeUnsent } = createClosing(options);
  const unresolved = createUnresolved(options);
  const { availabilityOf, checkAvailability, discardAvailability } = createAvailabilityChecks(senders);

  async function markSent(
    claimed: ClaimedDelivery,
    sent: { messageRef: string; dmChannelId?: string },
    attempts: number,
    report: TickReport,
  ) {
    confirmations.add(claimed.kind, {
      deliveryId: claimed.deliveryId,
      workspaceId: claimed.workspaceId,
      messageRef: sent.messageRef,
      attempts,
      at: now(),
    });
    report.sent += 1;
    if (claimed.kind === 'person' && sent.dmChannelId && sent.dmChannelId !== claimed.dmChannelId)
      await rememberDmChannel(db, claimed.userId, sent.dmChannelId);
  }

  async function deliver(claimed: ClaimedDelivery, report: TickReport): Promise<void> {
    const sender = senders[claimed.platform];
    if (!sender) return;
    let attempts = 0;
    try {
      // Waited in the queue (or behind rate limits) past its slot: too stale to send.
      if (now().getTime() - claimed.slotAt.getTime() > LATE_LIMIT_MS) {
        discardAvailability(claimed);
        return await closeMissed(claimed, 'not sent within 10 minutes of its slot', report);
      }
      const routine = await routineFor(options, claimed);
      const delivery = deliveryOf(claimed, routine);
      // Availability (do-not-disturb, a call) is a person's: a channel is always there.
      if (claimed.kind === 'person' && sender.isAvailable) {
        const answer = await availabilityOf(claimed, sender);
        if (!answer.available) {
          await closeDelivery(db, claimed.kind, claimed.deliveryId, 'unavailable', 0, answer.reason);
          await recordOutcome(claimed, 'unavailable', routine.id);
          report.unavailable += 1;
          return;
        }
      }
      const outcome = await send(sender, delivery, (n) => (attempts = n));
      if (outcome.kind === 'sent') return await markSent(claimed, outcome, attempts, report);
      await closeUnsent(claimed, outcome, attempts, report);
    } catch (error) {
      if (error instanceof StoppingError) {
        log.info({ event: `${eventOf[claimed.kind]}.released`, deliveryId: claimed.deliveryId }, error.message);
        await releaseClaim(db, claimed.kind, claimed.deliveryId, attempts).catch(() => undefined);
        return;
      }
      // Storage trouble mid-delivery: hand the claim back so reconciliation (which checks the platform) resolves it.
      log.error(
        { event: `${eventOf[claimed.kind]}.deliver_failed`, deliveryId: claimed.deliveryId, err: error },
        'delivery failed; released for reconciliation',
      );
      await releaseClaim(db, claimed.kind, claimed.deliveryId, attempts).catch(() => undefined);
    }
  }

  /** Looks for the claim's message on the platform; null when the rate limit gave the check no turn in time. */
  async function lookOnPlatform(
    claimed: ClaimedDelivery,
    sender: Sender,
    until: Date,
  ): Promise<ReconcileResult | null> {
    // No routine stored means the message was never built, so it cannot have been posted.
    if (!claimed.routineId) return { found: false };
    const routine =
      options.picker.source(claimed.workspaceId).get(claimed.routineId) ??
      (await routineFor(options, { ...claimed, routineId: null }));
    return check(sender, deliveryOf(claimed, routine), until.getTime());
  }

  async function reconcile(claimed: ClaimedDelivery, report: TickReport, until: Date): Promise<void> {
    const sender = senders[claimed.platform];
    if (!sender) return;
    const event = eventOf[claimed.kind];
    try {
      const found = await lookOnPlatform(claimed, sender, until);
      if (!found) return await unresolved(claimed, report, { rateLimited: true });
      report.reconciled += 1;
      if (found.found) {
        log.info(
          { event: `${event}.reconciled`, deliveryId: claimed.deliveryId, outcome: 'found' },
          `claimed ${event} was already posted`,
        );
        return await markSent(claimed, { messageRef: found.messageRef }, 1, report);
      }
      if (now().getTime() - claimed.slotAt.getTime() > LATE_LIMIT_MS)
        return await closeMissed(claimed, 'found unsent after a restart, too late to send', report);
      if (claimed.kind === 'person' && (!claimed.prefs.optedIn || claimed.prefs.pausedReason))
        return await closeDelivery(
          db,
          claimed.kind,
          claimed.deliveryId,
          'failed',
          0,
          'nudges were turned off before it could be resent',
        );
      log.info(
        { event: `${event}.reconciled`, deliveryId: claimed.deliveryId, outcome: 'resend' },
        `claimed ${event} not found on the platform; sending`,
      );
      await deliver(claimed, report);
    } catch (error) {
      await unresolved(claimed, report, { error });
    }
  }

  return { deliver, reconcile, flush: confirmations.flush, checkAvailability };
}

/** A claim its platform check could not resolve: left for a later pass, or closed unsent once it is too old. */
function createUnresolved({ db, log, now }: PipelineOptions) {
  /**
   * A claim whose platform check keeps failing (a history window Slack will not page through, a rate limit) would
   * otherwise be released and retried forever. Long past the point where it could still be sent, it is closed
   * without a resend: never twice beats a record that may say "missed" for a message that did arrive.
   */
  const beyondChecking = (slotAt: Date) => now().getTime() - slotAt.getTime() > RECONCILE_GIVE_UP_MS;

  /**
   * Not known whether it was posted: the check failed, or the platform's rate limit left it no turn in this pass.
   * A later pass asks again.
   */
  async function unresolved(
    claimed: ClaimedDelivery,
    report: TickReport,
    why: { rateLimited: true } | { error: unknown },
  ): Promise<void> {
    const event = eventOf[claimed.kind];
    const err = 'error' in why ? why.error : 'rate limited';
    if (beyondChecking(claimed.slotAt)) {
      log.warn(
        { event: `${event}.unverifiable`, deliveryId: claimed.deliveryId, err },
        `claimed ${event} could not be checked on the platform for an hour; closed, not resent`,
      );
      report.missed += 1;
      return await closeDelivery(db, claimed.kind, claimed.deliveryId, 'missed', 0, UNVERIFIABLE).catch(
        () => undefined,
      );
    }
    if ('rateLimited' in why)
      log.info(
        { event: `${event}.reconcile_deferred`, deliveryId: claimed.deliveryId },
        'platform rate limit: reconcile left for the next pass',
      );
    else
      log.error(
        { event: `${event}.reconcile_failed`, deliveryId: claimed.deliveryId, err },
        'reconcile failed; will retry next tick',
      );
    await releaseClaim(db, claimed.kind, claimed.deliveryId).catch(() => undefined);
  }

  return unresolved;
}

/** Closing a delivery that was not sent: missed, unavailable, failed (pausing a target the platform refuses). */
function createClosing({ db, log, now }: PipelineOptions) {
  /** A nudge's outcomes are the person's activity; a team post is nobody's. */
  async function recordOutcome(claimed: ClaimedDelivery, outcome: 'missed' | 'unavailable', routineId: string | null) {
    if (claimed.kind !== 'person') return;
    const who = { userId: claimed.userId, workspaceId: claimed.workspaceId };
    await recordActivity(db, who, { kind: 'nudge', outcome, source: 'nudge', routineId }, now());
  }

  async function closeMissed(claimed: ClaimedDelivery, why: string, report: TickReport): Promise<void> {
    await closeDelivery(db, claimed.kind, claimed.deliveryId, 'missed', 0, why);
    await recordOutcome(claimed, 'missed', claimed.routineId);
    report.missed += 1;
  }

  /** Not sent: a platform that will never take it pauses the target; running out of the slot only fails this one. */
  async function closeUnsent(
    claimed: ClaimedDelivery,
    outcome: Exclude<SendOutcome, { kind: 'sent' }>,
    attempts: number,
    report: TickReport,
  ) {
    const event = eventOf[claimed.kind];
    report.failed += 1;
    if (outcome.kind === 'permanent') {
      await closeDelivery(db, claimed.kind, claimed.deliveryId, 'failed', attempts, outcome.reason);
      await pauseTarget(db, targetOf(claimed), outcome.reason, now());
      const { kind: _kind, ...target } = targetOf(claimed);
      log.warn({ event: `${event}.paused`, ...target, reason: outcome.reason }, pausedMessage[claimed.kind]);
      return;
    }
    await closeDelivery(
      db,
      claimed.kind,
      claimed.deliveryId,
      'failed',
      attempts,
      `gave up within the slot: ${outcome.reason}`,
    );
    log.warn(
      { event: `${event}.gave_up`, deliveryId: claimed.deliveryId, attempts, reason: outcome.reason },
      `${event} not delivered within its slot`,
    );
  }

  return { recordOutcome, closeMissed, closeUnsent };
}

/** The routine chosen at claim time; chosen again only if the content library no longer has it. */
async function routineFor({ db, picker }: PipelineOptions, claimed: ClaimedDelivery): Promise<NudgeRoutine> {
  const stored = claimed.routineId ? picker.stored(claimed.workspaceId, claimed.routineId) : undefined;
  if (stored) return stored;
  const kinds = claimed.kind === 'person' ? claimed.prefs.kinds : TEAM_POST_KINDS;
  const routine = picker.pick(kinds, await recentRoutineIds(db, targetOf(claimed)), claimed.workspaceId);
  await setRoutine(db, claimed.kind, claimed.deliveryId, routine.id);
  claimed.routineId = routine.id;
  return routine;
}

/** Busy checks started for a whole batch, each waited for by its own delivery (or asked then, if not started). */
function createAvailabilityChecks(senders: PipelineOptions['senders']) {
  const availability = new Map<number, Promise<Availability>>();

  function availabilityOf(claimed: ClaimedDelivery & { kind: 'person' }, sender: Sender): Promise<Availability> {
    const started = availability.get(claimed.deliveryId);
    availability.delete(claimed.deliveryId);
    return started ?? askAvailability(claimed, sender);
  }

  function askAvailability(claimed: ClaimedDelivery & { kind: 'person' }, sender: Sender): Promise<Availability> {
    // A failed check never stops a nudge (the senders fail open too).
    return sender.isAvailable!(availabilityQueryOf(claimed)).catch((): Availability => ({ available: true }));
  }

  function checkAvailability(batch: readonly ClaimedDelivery[]): void {
    for (const claimed of batch) {
      const sender = senders[claimed.platform];
      if (claimed.kind !== 'person' || !sender?.isAvailable || availability.has(claimed.deliveryId)) continue;
      availability.set(claimed.deliveryId, askAvailability(claimed, sender));
    }
  }

  /** A delivery closed before it needed its answer must not leave it behind. */
  const discardAvailability = (claimed: ClaimedDelivery) => void availability.delete(claimed.deliveryId);

  return { availabilityOf, checkAvailability, discardAvailability };
}

function availabilityQueryOf(claimed: ClaimedDelivery & { kind: 'person' }): AvailabilityQuery {
  return {
    deliveryId: claimed.deliveryId,
    slotAt: claimed.slotAt,
    workspace: { id: claimed.workspaceId, platform: claimed.platform, externalId: claimed.workspaceExternalId },
    user: { id: claimed.userId, platformUserId: claimed.platformUserId, dmChannelId: claimed.dmChannelId },
  };
}

/** What the platform is asked to post: a nudge to the person (DM or their channel), or the team's channel post. */
function deliveryOf(claimed: ClaimedDelivery, routine: NudgeRoutine): NudgeDelivery {
  const workspace = { id: claimed.workspaceId, platform: claimed.platform, externalId: claimed.workspaceExternalId };
  if (claimed.kind === 'channel')
    return {
      deliveryId: claimed.deliveryId,
      slotAt: claimed.slotAt,
      workspace,
      user: NO_PERSON,
      destination: { kind: 'channel', channelId: claimed.channelId },
      message: buildTeamPostMessage(routine),
    };
  return {
    deliveryId: claimed.deliveryId,
    slotAt: claimed.slotAt,
    workspace,
    user: { id: claimed.userId, platformUserId: claimed.platformUserId, dmChannelId: claimed.dmChannelId },
    destination:
      claimed.prefs.delivery === 'channel' && claimed.prefs.channelId
        ? { kind: 'channel', channelId: claimed.prefs.channelId }
        : { kind: 'dm' },
    message: buildNudgeMessage(
      routine,
      claimed.deliveryId,
      claimed.slotAt,
      claimed.question ? { askFewer: { everyMinutes: claimed.prefs.everyMinutes } } : {},
    ),
  };
}

/**
 * Confirmations are written in groups (one statement per up to 50 per kind, or when a worker runs dry): sends are
 * not held up by a database round trip each. A crash before a group is written leaves those deliveries `claimed`,
 * and reconciliation finds their messages on the platform: nothing is sent twice.
 */
function createConfirmations(db: Db, log: Logger) {
  const queued: Record<DeliveryKind, Confirmation[]> = { person: [], channel: [] };
  let confirming: Promise<void> = Promise.resolve();
  function flush(): Promise<void> {
    for (const kind of ['person', 'channel'] as const) {
      const group = queued[kind];
      if (group.length === 0) continue;
      queued[kind] = [];
      confirming = confirming.then(() =>
        confirmSent(db, kind, group).catch((error: unknown) => {
          // Left claimed by us: the next pass reconciles them (and finds the messages).
          log.error(
            { event: `${eventOf[kind]}.confirm_failed`, count: group.length, err: error },
            'could not confirm sent deliveries; they will be reconciled',
          );
        }),
      );
    }
    return confirming;
  }
  function add(kind: DeliveryKind, confirmation: Confirmation): void {
    queued[kind].push(confirmation);
    if (queued[kind].length >= CONFIRM_GROUP) void flush();
  }
  return { add, flush };
}

/**
 * A channel's post rate, shared by every replica: a delivery to a channel waits for its turn (within its slot); a
 * 429 holds the channel off for everyone. False when the turn would come too late for the slot.
 */
function createChannelPacing(options: PipelineOptions) {
  const { now, sleep } = options;
  const budgets = options.budgets ?? localBudgets(() => now().getTime());
  const perPlatform = new Map<Platform, RateBudget>();
  const budgetOf = (sender: Sender): RateBudget | null => {
    if (!sender.channelPostRate) return null;
    let budget = perPlatform.get(sender.platform);
    if (!budget) perPlatform.set(sender.platform, (budget = budgets(sender.channelPostRate)));
    return budget;
  };
  const keyOf = (delivery: NudgeDelivery) =>
    delivery.destination.kind === 'channel'
      ? `${delivery.workspace.externalId}:${delivery.destination.channelId}`
      : null;

  async function turn(sender: Sender, delivery: NudgeDelivery, deadline: number): Promise<boolean> {
    const key = keyOf(delivery);
    const budget = budgetOf(sender);
    if (!key || !budget) return true;
    // Bounded, in case the clock never moves (tests with a frozen clock).
    for (let i = 0; i < 1000; i++) {
      const grant = await budget.take(key);
      if (grant.granted > 0) return true;
      if (now().getTime() + grant.waitMs > deadline) return false;
      await sleep(grant.waitMs);
    }
    return false;
  }

  async function rateLimited(sender: Sender, delivery: NudgeDelivery, ms: number): Promise<void> {
    const key = keyOf(delivery);
    const budget = budgetOf(sender);
    if (key && budget) await budget.pause(key, ms);
  }

  return { turn, rateLimited };
}

/** Asks the platform whether a delivery was posted; null when the rate limit gives it no turn before `until`. */
type PlatformCheck = (sender: Sender, delivery: NudgeDelivery, until: number) => Promise<ReconcileResult | null>;

/** How long the platform counts the reads a check makes over (Slack: per minute, by method tier). */
const CHECK_WINDOW_MS = 60_000;

/**
 * The checks reconciliation makes ("was it posted?"), paced apart from sends: they are a read the platform limits
 * on its own (Slack: conversations.history per minute, and to one a minute for some apps; chat.postMessage per
 * second), so they learn a pace of their own. A 429 (RateLimitedError) holds every check to that platform off for
 * its Retry-After and lowers the pace; the check is asked again when its turn comes, or, if that is after
 * `until`, left for later. Without this every orphan asked at once and again each pass, and nearly every call
 * was a 429 (`npm run bench -- nudges --only slack`, crash run: 17,550 Web API calls).
 */
function createPlatformChecks({ now, sleep, maxAttempts, stopping }: PipelineOptions): PlatformCheck {
  const clock = () => now().getTime();
  const gate = new RateLimiter({ now: clock });
  const pace = createLearnedPace({ now: clock, sleep, windowMs: CHECK_WINDOW_MS });

  /** Waits out the platform's Retry-After, then the learned pace; false when the turn would come after `until`. */
  async function turn(platform: Platform, until: number): Promise<boolean> {
    // Bounded, in case the clock never moves (tests with a frozen clock).
    for (let i = 0; i < 100; i++) {
      const paused = gate.pausedMs(platform);
      if (paused > 0) {
        if (clock() + paused > until) return false;
        await sleep(paused);
        if (stopping?.()) return false;
        continue;
      }
      if (!(await pace.turn(platform, until)) || stopping?.()) return false;
      // Another check met the limit while this one waited for the pace: wait out that Retry-After first.
      if (gate.pausedMs(platform) === 0) return true;
    }
    return false;
  }

  return async (sender, delivery, until) => {
    // Bounded: each round waits a Retry-After, and `maxAttempts` rate-limited answers end it for this pass.
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (!(await turn(sender.platform, until))) return null;
      try {
        const result = await sender.reconcile(delivery);
        pace.accepted(sender.platform);
        return result;
      } catch (error) {
        if (!(error instanceof RateLimitedError)) throw error;
        pace.limited(sender.platform);
        gate.pause(sender.platform, error.retryAfterMs);
      }
    }
    return null;
  };
}

/**
 * One delivery's send, retried on transient failures until it succeeds, fails for good, or further waiting would run
 * past the slot's 10 minutes. A 429 pauses every send to that platform for its Retry-After.
 */
function createSendWithinSlot(options: PipelineOptions, check: PlatformCheck) {
  const { log, now, sleep, maxAttempts } = options;
  // Only its pause is used here (a platform-wide Retry-After); the send pace comes from the platform's answers,
  // except for channels, whose post rate is a budget shared by the replicas.
  const gate = new RateLimiter({ now: () => now().getTime() });
  const pace = createLearnedPace({ now: () => now().getTime(), sleep });
  const channels = createChannelPacing(options);
  return async (
    sender: Sender,
    delivery: NudgeDelivery,
    onAttempt: (attempts: number) => void,
  ): Promise<SendOutcome> => {
    const deadline = delivery.slotAt.getTime() + LATE_LIMIT_MS;
    for (let attempts = 1; ; attempts++) {
      await gate.wait(sender.platform, sleep);
      if (!(await channels.turn(sender, delivery, deadline)))
        return { kind: 'gave-up', reason: 'the channel post rate left no turn within the slot' };
      await pace.turn(sender.platform);
      onAttempt(attempts);
      let result;
      try {
        result = await sender.send(delivery);
      } catch (error) {
        // A sender that throws may or may not have posted: ask the platform before trying again.
        log.warn(
          { event: 'nudge.send_threw', deliveryId: delivery.deliveryId, err: error },
          'sender threw; reconciling before retry',
        );
        const found = await check(sender, delivery, deadline);
        // Still unknown (the rate limit left no turn within the slot): thrown, so the claim goes to reconciliation.
        if (!found)
          throw new Error('rate limited: could not check whether the send that threw had posted', { cause: error });
        if (found.found) return { kind: 'sent', messageRef: found.messageRef };
        result = {
          status: 'retry' as const,
          retryAfterMs: 1000,
          reason: error instanceof Error ? error.message : String(error),
        };
      }
      if (result.status === 'sent') {
        pace.accepted(sender.platform);
        return {
          kind: 'sent',
          messageRef: result.messageRef,
          ...(result.dmChannelId ? { dmChannelId: result.dmChannelId } : {}),
        };
      }
      if (result.status === 'permanent') return { kind: 'permanent', reason: result.reason };
      const wait = Math.max(result.retryAfterMs, backoffMs(attempts));
      if (attempts >= maxAttempts || now().getTime() + wait > deadline)
        return { kind: 'gave-up', reason: result.reason };
      if (result.rateLimited) pace.limited(sender.platform);
      gate.pause(sender.platform, result.retryAfterMs);
      await channels.rateLimited(sender, delivery, result.retryAfterMs);
      await sleep(wait);
      if (options.stopping?.()) throw new StoppingError();
    }
  };
}
