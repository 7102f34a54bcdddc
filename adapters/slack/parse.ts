import { parse as parseQuery } from 'node:querystring';
import { z } from 'zod';
import type { CoreInput } from '../../src/core/ports.js';

/**
 * Slack payloads → the core's inputs. Every shape is validated here with zod before anything else
 * looks at it; fields Slack may add later are tolerated, fields we rely on are required. Objects on the path to a
 * form's ack (a settings submission validates before it is acknowledged) drop the fields we do not read
 * (`z.object`) rather than copy them (`z.looseObject`): copying every unknown key of every option and field cost
 * the largest part of a 200-submission burst's ack time in a profile of the acks bench.
 */

const id = z.string().min(1).max(200);

/** `/backcare …`: form-encoded, one flat object. */
export const slashCommandSchema = z.looseObject({
  command: z.string().startsWith('/'),
  text: z.string().max(2000).default(''),
  team_id: id,
  team_domain: z.string().optional(),
  enterprise_id: z.string().optional(),
  user_id: id,
  user_name: z.string().optional(),
  channel_id: id,
  response_url: z.url().optional(),
  trigger_id: z.string().min(1),
});
export type SlashCommand = z.infer<typeof slashCommandSchema>;

const userRef = z.object({
  id,
  username: z.string().optional(),
  name: z.string().optional(),
  team_id: z.string().optional(),
});
const teamRef = z.object({ id, domain: z.string().optional() }).nullable().optional();

const optionSchema = z.object({ value: z.string() });

export const actionElementSchema = z.looseObject({
  action_id: z.string().min(1).max(255),
  block_id: z.string().optional(),
  type: z.string(),
  value: z.string().max(2000).optional(),
  selected_option: optionSchema.nullable().optional(),
});

export const blockActionsSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: userRef,
  team: teamRef,
  trigger_id: z.string().optional(),
  response_url: z.url().optional(),
  container: z
    .looseObject({
      type: z.string(),
      message_ts: z.string().optional(),
      channel_id: z.string().optional(),
      is_ephemeral: z.boolean().optional(),
      view_id: z.string().optional(),
    })
    .optional(),
  channel: z.looseObject({ id }).optional(),
  view: z.looseObject({ id: z.string(), type: z.string(), private_metadata: z.string().optional() }).optional(),
  actions: z.array(actionElementSchema).min(1).max(25),
});
export type BlockActions = z.infer<typeof blockActionsSchema>;

const stateValueSchema = z.object({
  type: z.string(),
  value: z.string().max(3000).nullable().optional(),
  selected_time: z.string().nullable().optional(),
  selected_option: optionSchema.nullable().optional(),
  selected_options: z.array(optionSchema).max(100).optional(),
  selected_conversation: z.string().max(100).nullable().optional(),
  selected_channel: z.string().max(100).nullable().optional(),
});

export const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: userRef,
  team: teamRef,
  view: z.object({
    id: z.string(),
    type: z.literal('modal'),
    callback_id: z.string().min(1).max(255),
    private_metadata: z.string().max(3000).default(''),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), stateValueSchema)) }),
  }),
});
export type ViewSubmission = z.infer<typeof viewSubmissionSchema>;

export const blockSuggestionSchema = z.looseObject({
  type: z.literal('block_suggestion'),
  action_id: z.string(),
  value: z.string().max(200).default(''),
});

export const eventCallbackSchema = z.looseObject({
  type: z.literal('event_callback'),
  team_id: id,
  event_id: id,
  event: z.looseObject({ type: z.string() }),
});

export const appHomeOpenedSchema = z.looseObject({
  type: z.literal('app_home_opened'),
  user: id,
  tab: z.string().optional(),
});

/** A message someone typed to Backcare in its Messages tab (event `message.im`). */
export const imMessageSchema = z.looseObject({
  type: z.literal('message'),
  channel_type: z.literal('im'),
  channel: id,
  text: z.string().max(40_000).default(''),
  /** Absent on some subtypes (edits, deletions); those are not someone typing. */
  user: id.optional(),
  subtype: z.string().optional(),
  bot_id: z.string().optional(),
  app_id: z.string().optional(),
});

/** The longest direct message read as a command (a slash command's text is capped the same way). */
export const MAX_DM_COMMAND = 2000;

/**
 * A typed DM as the core's command text: the words after an optional `/backcare` (or `backcare`) and an optional
 * mention of the bot; nothing left means `help`, which the core answers for an empty command.
 */
export function dmCommandText(text: string): string {
  return normalizeMentions(text)
    .trim()
    .replace(/^<@[UW][A-Z0-9]{2,30}>\s*/, '')
    .replace(/^\/?backcare(?=\s|$)\s*/i, '')
    .trim();
}

export const tokensRevokedSchema = z.looseObject({
  type: z.literal('tokens_revoked'),
  tokens: z.looseObject({ bot: z.array(z.string()).optional(), oauth: z.array(z.string()).optional() }),
});

/**
 * Slack escapes mentions as `<@U123|alice>`; the core sees `<@U123>` (the platform user id, like Discord's
 * mention form), which the leads command accepts and the renderer shows as a mention again.
 */
export function normalizeMentions(text: string): string {
  return text.replace(/<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>/g, '<@$1>');
}

export function commandInput(command: SlashCommand): CoreInput {
  return { kind: 'command', text: normalizeMentions(command.text) };
}

/** Buttons that share an action id in one message get a `::n` suffix (Slack wants them unique); strip it. */
export function baseActionId(actionId: string): string {
  return actionId.replace(/::\d+$/, '');
}

/** Quick-start buttons on App Home run a command; only these, so a forged value cannot run anything else. */
export const HOME_COMMAND_ACTION = 'home.command';
const homeCommands = ['breathe 2', 'stretch', 'roll', 'settings edit'] as const;

export function actionInput(action: z.infer<typeof actionElementSchema>): CoreInput | null {
  const actionId = baseActionId(action.action_id);
  const value = action.value ?? action.selected_option?.value;
  if (value === undefined) return null;
  if (actionId === HOME_COMMAND_ACTION) {
    const command = z.enum(homeCommands).safeParse(value);
    return command.success ? { kind: 'command', text: command.data } : null;
  }
  return { kind: 'action', actionId, value };
}

/** A modal's state → field id → value(s), block ids being the core's field ids. */
export function formValues(values: ViewSubmission['view']['state']['values']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [blockId, elements] of Object.entries(values)) {
    const element = Object.values(elements)[0];
    if (!element) continue;
    if (element.selected_options !== undefined) out[blockId] = element.selected_options.map((o) => o.value);
    else if (element.selected_option !== undefined) out[blockId] = element.selected_option?.value ?? '';
    else if (element.selected_time !== undefined) out[blockId] = element.selected_time ?? '';
    // Channel pickers send the id; the core still reads it with the channel parser like anything typed.
    else if (element.selected_conversation !== undefined) out[blockId] = element.selected_conversation ?? '';
    else if (element.selected_channel !== undefined) out[blockId] = element.selected_channel ?? '';
    else out[blockId] = element.value ?? '';
  }
  return out;
}

/**
 * What a modal carries back in private_metadata: the core's form state, where the result may be posted, and
 * whether it was opened from the App Home tab (the tab is then redrawn after the submission).
 */
const modalMetadataSchema = z.object({
  state: z.string().max(2000).optional(),
  channelId: z.string().max(100).optional(),
  from: z.literal('home').optional(),
});
export type ModalMetadata = z.infer<typeof modalMetadataSchema>;

export function parseModalMetadata(raw: string): ModalMetadata {
  if (raw === '') return {};
  try {
    const parsed = modalMetadataSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** Form-encoded bodies: slash commands are flat; interactivity wraps JSON in a `payload` field. */
export function parseRequestBody(rawBody: string, contentType: string | undefined): Record<string, unknown> | null {
  try {
    if (contentType?.includes('application/json')) {
      const json: unknown = JSON.parse(rawBody);
      return json !== null && typeof json === 'object' && !Array.isArray(json)
        ? (json as Record<string, unknown>)
        : null;
    }
    // node:querystring, as Bolt's own receiver does: URLSearchParams took 14 ms of a 200-submission burst.
    const form = parseQuery(rawBody);
    const payload = lastOf(form.payload);
    if (payload !== undefined) {
      const json: unknown = JSON.parse(payload);
      return json !== null && typeof json === 'object' && !Array.isArray(json)
        ? (json as Record<string, unknown>)
        : null;
    }
    return Object.fromEntries(Object.entries(form).map(([key, value]) => [key, lastOf(value)]));
  } catch {
    return null;
  }
}

/** A field given twice keeps its last value (as URLSearchParams into an object did). */
const lastOf = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[value.length - 1] : value;
