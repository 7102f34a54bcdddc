import type { Reply } from './reply.js';
import type { BudgetSpec } from './rate-budget.js';
import type { Platform } from './request.js';

/**
 * A nudge or team post is sent within this long after its slot or not at all (later it is recorded as missed), so
 * a platform only has to look at messages from around the slot to this long after it to find one again.
 */
export const SEND_WINDOW_MS = 10 * 60 * 1000;

/**
 * What the scheduler needs from a platform to deliver one nudge. The scheduler knows senders,
 * not platforms; each adapter (console, Slack, Discord) provides one.
 */
export interface NudgeDelivery {
  /** Id of the delivery row (a nudge or a team post; one sequence for both): carried in the message (Slack metadata, Discord nonce) for reconciliation. */
  deliveryId: number;
  slotAt: Date;
  workspace: { id: number; platform: Platform; externalId: string };
  user: { id: number; platformUserId: string; dmChannelId: string | null };
  destination: { kind: 'dm' } | { kind: 'channel'; channelId: string };
  /** The nudge message, in the core's reply model. */
  message: Reply;
}

export type SendResult =
  | { status: 'sent'; messageRef: string; dmChannelId?: string }
  /**
   * Transient (timeout, 429, 5xx): try again within the slot, not before `retryAfterMs`. `rateLimited`: the
   * platform's rate limit (a 429), which slows every later send to it (src/jobs/learned-pace.ts).
   */
  | { status: 'retry'; retryAfterMs: number; reason: string; rateLimited?: boolean }
  /** The person cannot be reached (DMs closed, user gone, app uninstalled): pause their nudges with this reason. */
  | { status: 'permanent'; reason: string };

export type ReconcileResult = { found: true; messageRef: string } | { found: false };

/**
 * Thrown by `Sender.reconcile` when the platform's rate limit answered instead (a 429): the scheduler waits
 * `retryAfterMs` and slows its checks down rather than asking again at once. Thrown, not returned, so a caller
 * that does not know it treats it as any failed check: "unknown", never "not sent".
 */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  constructor(
    readonly retryAfterMs: number,
    message = `rate limited; retry after ${retryAfterMs} ms`,
  ) {
    super(message);
  }
}

/** Who a busy check is about: the delivery's person and workspace, without the message. */
export type AvailabilityQuery = Pick<NudgeDelivery, 'deliveryId' | 'slotAt' | 'workspace' | 'user'>;

export type Availability = { available: true } | { available: false; reason: string };

export interface Sender {
  readonly platform: Platform;
  /**
   * How fast one channel may be posted to (Slack: about one message a second): the scheduler paces deliveries to a
   * channel by it, on every replica together (key `<workspace>:<channel>`). A DM gets one message per person and
   * slot, far below any channel rate, so DMs are not paced (and cost no extra database round trip).
   */
  readonly channelPostRate?: BudgetSpec;
  send(delivery: NudgeDelivery): Promise<SendResult>;
  /**
   * After a crash: was this delivery's message already posted? Looks on the platform, never guesses: throws when
   * it cannot tell (RateLimitedError when the platform's rate limit said so).
   */
  reconcile(delivery: NudgeDelivery): Promise<ReconcileResult>;
  /**
   * Optional pre-check (Slack do-not-disturb, Discord voice): an unavailable slot is skipped, not sent. Asked for a
   * whole claimed batch at once, before the messages are built, so a platform can answer many people in one call.
   */
  isAvailable?(who: AvailabilityQuery): Promise<Availability>;
}
