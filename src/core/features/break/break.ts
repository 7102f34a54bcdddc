import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { defineCommand, type Feature } from '../../command.js';
import { buildNudgeMessage } from '../../nudge-message.js';
import { reply, text } from '../../reply.js';
import { currentPreferences } from '../../settings-service.js';
import { queryRows } from '../../../db/client.js';
import { recordActivity } from '../../../db/activity.js';
import { insertSentNudge } from '../../../db/deliveries.js';
import { chooseNudgeRoutine } from '../nudges/nudges.js';

/** A break taken this close before a nudge slot stands in for that slot's nudge. */
const BREAK_COVERS_SLOT_MS = 15 * 60 * 1000;

const dueSchema = z.object({ next_due_at: z.coerce.date().nullable() });

/**
 * `/backcare break`: the next routine at once, picked the way nudges are (the content library's rotation).
 * If a nudge is due within 15 minutes, this break *is* that nudge: its delivery row is written for that
 * slot and next_due_at moves past it, in one transaction holding the person's preferences row. The
 * scheduler claims with `FOR UPDATE SKIP LOCKED`, so it either claimed the slot first (then next_due_at has
 * already moved on and the break is an extra one) or skips the row until this commits; the unique
 * (user_id, slot_at) key is the backstop. Nothing is remembered in memory.
 */
const takeBreak = defineCommand({
  name: 'break',
  summary: 'take a desk break now (counts as your next nudge if one is due within 15 minutes)',
  usage: '/backcare break',
  examples: ['/backcare break'],
  args: z
    .array(z.string())
    .max(1, 'break takes at most one word: now')
    .refine((t) => t.length === 0 || t[0]!.toLowerCase() === 'now', 'break takes at most one word: now'),
  async run(ctx) {
    const { workspace, user } = await ctx.ensureUser();
    const prefs = await currentPreferences(ctx.db, user.id, ctx.actor.timezone);
    const routine = await chooseNudgeRoutine(ctx, user.id, prefs.kinds);
    const now = ctx.now();
    const nextSlot = ctx.deps.nextSlot;

    const taken = await ctx.db.transaction(async (tx) => {
      const [locked] = await queryRows<unknown>(
        tx,
        sql`select next_due_at from preferences where user_id = ${user.id} and opted_in and paused_reason is null for update`,
      );
      const due = locked ? dueSchema.parse(locked).next_due_at : null;
      const coversSlot = due !== null && due.getTime() - now.getTime() <= BREAK_COVERS_SLOT_MS;
      const slotAt = coversSlot ? due : now;
      const deliveryId = await insertSentNudge(tx, user.id, slotAt, routine.id, now);
      if (deliveryId === null) return null;
      if (coversSlot && nextSlot) {
        await tx.execute(
          sql`update preferences set next_due_at = ${nextSlot(prefs, slotAt)} where user_id = ${user.id}`,
        );
      }
      return { deliveryId, slotAt: coversSlot ? slotAt : null };
    });
    if (!taken) return reply('One break at a time, please.', [text('You just started one; give it a moment.')]);

    await recordActivity(
      ctx.db,
      { userId: user.id, workspaceId: workspace.id },
      { kind: 'nudge', outcome: 'delivered', source: 'nudge', routineId: routine.id },
      now,
    );
    ctx.log.info(
      { event: 'break.taken', userId: user.id, coversSlot: taken.slotAt !== null },
      'break taken on request',
    );
    const note = taken.slotAt
      ? `This counts as your ${new Intl.DateTimeFormat('en-GB', { timeZone: prefs.timezone, hour: '2-digit', minute: '2-digit' }).format(taken.slotAt)} nudge, so that one will not come.`
      : undefined;
    const message = buildNudgeMessage(routine, taken.deliveryId, now, note ? { note } : {});
    return { ...message, visibility: 'ephemeral' };
  },
});

export const breakFeature: Feature = { commands: [takeBreak] };
