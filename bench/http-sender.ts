import type { NudgeDelivery, ReconcileResult, SendResult, Sender } from '../src/core/sender.js';
import { z } from 'zod';

/** The slot a delivery stands for, as the fake platform counts it. */
const slotKey = (delivery: Pick<NudgeDelivery, 'user' | 'slotAt'>) =>
  `${delivery.user.id}@${delivery.slotAt.toISOString()}`;

const rateLimitedSchema = z.object({ retry_after: z.number().nonnegative() });
const messageSchema = z.object({ id: z.string() });

/**
 * A Sender for the fake platform, shaped like the Discord one: the delivery id travels as the nonce, a 429
 * becomes `retry` with the precise Retry-After, 5xx a short retry, and `reconcile` looks the nonce up.
 */
export function createHttpSender(baseUrl: string, timeoutMs = 5000): Sender {
  return {
    platform: 'console',
    async send(delivery: NudgeDelivery): Promise<SendResult> {
      const response = await fetch(`${baseUrl}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          nonce: `n${delivery.deliveryId}`,
          key: slotKey(delivery),
          text: delivery.message.summary,
        }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body: unknown = await response.json().catch(() => ({}));
      if (response.ok) return { status: 'sent', messageRef: messageSchema.parse(body).id };
      if (response.status === 429) {
        const parsed = rateLimitedSchema.safeParse(body);
        const seconds = parsed.success ? parsed.data.retry_after : Number(response.headers.get('retry-after') ?? 1);
        return {
          status: 'retry',
          retryAfterMs: Math.ceil(seconds * 1000),
          reason: '429 rate limited',
          rateLimited: true,
        };
      }
      if (response.status >= 500) return { status: 'retry', retryAfterMs: 1000, reason: `HTTP ${response.status}` };
      return { status: 'permanent', reason: `HTTP ${response.status}` };
    },
    async reconcile(delivery: NudgeDelivery): Promise<ReconcileResult> {
      const response = await fetch(`${baseUrl}/messages/n${delivery.deliveryId}`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status === 404) return { found: false };
      if (!response.ok) throw new Error(`reconcile lookup failed: HTTP ${response.status}`);
      return { found: true, messageRef: messageSchema.parse(await response.json()).id };
    },
  };
}
