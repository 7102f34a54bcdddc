import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack rejects replays older than five minutes; so do we, in both directions (clock skew). */
const MAX_SKEW_SECONDS = 5 * 60;

export type VerifyResult =
  { ok: true } | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

export interface SignedRequest {
  signingSecret: string;
  /** `X-Slack-Request-Timestamp` header, epoch seconds. */
  timestamp: string | undefined;
  /** `X-Slack-Signature` header: `v0=` + hex HMAC. */
  signature: string | undefined;
  /** The body exactly as received, before any parsing. */
  rawBody: string;
  nowMs: number;
}

/** `v0=` + HMAC-SHA256 over `v0:{timestamp}:{raw body}`: what Slack sends and what tests sign with. */
export function computeSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** Pure request verification (no I/O): timestamp window first, then a constant-time signature compare. */
export function verifySlackSignature(request: SignedRequest): VerifyResult {
  const { timestamp, signature } = request;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing_headers' };
  if (Math.abs(request.nowMs / 1000 - Number(timestamp)) > MAX_SKEW_SECONDS)
    return { ok: false, reason: 'stale_timestamp' };
  const expected = Buffer.from(computeSignature(request.signingSecret, timestamp, request.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; a length mismatch is already a mismatch and reveals nothing secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}
