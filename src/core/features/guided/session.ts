import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  defineAction,
  encodeActionValue,
  type CommandContext,
  type CoreDeps,
  type RegisteredAction,
} from '../../command.js';
import type { RoutineLibrary } from '../../content/library.js';
import { libraryFor } from '../../content/workspace-routines.js';
import {
  kindGroup,
  routinePlan,
  sessionIntroBlocks,
  sessionSources,
  type SessionPlan,
  type SessionSource,
} from '../../content/plans.js';
import { deskPlaces, MAX_ROUTINE_ID } from '../../content/schema.js';
import { formatDuration, framesSeconds } from '../../pacing.js';
import { caution, context, reply, text, type Action, type Reply } from '../../reply.js';
import { recordActivity } from '../../../db/activity.js';
import { processedEvents } from '../../../db/schema.js';
import { recentRoutineIds } from './store.js';

export { DISCLAIMER } from '../../disclaimer.js';
import { DISCLAIMER } from '../../disclaimer.js';

/** A session as its buttons know it: source, routine id, start time (ms, which also identifies it), planned seconds. */
const sessionShape = z.object({
  s: z.enum(sessionSources),
  r: z.string().min(1).max(MAX_ROUTINE_ID),
  t: z.number().int().positive(),
  d: z
    .number()
    .int()
    .min(0)
    .max(24 * 3600),
});
export type SessionValue = z.infer<typeof sessionShape>;

/** One letter per source on the wire. Fixed: changing a letter expires the buttons already sent. */
const sourceCodes: Record<SessionSource, string> = {
  breathe: 'b',
  stretch: 's',
  roll: 'r',
  relax: 'x',
  routine: 'o',
  strengthen: 'g',
  habits: 'h',
};
const sourceOfCode = new Map(Object.entries(sourceCodes).map(([source, code]) => [code, source as SessionSource]));
const packedSession = /^([a-z])([0-9a-z]{1,10})\.([0-9a-z]{1,4})\.([a-z0-9-]+)$/;

/**
 * `<source letter><start ms, base 36>.<planned seconds, base 36>.<routine id>`. Discord caps a custom id (action
 * id + signed value) at 100 characters; as JSON fields the longest routine ids no longer fit once signed, and a
 * value that does not fit is only kept in one process's memory (lost at a restart).
 */
function packSession(value: SessionValue): { v: string } {
  return { v: `${sourceCodes[value.s]}${value.t.toString(36)}.${value.d.toString(36)}.${value.r}` };
}

export const sessionValueSchema = z.object({ v: z.string().max(64) }).transform((packed, ctx): SessionValue => {
  const parts = packedSession.exec(packed.v);
  const session = parts
    ? sessionShape.safeParse({
        s: sourceOfCode.get(parts[1]!),
        r: parts[4],
        t: parseInt(parts[2]!, 36),
        d: parseInt(parts[3]!, 36),
      })
    : undefined;
  if (!session?.success) {
    ctx.addIssue({ code: 'custom', message: 'not a session value' });
    return z.NEVER;
  }
  return session.data;
});

const GUIDED_ACTIONS = {
  complete: 'guided.complete',
  done: 'guided.done',
  another: 'guided.another',
  stop: 'guided.stop',
  feel: 'guided.feel',
} as const;

/** One live session per person: a new one replaces the one still playing. */
function sessionIdFor(ctx: Pick<CommandContext, 'actor'>): string {
  const { platform, workspaceExternalId, userExternalId } = ctx.actor;
  return `guided:${platform}:${workspaceExternalId}:${userExternalId}`;
}

export function noLibraryReply(): Reply {
  const message =
    'Routines are not available right now (the routine library is not loaded). Please tell whoever runs Backcare.';
  return reply(message, [text(message)]);
}

/** The library for the person's workspace: the built-ins plus that team's own routines (see workspace-routines.ts). */
export async function requireLibrary(ctx: CommandContext): Promise<RoutineLibrary | null> {
  if (!ctx.deps.library) {
    ctx.log.error({ event: 'guided.no_library' }, 'guided command without a routine library');
    return null;
  }
  return libraryFor(ctx);
}

/** Routine ids this person did most recently (nothing is created for someone Backcare has not met). */
export async function recentFor(ctx: CommandContext): Promise<string[]> {
  const found = await ctx.findUser();
  return found ? recentRoutineIds(ctx.db, found.user.id, 5) : [];
}

/**
 * Sessions started and not yet ended, per core and per person. The adapter stops a playing sequence when the
 * same person starts another one; this is how the core learns of it and records the first one as stopped.
 * In memory: with several replicas, a replaced session started on another replica goes unrecorded.
 */
const openSessions = new WeakMap<CoreDeps, Map<string, SessionValue>>();

function openSessionsOf(ctx: CommandContext): Map<string, SessionValue> {
  let open = openSessions.get(ctx.deps);
  if (!open) {
    open = new Map();
    openSessions.set(ctx.deps, open);
  }
  return open;
}

/** The reply that starts a live session: intro and cautions now, the frames as a sequence, buttons while it plays. */
export async function startSession(
  ctx: CommandContext,
  plan: SessionPlan,
  options: { replaceOriginal?: boolean } = {},
): Promise<Reply> {
  const sessionId = sessionIdFor(ctx);
  const previous = openSessionsOf(ctx).get(sessionId);
  if (previous) await recordSession(ctx, previous, 'stopped', elapsedSeconds(ctx, previous));
  const seconds = framesSeconds(plan.frames);
  const value: SessionValue = { s: plan.source, r: plan.routineId, t: ctx.now().getTime(), d: seconds };
  openSessionsOf(ctx).set(sessionId, value);
  const encoded = encodeActionValue(packSession(value));
  const actions: Action[] = [];
  if (plan.source !== 'breathe')
    actions.push({ type: 'button', actionId: GUIDED_ACTIONS.done, label: 'Done', value: encoded, style: 'primary' });
  if (plan.offerAnother)
    actions.push({ type: 'button', actionId: GUIDED_ACTIONS.another, label: 'Another one', value: encoded });
  actions.push({ type: 'button', actionId: GUIDED_ACTIONS.stop, label: 'Stop', value: encoded, style: 'danger' });

  const blocks = sessionIntroBlocks(plan, seconds, DISCLAIMER);

  return reply(`${plan.title}: guided session, about ${formatDuration(seconds)}`, blocks, {
    actions,
    ...(options.replaceOriginal ? { replaceOriginal: true } : {}),
    sequence: {
      sessionId,
      frames: plan.frames,
      staticBlocks: plan.staticBlocks,
      onComplete: { actionId: GUIDED_ACTIONS.complete, value: encoded },
      actions,
    },
  });
}

/** How long the session ran, by the clock, never more than planned. */
function elapsedSeconds(ctx: CommandContext, value: SessionValue): number {
  const seconds = Math.round((ctx.now().getTime() - value.t) / 1000);
  return Math.max(0, Math.min(value.d, seconds));
}

/**
 * One activity event per session, whatever ends it first: the key (a hash, so no platform id is kept outside
 * the user's own rows) makes a repeated press, a retried delivery or "Done" after "Stop" record nothing more.
 */
async function recordSession(
  ctx: CommandContext,
  value: SessionValue,
  outcome: 'completed' | 'stopped' | 'skipped',
  durationSeconds: number,
): Promise<boolean> {
  const open = openSessionsOf(ctx);
  if (open.get(sessionIdFor(ctx))?.t === value.t) open.delete(sessionIdFor(ctx));
  const { workspace, user } = await ctx.ensureUser();
  const key = `guided:${createHash('sha256')
    .update(`${sessionIdFor(ctx)}:${value.t}`)
    .digest('hex')
    .slice(0, 40)}`;
  const recorded = await ctx.db.transaction(async (tx) => {
    const claimed = await tx
      .insert(processedEvents)
      .values({ key })
      .onConflictDoNothing()
      .returning({ key: processedEvents.key });
    if (claimed.length === 0) return false;
    await recordActivity(
      tx,
      { userId: user.id, workspaceId: workspace.id },
      { kind: 'session', outcome, source: value.s, routineId: value.r, durationSeconds },
      ctx.now(),
    );
    return true;
  });
  ctx.log.info(
    { event: 'guided.session_ended', outcome, source: value.s, routineId: value.r, durationSeconds, recorded },
    'guided session ended',
  );
  return recorded;
}

const feelings = {
  better: 'Better',
  same: 'About the same',
  worse: 'Worse',
} as const;
type Feeling = keyof typeof feelings;

function titleOf(library: RoutineLibrary | null, value: SessionValue): string {
  const routine = library?.get(value.r);
  if (routine) return routine.title;
  if (value.r.startsWith('programme-')) return 'your routine';
  return 'your session';
}

async function howDoYouFeel(ctx: CommandContext, value: SessionValue, seconds: number): Promise<Reply> {
  const title = titleOf(await libraryFor(ctx), value);
  const lead = `Well done: you finished ${title} (${formatDuration(seconds)}). How do you feel?`;
  return reply(
    lead,
    [text(`*Well done.* You finished ${title} (${formatDuration(seconds)}).`), text('*How do you feel?*')],
    {
      replaceOriginal: true,
      actions: (Object.keys(feelings) as Feeling[]).map((f) => ({
        type: 'button' as const,
        actionId: GUIDED_ACTIONS.feel,
        label: feelings[f],
        value: encodeActionValue({ f }),
      })),
    },
  );
}

const complete = defineAction({
  actionId: GUIDED_ACTIONS.complete,
  value: sessionValueSchema,
  async run(ctx, value) {
    await recordSession(ctx, value, 'completed', value.d);
    return howDoYouFeel(ctx, value, value.d);
  },
});

/**
 * A session counts as completed only when at least half of its planned time was played: "Done" pressed
 * sooner ends it early, recorded as stopped, so it adds nothing to personal or team figures.
 */
function playedEnough(value: Pick<SessionValue, 'd'>, seconds: number): boolean {
  return seconds * 2 >= value.d;
}

async function endedEarly(ctx: CommandContext, value: SessionValue, seconds: number): Promise<Reply> {
  const title = titleOf(await libraryFor(ctx), value);
  const message = `Ended after ${formatDuration(seconds)}: not counted as done.`;
  return reply(
    message,
    [
      text(`*${message}*`),
      text(
        `${title.charAt(0).toUpperCase()}${title.slice(1)} counts as done once you have followed at least half of it (about ${formatDuration(Math.ceil(value.d / 2))}). That is fine: come back any time with \`/backcare help\`.`,
      ),
    ],
    { replaceOriginal: true },
  );
}

const done = defineAction({
  actionId: GUIDED_ACTIONS.done,
  value: sessionValueSchema,
  async run(ctx, value) {
    const seconds = elapsedSeconds(ctx, value);
    if (!playedEnough(value, seconds)) {
      await recordSession(ctx, value, 'stopped', seconds);
      return endedEarly(ctx, value, seconds);
    }
    await recordSession(ctx, value, 'completed', seconds);
    return howDoYouFeel(ctx, value, seconds);
  },
});

const stop = defineAction({
  actionId: GUIDED_ACTIONS.stop,
  value: sessionValueSchema,
  async run(ctx, value) {
    await recordSession(ctx, value, 'stopped', elapsedSeconds(ctx, value));
    const message = 'Stopped. That is fine: even a minute helps. Come back any time with `/backcare help`.';
    return reply(message, [text(message)], { replaceOriginal: true });
  },
});

const another = defineAction({
  actionId: GUIDED_ACTIONS.another,
  value: sessionValueSchema,
  async run(ctx, value) {
    const library = await requireLibrary(ctx);
    if (!library) return noLibraryReply();
    await recordSession(ctx, value, 'skipped', elapsedSeconds(ctx, value));
    const current = library.get(value.r);
    const recent = await recentFor(ctx);
    // Floor work only after floor work (asked for by `floor` or by id); otherwise the next one is done at the desk too.
    const places = current?.place === 'floor' ? undefined : deskPlaces;
    const next = current
      ? library.pick(
          { kinds: kindGroup(current.kind), ...(places ? { places } : {}) },
          { avoid: [current.id, ...recent] },
        )
      : undefined;
    if (!next || next.id === value.r) {
      const message = 'That is the only routine of this sort I have. Try `/backcare routine list` for the others.';
      return reply(message, [text(message)], { replaceOriginal: true });
    }
    return startSession(ctx, routinePlan(next, value.s), { replaceOriginal: true });
  },
});

const feel = defineAction({
  actionId: GUIDED_ACTIONS.feel,
  value: z.object({ f: z.enum(['better', 'same', 'worse']) }),
  // How someone feels is a health answer: it is acknowledged, never stored.
  async run(_ctx, value) {
    switch (value.f) {
      case 'better':
        return reply(
          'Glad it helped.',
          [text('Glad it helped. A few minutes like this, a few times a day, add up.'), context(DISCLAIMER)],
          { replaceOriginal: true },
        );
      case 'same':
        return reply(
          'Thanks for trying it.',
          [
            text('Thanks for trying it. Small, regular breaks make the difference over days and weeks, not minutes.'),
            context(DISCLAIMER),
          ],
          {
            replaceOriginal: true,
          },
        );
      case 'worse':
        return reply(
          'Sorry it did not help.',
          [
            caution(
              'If you have chest pain, trouble breathing, sudden weakness or numbness, or loss of bladder or bowel control, call emergency services now.',
            ),
            text(
              'Sorry it did not help. Leave that exercise for now. If pain is sharp, spreading, getting worse, or comes with numbness or tingling, please talk to a GP, physiotherapist or other health professional.',
            ),
            context(DISCLAIMER),
          ],
          { replaceOriginal: true },
        );
    }
  },
});

export const guidedActions: RegisteredAction[] = [complete, done, stop, another, feel];
