import { DateTime } from 'luxon';
import { z } from 'zod';
import { defineCommand, type CommandContext, type Feature } from '../../command.js';
import { dayOffSchema, localDateSchema, MAX_DAYS_OFF, type DayOff, type Preferences } from '../../preferences.js';
import { bullets, context, reply, text, type Reply } from '../../reply.js';
import { currentPreferences, storePreferences } from '../../settings-service.js';

const USAGE = '/backcare days-off [list | add YYYY-MM-DD [YYYY-MM-DD] | remove N]';

type Args = { mode: 'list' } | { mode: 'add'; from: string; to: string } | { mode: 'remove'; index: number };

/** The first word picks the form; each form then says precisely what is wrong with the rest. */
const argsSchema = z.array(z.string()).transform((tokens, ctx): Args => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const [word, ...rest] = tokens;
  switch (word?.toLowerCase()) {
    case undefined:
    case 'list':
      return rest.length === 0 ? { mode: 'list' } : fail(`list takes nothing more; use: ${USAGE}`);
    case 'add': {
      if (rest.length < 1 || rest.length > 2)
        return fail('add takes a first and an optional last day, like: add 2026-12-24 2026-12-26');
      const dates: string[] = [];
      for (const token of rest) {
        const date = localDateSchema.safeParse(token);
        if (!date.success) return fail(`${token}: ${date.error.issues[0]?.message ?? 'not a date'}`);
        dates.push(date.data);
      }
      return { mode: 'add', from: dates[0]!, to: dates[1] ?? dates[0]! };
    }
    case 'remove':
      return rest.length === 1 && /^\d{1,3}$/.test(rest[0]!)
        ? { mode: 'remove', index: Number(rest[0]) }
        : fail('remove takes the number shown by `/backcare days-off list`');
    default:
      return fail(`use: ${USAGE}`);
  }
});

const sorted = (days: readonly DayOff[]) =>
  [...days].sort((a, b) => (a.from === b.from ? a.to.localeCompare(b.to) : a.from.localeCompare(b.from)));

/** Today in the person's timezone, `YYYY-MM-DD`: ranges that ended before it are kept no longer. */
const localToday = (now: Date, timezone: string) =>
  DateTime.fromJSDate(now).setZone(timezone).toISODate() ?? now.toISOString().slice(0, 10);

function describeRange(day: DayOff): string {
  const show = (iso: string) => DateTime.fromISO(iso).toFormat('ccc d LLL yyyy');
  return day.from === day.to ? show(day.from) : `${show(day.from)} to ${show(day.to)}`;
}

function listReply(prefs: Preferences, lead: string): Reply {
  const days = sorted(prefs.daysOff ?? []);
  if (days.length === 0) {
    return reply(lead, [
      text(lead),
      context(
        'No days off. Add one with `/backcare days-off add 2026-12-24 2026-12-26`: no nudges come on those dates.',
      ),
    ]);
  }
  return reply(lead, [
    text(lead),
    bullets(days.map((d, i) => `${i + 1}. ${describeRange(d)}`)),
    context(
      `No nudges on these dates (your timezone, ${prefs.timezone}). Remove one with \`/backcare days-off remove N\`.`,
    ),
  ]);
}

async function save(ctx: CommandContext, userId: number, prefs: Preferences, daysOff: DayOff[]): Promise<Preferences> {
  const updated: Preferences = { ...prefs, daysOff: sorted(daysOff) };
  await storePreferences(ctx.db, userId, updated, ctx.now(), ctx.deps.nextSlot);
  return updated;
}

/** `/backcare days-off`: holidays and sick leave, as local date ranges, when no nudges come. */
const daysOff = defineCommand({
  name: 'days-off',
  aliases: ['holiday'],
  summary: 'add days off (holiday, sick leave) when no nudges come, list or remove them',
  usage: USAGE,
  examples: ['/backcare days-off add 2026-12-24 2026-12-26', '/backcare days-off list', '/backcare days-off remove 1'],
  args: argsSchema,
  async run(ctx, args) {
    const { user } = await ctx.ensureUser();
    const prefs = await currentPreferences(ctx.db, user.id, ctx.actor.timezone);
    const current = sorted(prefs.daysOff ?? []);
    if (args.mode === 'list') return listReply(prefs, 'Your days off');

    if (args.mode === 'remove') {
      const removed = current[args.index - 1];
      if (!removed) return listReply(prefs, `There is no day off number ${args.index}.`);
      const updated = await save(
        ctx,
        user.id,
        prefs,
        current.filter((_, i) => i !== args.index - 1),
      );
      return listReply(updated, `Removed ${describeRange(removed)}.`);
    }

    const range = dayOffSchema.safeParse({ from: args.from, to: args.to });
    if (!range.success)
      return reply('Those dates do not work.', [
        text(`${range.error.issues[0]?.message ?? 'invalid dates'}. Usage: \`${USAGE}\``),
      ]);
    const today = localToday(ctx.now(), prefs.timezone);
    if (range.data.to < today)
      return reply('That is in the past.', [
        text(`${describeRange(range.data)} has already gone by; add dates from today (${today}) on.`),
      ]);
    const kept = current.filter((d) => d.to >= today && !(d.from === range.data.from && d.to === range.data.to));
    if (kept.length >= MAX_DAYS_OFF)
      return listReply(prefs, `You already have ${MAX_DAYS_OFF} ranges of days off; remove one first.`);
    const updated = await save(ctx, user.id, prefs, [...kept, range.data]);
    const lead = `Added ${describeRange(range.data)}: no nudges then.`;
    return listReply(
      updated,
      prefs.optedIn ? lead : `${lead} (Nudges are off anyway; \`/backcare settings on\` turns them on.)`,
    );
  },
});

export const daysOffFeature: Feature = { commands: [daysOff] };
