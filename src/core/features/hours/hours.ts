import { z } from 'zod';
import {
  defineAction,
  defineCommand,
  defineForm,
  encodeActionValue,
  type CommandContext,
  type Feature,
} from '../../command.js';
import {
  DEFAULT_MAX_PER_DAY,
  describeDays,
  maxPerDaySchema,
  preferencesSchema,
  type Preferences,
} from '../../preferences.js';
import { context, header, reply, text, type Form, type Reply } from '../../reply.js';
import { formErrorsReply } from '../../form-errors.js';
import { applyHoursText, currentPreferences, formatHoursText, storePreferences } from '../../settings-service.js';

/**
 * `/backcare hours`: different working hours on some weekdays and the most nudges a day. A small
 * form of its own, so the main settings form (and every client that walks it field by field) stays as it was.
 */
const HOURS_FORM = 'hours';
const USAGE = '/backcare hours [edit | fri 09:00-13:00, sat off | clear | max N]';

type Args =
  | { mode: 'show' }
  | { mode: 'edit' }
  | { mode: 'clear' }
  | { mode: 'max'; value: string }
  | { mode: 'set'; text: string };

const argsSchema = z.array(z.string()).transform((tokens): Args => {
  const first = tokens[0]?.toLowerCase();
  if (first === undefined || (first === 'show' && tokens.length === 1)) return { mode: 'show' };
  if (first === 'edit' && tokens.length === 1) return { mode: 'edit' };
  if (first === 'clear' && tokens.length === 1) return { mode: 'clear' };
  if (first === 'max') return { mode: 'max', value: tokens.slice(1).join(' ') };
  return { mode: 'set', text: tokens.join(' ') };
});

function hoursForm(prefs: Preferences): Form {
  return {
    formId: HOURS_FORM,
    title: 'Hours and daily maximum',
    submitLabel: 'Save',
    fields: [
      {
        id: 'hours',
        label: 'Different hours on some days',
        kind: 'text',
        initial: formatHoursText(prefs),
        hint: 'e.g. fri 09:00-13:00, sat off; empty: the same hours every working day',
        optional: true,
        maxLength: 200,
      },
      {
        id: 'maxPerDay',
        label: 'Most nudges a day',
        kind: 'number',
        initial: String(prefs.maxPerDay ?? DEFAULT_MAX_PER_DAY),
        min: 1,
        max: 48,
      },
    ],
  };
}

function hoursReply(prefs: Preferences, lead: string): Reply {
  const perDay = formatHoursText(prefs);
  return reply(
    lead,
    [
      header(lead),
      {
        type: 'fields',
        fields: [
          { label: 'Working hours', value: `${prefs.start}–${prefs.end}, ${describeDays(prefs.days)}` },
          { label: 'Different hours', value: perDay || 'none' },
          { label: 'Most a day', value: `${prefs.maxPerDay ?? DEFAULT_MAX_PER_DAY} nudges` },
        ],
      },
      context(
        'Set them like `/backcare hours fri 09:00-13:00, sat off` or `/backcare hours max 6`. Holidays: `/backcare days-off`.',
      ),
    ],
    {
      actions: [
        { type: 'button', actionId: 'hours.edit', label: 'Change', value: encodeActionValue({}), style: 'primary' },
      ],
    },
  );
}

async function load(ctx: CommandContext): Promise<{ userId: number; prefs: Preferences }> {
  const { user } = await ctx.ensureUser();
  return { userId: user.id, prefs: await currentPreferences(ctx.db, user.id, ctx.actor.timezone) };
}

type Applied = { ok: true; prefs: Preferences; notes: string[] } | { ok: false; errors: Record<string, string> };

/** Per-day hours text and/or the daily maximum applied to the current preferences, validated as a whole (every problem at once). */
function apply(
  current: Preferences,
  changes: { hours?: string; maxPerDay?: string },
  mode: 'merge' | 'replace' = 'replace',
): Applied {
  let next: Preferences = current;
  const errors: Record<string, string> = {};
  let notes: string[] = [];
  if (changes.hours !== undefined) {
    const applied = applyHoursText(current, changes.hours, mode);
    if (applied.ok) {
      next = { ...next, ...applied.weekly };
      notes = applied.notes;
    } else errors.hours = applied.error;
  }
  if (changes.maxPerDay !== undefined) {
    const trimmed = changes.maxPerDay.trim();
    const max = /^\d+$/.test(trimmed) ? maxPerDaySchema.safeParse(Number(trimmed)) : null;
    if (max?.success) next = { ...next, maxPerDay: max.data };
    else errors.maxPerDay = max?.error.issues[0]?.message ?? 'the daily maximum must be a whole number';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const parsed = preferencesSchema.safeParse(next);
  if (!parsed.success) {
    // "sat off" on someone who only works Saturdays leaves no working day: that is the hours field's doing.
    return { ok: false, errors: { hours: parsed.error.issues[0]?.message ?? 'those hours are not valid' } };
  }
  return { ok: true, prefs: parsed.data, notes };
}

/** Saves, then shows the hours, leading with every change of working days so none happens silently. */
async function saveAndShow(ctx: CommandContext, userId: number, prefs: Preferences, notes: string[]): Promise<Reply> {
  await storePreferences(ctx.db, userId, prefs, ctx.now(), ctx.deps.nextSlot);
  const shown = hoursReply(prefs, 'Saved. Your hours');
  if (notes.length === 0) return shown;
  return {
    ...shown,
    summary: `${notes.join(' ')} ${shown.summary}`,
    blocks: [...notes.map((n) => text(n)), ...shown.blocks],
  };
}

const hours = defineCommand({
  name: 'hours',
  summary: 'different working hours on some weekdays, and the most nudges a day',
  usage: USAGE,
  examples: ['/backcare hours fri 09:00-13:00, sat off', '/backcare hours max 6', '/backcare hours edit'],
  args: argsSchema,
  async run(ctx, args) {
    const { userId, prefs } = await load(ctx);
    if (args.mode === 'show') return hoursReply(prefs, 'Your hours');
    if (args.mode === 'edit') return { ...reply('Edit your hours', []), form: hoursForm(prefs) };
    // A typed day changes only that day; `clear` drops every per-day hour (and the working days they added).
    const result =
      args.mode === 'max'
        ? apply(prefs, { maxPerDay: args.value })
        : args.mode === 'clear'
          ? apply(prefs, { hours: '' })
          : apply(prefs, { hours: args.text }, 'merge');
    if (!result.ok) {
      const message = Object.values(result.errors)[0] ?? 'that is not valid';
      return reply(message, [text(`${message}. Usage: \`${USAGE}\``)]);
    }
    return saveAndShow(ctx, userId, result.prefs, result.notes);
  },
});

const editAction = defineAction({
  actionId: 'hours.edit',
  value: z.object({}),
  async run(ctx) {
    const { prefs } = await load(ctx);
    return { ...reply('Edit your hours', []), form: hoursForm(prefs) };
  },
});

const single = z.union([
  z.string(),
  z
    .array(z.string())
    .length(1)
    .transform((a) => a[0]!),
]);
const formValues = z.object({ hours: single.optional(), maxPerDay: single.optional() });

const hoursSubmit = defineForm({
  formId: HOURS_FORM,
  async submit(ctx, values) {
    const { userId, prefs } = await load(ctx);
    const parsed = formValues.safeParse(values);
    const result: Applied = parsed.success
      ? apply(prefs, {
          ...(parsed.data.hours !== undefined ? { hours: parsed.data.hours } : {}),
          ...(parsed.data.maxPerDay !== undefined ? { maxPerDay: parsed.data.maxPerDay } : {}),
        })
      : { ok: false, errors: { hours: 'answer with text' } };
    if (!result.ok) {
      ctx.log.info({ event: 'hours.invalid', fields: Object.keys(result.errors) }, 'hours form had errors');
      return formErrorsReply(hoursForm(prefs), result.errors, 'Some settings need another look:');
    }
    return saveAndShow(ctx, userId, result.prefs, result.notes);
  },
});

export const hoursFeature: Feature = { commands: [hours], actions: [editAction], forms: [hoursSubmit] };
