import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Db } from '../../../src/db/client.js';
import { defaultPreferences, type Preferences } from '../../../src/core/preferences.js';
import { savePreferences } from '../../../src/db/preferences.js';
import { ensureUser, ensureWorkspace } from '../../../src/db/users.js';
import type { NudgeDelivery, ReconcileResult, SendResult, Sender } from '../../../src/core/sender.js';
import type { Platform } from '../../../src/core/request.js';

/** An opted-in person whose next nudge is due at `dueAt` (UTC, every day 00:00–23:59, hourly unless told). */
export async function seedUser(
  db: Db,
  options: { id: string; dueAt: Date | null; platform?: Platform; prefs?: Partial<Preferences> },
): Promise<{ userId: number; workspaceId: number }> {
  const workspace = await ensureWorkspace(db, { platform: options.platform ?? 'console', externalId: 'W1' });
  const user = await ensureUser(db, workspace.id, options.id);
  const prefs: Preferences = {
    ...defaultPreferences('UTC'),
    optedIn: true,
    days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
    start: '00:00',
    end: '23:59',
    ...options.prefs,
  };
  await savePreferences(db, user.id, prefs, options.dueAt, new Date());
  return { userId: user.id, workspaceId: workspace.id };
}

const deliveryRow = z.object({
  id: z.coerce.number(),
  user_id: z.coerce.number(),
  slot_at: z.coerce.date(),
  status: z.string(),
  attempts: z.coerce.number(),
  message_ref: z.string().nullable(),
  routine_id: z.string().nullable(),
  last_error: z.string().nullable(),
  claimed_by: z.coerce.number().nullable(),
});

export async function deliveries(db: Db) {
  const rows = await queryRows<unknown>(
    db,
    sql`select id, user_id, slot_at, status, attempts, message_ref, routine_id, last_error, claimed_by from nudge_deliveries order by id`,
  );
  return rows.map((r) => deliveryRow.parse(r));
}

export async function prefsRow(db: Db, userId: number) {
  const [row] = await queryRows<unknown>(
    db,
    sql`select next_due_at, paused_reason, opted_in from preferences where user_id = ${userId}`,
  );
  return z
    .object({ next_due_at: z.coerce.date().nullable(), paused_reason: z.string().nullable(), opted_in: z.boolean() })
    .parse(row);
}

export async function activity(db: Db) {
  const rows = await queryRows<unknown>(db, sql`select user_id, outcome, routine_id from activity_events order by id`);
  return rows.map((r) =>
    z.object({ user_id: z.coerce.number(), outcome: z.string(), routine_id: z.string().nullable() }).parse(r),
  );
}

/** A platform double: scripted answers per attempt, a record of every send, and a "posted" set for reconcile. */
export function fakeSender(
  script: (delivery: NudgeDelivery, attempt: number) => SendResult | Promise<SendResult> = (d) => ({
    status: 'sent',
    messageRef: `m${d.deliveryId}`,
  }),
  platform: Platform = 'console',
) {
  const sent: NudgeDelivery[] = [];
  const attempts = new Map<number, number>();
  const posted = new Map<number, string>();
  const reconciled: number[] = [];
  const sender: Sender = {
    platform,
    async send(delivery) {
      const attempt = (attempts.get(delivery.deliveryId) ?? 0) + 1;
      attempts.set(delivery.deliveryId, attempt);
      const result = await script(delivery, attempt);
      if (result.status === 'sent') {
        sent.push(delivery);
        posted.set(delivery.deliveryId, result.messageRef);
      }
      return result;
    },
    async reconcile(delivery): Promise<ReconcileResult> {
      reconciled.push(delivery.deliveryId);
      const ref = posted.get(delivery.deliveryId);
      return ref ? { found: true, messageRef: ref } : { found: false };
    },
  };
  return { sender, sent, attempts, posted, reconciled };
}
