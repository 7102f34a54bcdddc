import nock from 'nock';
import { computeSignature } from '../../../adapters/slack/verify.js';

export const SIGNING_SECRET = 'test-signing-secret-not-real';
export const BOT_TOKEN = 'xoxb-test-not-a-real-token';

export interface SignedOptions {
  contentType?: string;
  secret?: string;
  /** Epoch seconds; defaults to now. */
  timestamp?: number;
  signature?: string;
  headers?: Record<string, string>;
}

/** POSTs a body to the receiver on loopback, signed the way Slack signs (v0 HMAC-SHA256 over `v0:ts:body`). */
export async function postSigned(
  port: number,
  path: string,
  body: string,
  options: SignedOptions = {},
): Promise<{ status: number; text: string }> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = options.signature ?? computeSignature(options.secret ?? SIGNING_SECRET, timestamp, body);
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signature,
      ...options.headers,
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}

export const postJson = (port: number, path: string, body: unknown, options: SignedOptions = {}) =>
  postSigned(port, path, JSON.stringify(body), { contentType: 'application/json', ...options });

/** One intercepted Web API call: the method and its arguments, decoded (nested JSON arguments parsed). */
export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  authorization: string | undefined;
}

function decodeArgs(body: unknown): Record<string, unknown> {
  const raw: Record<string, unknown> =
    typeof body === 'string'
      ? Object.fromEntries(new URLSearchParams(body))
      : body && typeof body === 'object'
        ? { ...(body as Record<string, unknown>) }
        : {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string' && /^[[{]/.test(value)) {
      try {
        raw[key] = JSON.parse(value) as unknown;
      } catch {
        // not JSON after all
      }
    }
  }
  return raw;
}

/**
 * Intercepts https://slack.com/api/* with nock: every call is recorded; `reply` decides the answer per method
 * (default `{ ok: true }`). Loopback stays reachable for the receiver; anything else is refused.
 */
export function interceptSlack(
  reply: (call: ApiCall) => { status?: number; body: unknown; headers?: Record<string, string> } | undefined = () =>
    undefined,
) {
  const calls: ApiCall[] = [];
  const responses: { url: string; body: Record<string, unknown> }[] = [];
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  nock('https://slack.com')
    .persist()
    .post(/\/api\/.+/)
    .reply(function (uri, body) {
      const call: ApiCall = {
        method: uri.replace(/^\/api\//, ''),
        args: decodeArgs(body),
        authorization: this.req.headers.authorization as string | undefined,
      };
      calls.push(call);
      const answer = reply(call) ?? { body: { ok: true } };
      return [answer.status ?? 200, answer.body as nock.Body, answer.headers ?? {}];
    });
  nock('https://hooks.slack.com')
    .persist()
    .post(/.*/)
    .reply(function (uri, body) {
      responses.push({ url: `https://hooks.slack.com${uri}`, body: decodeArgs(body) });
      return [200, 'ok'];
    });
  const uploads: { url: string; bytes: number }[] = [];
  nock('https://files.slack.com')
    .persist()
    .post(/.*/)
    .reply(function (uri, body) {
      uploads.push({
        url: `https://files.slack.com${uri}`,
        bytes: typeof body === 'string' ? Buffer.byteLength(body) : JSON.stringify(body).length,
      });
      return [200, 'OK - 1'];
    });
  return {
    calls,
    responses,
    uploads,
    of: (method: string) => calls.filter((c) => c.method === method),
    done: () => {
      nock.cleanAll();
      nock.enableNetConnect();
    },
  };
}
