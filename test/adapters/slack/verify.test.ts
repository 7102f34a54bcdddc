import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeSignature, verifySlackSignature } from '../../../adapters/slack/verify.js';

const secret = 'test-signing-secret-not-real';
const body = 'token=x&team_id=T0TESTTEAM&command=%2Fbackcare&text=help';
const now = 1_772_445_600_000;
const ts = String(now / 1000);

describe('Slack request signature (v0)', () => {
  it('matches an HMAC-SHA256 computed independently over v0:ts:body', () => {
    const expected = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
    expect(computeSignature(secret, ts, body)).toBe(expected);
    expect(
      verifySlackSignature({ signingSecret: secret, timestamp: ts, signature: expected, rawBody: body, nowMs: now }),
    ).toEqual({ ok: true });
  });

  it('rejects a signature made with another secret, a changed body, or a truncated signature', () => {
    const good = computeSignature(secret, ts, body);
    const check = (signature: string, rawBody = body) =>
      verifySlackSignature({ signingSecret: secret, timestamp: ts, signature, rawBody, nowMs: now });
    expect(check(computeSignature('other', ts, body))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check(good, `${body}&x=1`)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check(good.slice(0, -2))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check(good.replace('v0=', 'v1='))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts up to five minutes of clock difference either way and rejects more', () => {
    const at = (offsetSeconds: number) => {
      const t = String(now / 1000 + offsetSeconds);
      return verifySlackSignature({
        signingSecret: secret,
        timestamp: t,
        signature: computeSignature(secret, t, body),
        rawBody: body,
        nowMs: now,
      });
    };
    expect(at(-300)).toEqual({ ok: true });
    expect(at(300)).toEqual({ ok: true });
    expect(at(-301)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(at(301)).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('rejects missing or malformed headers', () => {
    const sig = computeSignature(secret, ts, body);
    expect(
      verifySlackSignature({ signingSecret: secret, timestamp: undefined, signature: sig, rawBody: body, nowMs: now })
        .ok,
    ).toBe(false);
    expect(
      verifySlackSignature({ signingSecret: secret, timestamp: ts, signature: undefined, rawBody: body, nowMs: now })
        .ok,
    ).toBe(false);
    expect(
      verifySlackSignature({ signingSecret: secret, timestamp: '17e8', signature: sig, rawBody: body, nowMs: now }),
    ).toEqual({ ok: false, reason: 'missing_headers' });
  });
});
