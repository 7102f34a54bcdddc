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
  describeInterval,
  nudgeKindNames,
  nudgeKinds,
  weekdayNames,
  weekdays,
  type Preferences,
} from '../../preferences.js';
import { context, header, reply, yesNoOptions, type Action, type Form, type Reply } from '../../reply.js';
import { formErrorsReply } from '../../form-errors.js';
import { resolveChannel } from '../../channel-messenger.js';
import {
  applySettingsForm,
  currentPreferences,
  formatHoursText,
  settingsFieldErrors,
  storePreferences,
} from '../../settings-service.js';

const SETTINGS_FORM = 'settings';
/** Where per-weekday hours, the daily maximum and days off are set: own commands, so the main form stays as it was. */
const MORE_SETTINGS_HINT =
  'Different hours on some days and the most nudges a day: `/backcare hours`. Holidays and sick leave: `/backcare days-off`.';

function formatInstant(date: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).format(date);
}

export function describePreferences(prefs: Preferences, now: Date): { label: string; value: string }[] {
  const fields = [
    { label: 'Nudges', value: prefs.optedIn ? 'on' : 'off' },
    {
      label: 'Working hours',
      value: `${prefs.start}–${prefs.end}${prefs.end < prefs.start ? ' (past midnight)' : ''}, ${describeDays(prefs.days)}`,
    },
    { label: 'Timezone', value: prefs.timezone },
    ...(formatHoursText(prefs) ? [{ label: 'Different hours', value: formatHoursText(prefs) }] : []),
    ...(prefs.daysOff && prefs.daysOff.length > 0
      ? [
          {
            label: 'Days off',
            value: prefs.daysOff.map((d) => (d.from === d.to ? d.from : `${d.from} to ${d.to}`)).join(', '),
          },
        ]
      : []),
    { label: 'How often', value: describeInterval(prefs.everyMinutes) },
    { label: 'Most a day', value: `${prefs.maxPerDay ?? DEFAULT_MAX_PER_DAY} nudges` },
    { label: 'Kinds', value: prefs.kinds.map((k) => nudgeKindNames[k]).join(', ') },
    {
      label: 'Delivered to',
      value: prefs.delivery === 'dm' ? 'direct message' : `team channel ${prefs.channelId ?? ''}`.trim(),
    },
  ];
  if (prefs.snoozedUntil && prefs.snoozedUntil > now) {
    fields.push({ label: 'Quiet until', value: formatInstant(prefs.snoozedUntil, prefs.timezone) });
  }
  if (prefs.pausedReason) fields.push({ label: 'Paused', value: prefs.pausedReason });
  return fields;
}

export function settingsForm(prefs: Preferences): Form {
  return {
    formId: SETTINGS_FORM,
    title: 'Backcare settings',
    submitLabel: 'Save',
    fields: [
      {
        id: 'optedIn',
        label: 'Send me desk-break nudges',
        kind: 'select',
        options: yesNoOptions,
        initial: prefs.optedIn ? 'yes' : 'no',
      },
      {
        id: 'timezone',
        label: 'Timezone',
        kind: 'timezone',
        initial: prefs.timezone,
        hint: 'e.g. Europe/London, America/New_York',
      },
      {
        id: 'days',
        label: 'Working days',
        kind: 'multiselect',
        options: weekdays.map((d) => ({ label: weekdayNames[d], value: d })),
        initial: [...prefs.days],
      },
      { id: 'start', label: 'Start of working day', kind: 'time', initial: prefs.start, hint: '24-hour HH:MM' },
      {
        id: 'end',
        label: 'End of working day',
        kind: 'time',
        initial: prefs.end,
        hint: '24-hour HH:MM; earlier than the start means past midnight',
      },
      {
        id: 'everyMinutes',
        label: 'Minutes between nudges',
        kind: 'number',
        initial: String(prefs.everyMinutes),
        min: 10,
        max: 480,
      },
      {
        id: 'kinds',
        label: 'Kinds of nudge',
        kind: 'multiselect',
        options: nudgeKinds.map((k) => ({ label: nudgeKindNames[k], value: k })),
        initial: [...prefs.kinds],
      },
      {
        id: 'delivery',
        label: 'Where nudges go',
        kind: 'select',
        options: [
          { label: 'Direct message', value: 'dm' },
          { label: 'A team channel', value: 'channel' },
        ],
        initial: prefs.delivery,
      },
      {
        id: 'channelId',
        label: 'Team channel (if posting to a channel)',
        kind: 'channel',
        ...(prefs.channelId ? { initial: prefs.channelId } : {}),
        optional: true,
      },
      {
        id: 'pause',
        label: 'Quiet time',
        kind: 'select',
        options: [
          { label: 'Leave as it is', value: 'keep' },
          { label: 'No quiet time', value: 'none' },
          { label: 'Quiet for an hour', value: '1h' },
          { label: 'Quiet for the rest of today', value: 'today' },
          { label: 'Quiet for a week', value: 'week' },
        ],
        initial: 'keep',
      },
    ],
  };
}

/** Edit settings, and turn nudges on or off: on the settings reply and on the Home tab. */
export function settingsActions(optedIn: boolean): Action[] {
  return [
    {
      type: 'button',
      actionId: 'settings.edit',
      label: 'Edit settings',
      value: encodeActionValue({}),
      style: 'primary',
    },
    {
      type: 'button',
      actionId: 'settings.nudges',
      label: optedIn ? 'Turn nudges off' : 'Turn nudges on',
      value: encodeActionValue({ on: !optedIn }),
    },
  ];
}

function settingsReply(prefs: Preferences, now: Date, lead = 'Your Backcare settings'): Reply {
  return reply(
    lead,
    [
      header(lead),
      { type: 'fields', fields: describePreferences(prefs, now) },
      context('Nudges only come during your working hours, and only if you turn them on.'),
      context(MORE_SETTINGS_HINT),
    ],
    {
      actions: [
        ...settingsActions(prefs.optedIn),
        {
          type: 'button',
          actionId: 'forget.ask',
          label: 'Delete my data',
          value: encodeActionValue({}),
          style: 'danger',
        },
      ],
    },
  );
}

/** Opens the form; the blocks are empty because the form is the whole reply. */
const editReply = (prefs: Preferences): Reply => ({
  ...reply('Edit your Backcare settings', []),
  form: settingsForm(prefs),
});

async function load(ctx: CommandContext): Promise<{ userId: number; prefs: Preferences }> {
  const { user } = await ctx.ensureUser();
  return { userId: user.id, prefs: await currentPreferences(ctx.db, user.id, ctx.actor.timezone) };
}

async function setNudges(ctx: CommandContext, on: boolean): Promise<Reply> {
  const { userId, prefs } = await load(ctx);
  const updated: Preferences = { ...prefs, optedIn: on, pausedReason: on ? null : prefs.pausedReason };
  await storePreferences(ctx.db, userId, updated, ctx.now(), ctx.deps.nextSlot);
  const lead = on
    ? `Nudges are on: ${describeInterval(updated.everyMinutes)}, ${updated.start}–${updated.end} ${describeDays(updated.days)} (${updated.timezone}).`
    : 'Nudges are off. You will not get any until you turn them back on.';
  return settingsReply(updated, ctx.now(), lead);
}

const settings = defineCommand({
  name: 'settings',
  summary: 'turn nudges on or off, set your hours, days, timezone, frequency, kinds and quiet time',
  usage: '/backcare settings [edit|on|off]',
  options: [
    {
      type: 'string',
      name: 'mode',
      description: 'show (default), edit, on or off',
      choices: [{ value: 'show' }, { value: 'edit' }, { value: 'on', label: 'on (opt in)' }, { value: 'off' }],
    },
    {
      type: 'timezone',
      name: 'timezone',
      description: 'your timezone (Discord does not share it): start typing a city',
    },
  ],
  examples: ['/backcare settings', '/backcare settings on'],
  args: z
    .array(z.string())
    .max(1, 'settings takes at most one word: edit, on or off')
    .transform((t) => t[0]?.toLowerCase() ?? 'show')
    .pipe(z.enum(['show', 'edit', 'on', 'off'], { error: 'settings takes edit, on or off' })),
  async run(ctx, mode) {
    if (mode === 'on' || mode === 'off') return setNudges(ctx, mode === 'on');
    const { prefs } = await load(ctx);
    if (mode === 'edit') return editReply(prefs);
    return settingsReply(prefs, ctx.now());
  },
});

const editAction = defineAction({
  actionId: 'settings.edit',
  value: z.object({}),
  async run(ctx) {
    const { prefs } = await load(ctx);
    return editReply(prefs);
  },
});

const nudgesAction = defineAction({
  actionId: 'settings.nudges',
  value: z.object({ on: z.boolean() }),
  run: (ctx, value) => setNudges(ctx, value.on),
});

/**
 * Where there are no channels (the console: no channel messenger, the same check `invite` makes), a team channel
 * could never be posted to, so choosing one is refused rather than stored.
 */
function channelErrors(ctx: CommandContext, values: Record<string, string | string[]>): Record<string, string> {
  if (ctx.deps.channelMessengers?.some((m) => m.platform === ctx.actor.platform)) return {};
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();
  const errors: Record<string, string> = {};
  if (one(values.delivery) === 'channel')
    errors.delivery =
      'there are no channels here: nudges come to you directly (channel posts work on Slack and Discord)';
  if (one(values.channelId) !== '') errors.channelId = 'there are no channels here: leave it empty';
  return errors;
}

const settingsSubmit = defineForm({
  formId: SETTINGS_FORM,
  check: (values) => settingsFieldErrors(values),
  async submit(ctx, values) {
    const { userId, prefs } = await load(ctx);
    const result = applySettingsForm(prefs, values, ctx.now(), (typed) =>
      resolveChannel(ctx.deps.channelMessengers, ctx.actor, typed),
    );
    const noChannel = channelErrors(ctx, values);
    const errors: Record<string, string> = { ...(result.ok ? {} : result.errors), ...noChannel };
    // "Name the team channel" would only send the person looking for something that does not exist here.
    if (noChannel.delivery && !noChannel.channelId) delete errors.channelId;
    if (!result.ok || Object.keys(errors).length > 0) {
      ctx.log.info({ event: 'settings.invalid', fields: Object.keys(errors) }, 'settings form had errors');
      return formErrorsReply(settingsForm(prefs), errors, 'Some settings need another look:');
    }
    await storePreferences(ctx.db, userId, result.prefs, ctx.now(), ctx.deps.nextSlot);
    return settingsReply(result.prefs, ctx.now(), 'Saved. Your Backcare settings');
  },
});

export const settingsFeature: Feature = {
  commands: [settings],
  actions: [editAction, nudgesAction],
  forms: [settingsSubmit],
};
