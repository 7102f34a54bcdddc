/** The name under which the receiver hands its replay verdict to Bolt (a custom property of the context). */
export const REPLAY_CHECK = 'replayCheck';
/** When the HTTP request reached the receiver (`performance.now()`), so a listener's deadline counts from there. */
export const RECEIVED_AT = 'receivedAt';

/** How many other requests to this process wait for their answer right now (a function of the receiver). */
export const OTHERS_UNANSWERED = 'othersUnanswered';

/** Whether anything (a connection, a request) reached this process after this request did (a function of the receiver). */
export const OTHERS_ARRIVED = 'othersArrived';

/** Whether another request (or its connection) arrived after this one: false when the receiver does not say. */
export function othersArrived(context: Record<string, unknown>): boolean {
  const arrived: unknown = context[OTHERS_ARRIVED];
  return typeof arrived === 'function' ? Boolean((arrived as () => boolean)()) : false;
}

/** Whether this request is part of a burst: another came just before it (within the quiet time) or after it. */
export const IN_BURST = 'inBurst';

/** See IN_BURST: false when the receiver does not say (Socket Mode). */
export function inBurst(context: Record<string, unknown>): boolean {
  const burst: unknown = context[IN_BURST];
  return typeof burst === 'function' ? Boolean((burst as () => boolean)()) : false;
}

/** Whether other requests are waiting for their acks (a burst): 0 when the receiver does not say (Socket Mode). */
export function othersUnanswered(context: Record<string, unknown>): number {
  const count: unknown = context[OTHERS_UNANSWERED];
  return typeof count === 'function' ? Number((count as () => number)()) : 0;
}

/** How long ago the request arrived (0 when the receiver did not say: Socket Mode). */
export function sinceReceived(context: Record<string, unknown>): number {
  const at: unknown = context[RECEIVED_AT];
  return typeof at === 'number' ? Math.max(0, performance.now() - at) : 0;
}

/**
 * Whether this request is new: the receiver's database check, which starts after the ack (for a request of a
 * burst, once the burst is acknowledged), or here when a listener needs the verdict sooner (to answer in the
 * ack). Listeners wait for it before doing anything, so a replay another replica already processed is not
 * processed again. Requests the receiver does not key (events, Socket Mode) are new.
 */
export function isFresh(context: Record<string, unknown>): Promise<boolean> {
  const check: unknown = context[REPLAY_CHECK];
  return typeof check === 'function' ? (check as () => Promise<boolean>)() : Promise.resolve(true);
}
