import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  type APIStringSelectComponent,
} from 'discord.js';
import path from 'node:path';
import { fieldLabel } from '../../src/core/ports.js';
import { limits, type Action, type Block, type Form, type Reply } from '../../src/core/ports.js';
import { encodeCustomId, fitsCustomId, type ActionRefs, type MessageContext, type RefOwner } from './custom-id.js';

/** Discord limits beyond those the core knows (discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const discordLimits = {
  ...limits,
  embedTitle: 256,
  embedFields: 25,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedTotal: 6000,
  content: 2000,
  selectPlaceholder: 150,
  selectOptionLabel: 100,
  selectOptionValue: 100,
  modalTitle: 45,
  textInputLabel: 45,
  textInputPlaceholder: 100,
  modalTextInputs: 5,
} as const;

const CARE_COLOUR = 0x3ba99c;
const CAUTION_COLOUR = 0xe8a33d;

export const clip = (value: string, max: number): string =>
  value.length <= max ? value : `${value.slice(0, Math.max(0, max - 1))}…`;

/** The core's light markup (*bold*, _italic_, `code`) as Discord markdown. */
export function markdown(value: string): string {
  return value.replace(/(^|[^*])\*([^*\n]+)\*(?!\*)/g, '$1**$2**');
}

function blockLines(block: Block): string | null {
  switch (block.type) {
    case 'header':
      return `### ${block.text}`;
    case 'text':
      return markdown(block.text);
    case 'list':
      return block.items
        .map((item, i) => `${block.style === 'numbered' ? `${i + 1}.` : '•'} ${markdown(item)}`)
        .join('\n');
    case 'caution':
      // Several cautions travel as one block, one per line: each line is quoted and marked.
      return block.text
        .split('\n')
        .map((line) => `> ⚠️ ${markdown(line)}`)
        .join('\n');
    case 'context':
      // Subtext: Discord's small grey line.
      return block.text
        .split('\n')
        .map((line) => `-# ${markdown(line)}`)
        .join('\n');
    case 'divider':
      return '───────────';
    case 'fields':
    case 'image':
    case 'file':
      return null;
  }
}

export interface RenderedEmbed {
  embed: APIEmbed | null;
  files: { attachment: string; name: string }[];
}

/** Blocks as one embed: a leading header becomes the title, fields become embed fields, the first image is shown. */
export function renderEmbed(
  blocks: readonly Block[],
  formErrors?: Record<string, string>,
  form?: Pick<Form, 'fields'>,
): RenderedEmbed {
  const embed: APIEmbed = { color: blocks.some((b) => b.type === 'caution') ? CAUTION_COLOUR : CARE_COLOUR };
  const files: RenderedEmbed['files'] = [];
  const rest = [...blocks];
  const head = rest[0];
  if (head?.type === 'header') {
    rest.shift();
    embed.title = clip(head.text, discordLimits.embedTitle);
  }
  const lines: string[] = [];
  const fields: NonNullable<APIEmbed['fields']> = [];
  for (const block of rest) {
    if (block.type === 'fields') {
      for (const f of block.fields) {
        fields.push({
          name: clip(f.label || '\u200b', discordLimits.embedFieldName),
          value: clip(markdown(f.value) || '\u200b', discordLimits.embedFieldValue),
          inline: true,
        });
      }
    } else if (block.type === 'image') {
      if (embed.image) continue;
      if (block.url) embed.image = { url: block.url };
      else if (block.path) {
        const name = path.basename(block.path).replace(/[^\w.-]/g, '_');
        files.push({ attachment: block.path, name });
        embed.image = { url: `attachment://${name}` };
      }
    } else if (block.type === 'file') {
      const name = path.basename(block.filename).replace(/[^\w.-]/g, '_');
      files.push({ attachment: block.path, name });
      lines.push(`📎 ${markdown(block.alt)} (attached: ${name})`);
    } else {
      const line = blockLines(block);
      if (line) lines.push(line);
    }
  }
  if (formErrors && Object.keys(formErrors).length > 0) {
    // Named by the label the person saw, never the internal field id.
    lines.push(
      Object.entries(formErrors)
        .map(([field, message]) => {
          const label = fieldLabel(form, field);
          return label ? `❌ **${label}**: ${message}` : `❌ ${message}`;
        })
        .join('\n'),
    );
  }
  const description = lines.join('\n\n');
  // An embed holds 6,000 characters in all: fields give way first, so some of the description always shows.
  const kept = fields.slice(0, discordLimits.embedFields);
  const fieldsLength = () => kept.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const titleLength = embed.title?.length ?? 0;
  while (
    kept.length > 0 &&
    titleLength + fieldsLength() + Math.min(description.length, 1000) > discordLimits.embedTotal
  )
    kept.pop();
  if (kept.length > 0) embed.fields = kept;
  const room = Math.min(discordLimits.discordEmbedDescription, discordLimits.embedTotal - titleLength - fieldsLength());
  if (description) embed.description = clip(description, room);
  const empty = !embed.title && !embed.description && !embed.fields && !embed.image;
  return { embed: empty ? null : embed, files };
}

const embedLength = (embed: APIEmbed): number =>
  (embed.title?.length ?? 0) +
  (embed.description?.length ?? 0) +
  (embed.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);

/**
 * A session's message: the intro (every caution is in it) in full, then the frame or the written-out steps,
 * clipped so that both fit the 6,000 characters Discord allows across all of a message's embeds.
 */
export function sessionEmbeds(intro: readonly Block[], frame: readonly Block[]): APIEmbed[] {
  return sessionEmbedsAfter(introEmbed(intro), frame);
}

/** A session's intro as its embed, rendered once (another replica carrying the session on keeps it as it is). */
export const introEmbed = (intro: readonly Block[]): APIEmbed | null =>
  intro.length > 0 ? renderEmbed(intro).embed : null;

/** sessionEmbeds with the intro already rendered. */
export function sessionEmbedsAfter(first: APIEmbed | null, frame: readonly Block[]): APIEmbed[] {
  const second = renderEmbed(frame).embed;
  if (second?.description) {
    const room =
      discordLimits.embedTotal - (first ? embedLength(first) : 0) - (embedLength(second) - second.description.length);
    second.description = clip(second.description, Math.max(1, room));
  }
  return [first, second].filter((e): e is APIEmbed => e !== null);
}

export interface ActionEncoding {
  /** In DMs: which guild (and nudge) the buttons are about. */
  ctx: MessageContext;
  refs: ActionRefs;
  /** Who the message is for (absent in a channel): their references go when they ask to be forgotten. */
  owner?: RefOwner | undefined;
}

/** A core action's custom id, falling back to a stored reference when it is too long or not unique. */
function buttonId(action: Extract<Action, { type: 'button' }>, encoding: ActionEncoding, used: Set<string>): string {
  const direct = encodeCustomId({ kind: 'button', actionId: action.actionId, ctx: encoding.ctx, value: action.value });
  if (fitsCustomId(direct) && !used.has(direct)) return direct;
  return encodeCustomId({
    kind: 'ref',
    key: encoding.refs.put({ actionId: action.actionId, value: action.value, ctx: encoding.ctx }, encoding.owner),
  });
}

/** Marks a select option whose core value was too long for Discord (100 characters) and waits in the refs. */
export const REF_OPTION_PREFIX = '~ref:';

const buttonStyle = (style: 'primary' | 'danger' | undefined) =>
  style === 'primary' ? ButtonStyle.Primary : style === 'danger' ? ButtonStyle.Danger : ButtonStyle.Secondary;

/** Buttons five to a row, each select on a row of its own, at most five rows (extra actions are dropped). */
export function renderActions(
  actions: readonly Action[],
  encoding: ActionEncoding,
): { rows: APIActionRowComponent<APIComponentInMessageActionRow>[]; dropped: number } {
  const rows: APIComponentInMessageActionRow[][] = [];
  const used = new Set<string>();
  let dropped = 0;
  let buttonRow: APIButtonComponent[] | null = null;
  for (const action of actions) {
    if (action.type === 'button') {
      if (!buttonRow || buttonRow.length >= discordLimits.discordButtonsPerRow) {
        if (rows.length >= discordLimits.discordActionRows) {
          dropped++;
          continue;
        }
        buttonRow = [];
        rows.push(buttonRow);
      }
      const customId = buttonId(action, encoding, used);
      used.add(customId);
      buttonRow.push({
        type: ComponentType.Button,
        style: buttonStyle(action.style),
        label: clip(action.label, discordLimits.discordButtonLabel),
        custom_id: customId,
      });
    } else {
      if (rows.length >= discordLimits.discordActionRows) {
        dropped++;
        continue;
      }
      buttonRow = null;
      const customId = encodeCustomId({ kind: 'select', actionId: action.actionId, ctx: encoding.ctx });
      const select: APIStringSelectComponent = {
        type: ComponentType.StringSelect,
        custom_id: fitsCustomId(customId)
          ? customId
          : encodeCustomId({
              kind: 'ref',
              key: encoding.refs.put({ actionId: action.actionId, value: '', ctx: encoding.ctx }, encoding.owner),
            }),
        placeholder: clip(action.placeholder, discordLimits.selectPlaceholder),
        options: action.options.slice(0, discordLimits.discordSelectOptions).map((o) => ({
          label: clip(o.label, discordLimits.selectOptionLabel),
          value:
            o.value.length <= discordLimits.selectOptionValue
              ? o.value
              : `${REF_OPTION_PREFIX}${encoding.refs.put({ actionId: action.actionId, value: o.value, ctx: encoding.ctx }, encoding.owner)}`,
        })),
      };
      dropped += Math.max(0, action.options.length - discordLimits.discordSelectOptions);
      rows.push([select]);
    }
  }
  return { rows: rows.map((components) => ({ type: ComponentType.ActionRow, components })), dropped };
}

export interface DiscordMessage {
  content?: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  files?: { attachment: string; name: string }[];
  flags?: number;
}

/** A reply (without its form or sequence, which the adapter plays) as a Discord message body. */
export function renderMessage(
  reply: Pick<Reply, 'blocks' | 'actions' | 'summary' | 'formErrors' | 'form'>,
  encoding: ActionEncoding,
  options: { ephemeral?: boolean } = {},
): DiscordMessage & { dropped: number } {
  const { embed, files } = renderEmbed(reply.blocks, reply.formErrors, reply.form);
  const { rows, dropped } = renderActions(reply.actions, encoding);
  const message: DiscordMessage & { dropped: number } = { embeds: embed ? [embed] : [], components: rows, dropped };
  // An embed carries the text; without one, the summary is the message.
  if (!embed) message.content = clip(reply.summary || '…', discordLimits.content);
  if (files.length > 0) message.files = files;
  if (options.ephemeral) message.flags = MessageFlags.Ephemeral;
  return message;
}

export const isPersonal = (reply: Pick<Reply, 'visibility'>) => reply.visibility !== 'public';
