import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type WebClientOptions,
} from '@slack/web-api';

/**
 * How Backcare's Slack Web API clients behave. `@slack/web-api` by default sleeps through 429s and retries
 * for up to half an hour, which hides rate limits as latency; the live player and the nudge sender need to
 * see them, so 429s are rejected (and handled by whoever called), and only network errors and 5xx are retried,
 * briefly.
 */
export const defaultClientOptions: WebClientOptions = {
  rejectRateLimitedCalls: true,
  retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 },
  timeout: 10_000,
};

/**
 * A call that may meet Slack's rate limit on the way to a person's answer (a burst of 200 `stats` needs 200 DM
 * channels and uploads, past their tiers): a 429 is waited out (its Retry-After, plus up to a second so that
 * everyone limited together does not come back in the same instant) and the call tried again, `attempts` times
 * at most, each wait at most `maxWaitMs`. The adapter's `sleep` lends the work's queue slot while it waits (see
 * WorkQueue.whileWaiting). Anything else, or a longer wait, fails as the call did.
 */
export async function waitingOutRateLimits<T>(
  call: () => Promise<T>,
  options: { attempts?: number; maxWaitMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const failure = classifySlackError(error);
      if (failure.kind !== 'rate_limited' || failure.retryAfterMs > maxWaitMs || attempt >= attempts) throw error;
      await sleep(failure.retryAfterMs + Math.floor(Math.random() * 1000));
    }
  }
}

/** A step of an answer that waits out Slack's rate limit: waitingOutRateLimits with the adapter's sleep. */
export type WaitOut = <T>(call: () => Promise<T>) => Promise<T>;

/** The bot token for a workspace: the one configured token, or the workspace's OAuth installation. */
export type TokenLookup = (teamId: string) => Promise<string | null>;

/** One WebClient per token, so connection reuse and concurrency limits are per workspace. */
export function createClientPool(options: WebClientOptions): (token: string) => WebClient {
  const clients = new Map<string, WebClient>();
  return (token) => {
    let client = clients.get(token);
    if (!client) {
      client = new WebClient(token, options);
      clients.set(token, client);
    }
    return client;
  };
}

export type SlackFailure =
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** The call cannot succeed by retrying (no access, user gone, app removed). */
  | { kind: 'permanent'; reason: string }
  | { kind: 'transient'; reason: string };

/** Errors that retrying will not fix: the person, the channel or the app's access is gone. */
const permanentErrors = new Set([
  'account_inactive',
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'team_access_not_granted',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'user_not_found',
  'users_not_found',
  'user_disabled',
  'cannot_dm_bot',
  'messages_tab_disabled',
  'restricted_action',
  'ekm_access_denied',
  'app_missing_action_url',
]);

/** Sorts a Web API failure into "wait then retry", "give up" or "try again soon". */
export function classifySlackError(error: unknown): SlackFailure {
  if (error instanceof WebAPIRateLimitedError)
    return { kind: 'rate_limited', retryAfterMs: Math.max(1, error.retryAfter) * 1000 };
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    // `ratelimited` comes back as a platform error from some methods (e.g. chat.postMessage bursts) without a header.
    if (code === 'ratelimited' || code === 'rate_limited') return { kind: 'rate_limited', retryAfterMs: 30_000 };
    if (permanentErrors.has(code)) return { kind: 'permanent', reason: code };
    return { kind: 'transient', reason: code };
  }
  if (error instanceof WebAPIHTTPError) {
    if (error.statusCode === 429) {
      const seconds = Number(error.headers['retry-after'] ?? '30');
      return { kind: 'rate_limited', retryAfterMs: (Number.isFinite(seconds) ? Math.max(1, seconds) : 30) * 1000 };
    }
    return { kind: 'transient', reason: `http_${error.statusCode}` };
  }
  if (error instanceof WebAPIRequestError) return { kind: 'transient', reason: 'request_failed' };
  return { kind: 'transient', reason: error instanceof Error ? error.name : 'unknown' };
}
