import { ComponentType, type APIEmbed, type APIModalInteractionResponseCallbackData } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionRefs, decodeCustomId } from '../../../adapters/discord/custom-id.js';
import { draftContent, modalFor, pageMessage, steps, type Draft } from '../../../adapters/discord/forms.js';
import {
  discordLimits,
  markdown,
  renderEmbed,
  renderMessage,
  sessionEmbeds,
  type DiscordMessage,
} from '../../../adapters/discord/render.js';
import { buildNudgeMessage } from '../../../src/core/nudge-message.js';
import type { Reply } from '../../../src/core/reply.js';
import type { Actor } from '../../../src/core/request.js';
import type { Core } from '../../../src/core/router.js';
import type { Database } from '../../../src/db/client.js';
import { buildTestCore } from '../../support/core.js';
import { openTestDatabase } from '../../support/db.js';
import { GUILD_ID } from '../../support/discord/payloads.js';

const encoding = { ctx: { guildId: GUILD_ID, deliveryId: 123456 }, refs: new ActionRefs() };

function embedLength(embed: APIEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0)
  );
}

/** Every Discord limit a message body must respect; returns the problems found (empty = fits). */
function problems(message: DiscordMessage): string[] {
  const found: string[] = [];
  if ((message.content?.length ?? 0) > discordLimits.content) found.push('content too long');
  if (message.embeds.length > 10) found.push('more than 10 embeds');
  if (message.embeds.reduce((n, e) => n + embedLength(e), 0) > discordLimits.embedTotal)
    found.push('embeds over 6000 characters');
  for (const embed of message.embeds) {
    if ((embed.title?.length ?? 0) > discordLimits.embedTitle) found.push('embed title too long');
    if ((embed.description?.length ?? 0) > discordLimits.discordEmbedDescription)
      found.push('embed description over 4096');
    if ((embed.fields?.length ?? 0) > discordLimits.embedFields) found.push('more than 25 fields');
    for (const f of embed.fields ?? [])
      if (f.name.length > 256 || f.value.length > 1024 || f.value.length === 0)
        found.push(`field ${f.name} out of bounds`);
  }
  if (message.components.length > discordLimits.discordActionRows) found.push('more than 5 action rows');
  const ids = new Set<string>();
  for (const row of message.components) {
    const buttons = row.components.filter((c) => c.type === ComponentType.Button);
    const selects = row.components.filter((c) => c.type === ComponentType.StringSelect);
    if (buttons.length > discordLimits.discordButtonsPerRow) found.push('more than 5 buttons in a row');
    if (selects.length > 0 && row.components.length > 1) found.push('a select shares its row');
    for (const c of row.components) {
      const id = 'custom_id' in c ? c.custom_id : '';
      if (id.length > discordLimits.discordCustomId) found.push(`custom_id over 100: ${id}`);
      if (ids.has(id)) found.push(`duplicate custom_id ${id}`);
      ids.add(id);
      const label = c.type === ComponentType.Button && 'label' in c ? (c.label ?? '') : '';
      if (label.length > discordLimits.discordButtonLabel) found.push(`label over 80: ${label}`);
      if (c.type === ComponentType.StringSelect) {
        if (c.options.length > discordLimits.discordSelectOptions) found.push('more than 25 options');
        if ((c.placeholder?.length ?? 0) > 150) found.push('placeholder over 150');
        for (const o of c.options)
          if (o.label.length > 100 || o.value.length > 100) found.push(`option out of bounds: ${o.label}`);
      }
    }
  }
  return found;
}

function modalProblems(modal: APIModalInteractionResponseCallbackData): string[] {
  const found: string[] = [];
  if (modal.title.length > discordLimits.modalTitle) found.push('modal title over 45');
  if (modal.custom_id.length > 100) found.push('modal custom_id over 100');
  if (modal.components.length > 5) found.push('more than 5 inputs');
  for (const row of modal.components) {
    for (const input of (
      row as { components: { label: string; placeholder?: string; value?: string; custom_id: string }[] }
    ).components) {
      if (input.label.length > discordLimits.textInputLabel) found.push(`label over 45: ${input.label}`);
      if ((input.placeholder?.length ?? 0) > discordLimits.textInputPlaceholder) found.push('placeholder over 100');
      if ((input.value?.length ?? 0) > 4000) found.push('value over 4000');
    }
  }
  return found;
}

/** Renders a reply the way the adapter would (message, form wizard steps, sequence frames). */
function renderAll(reply: Reply): {
  messages: DiscordMessage[];
  modals: APIModalInteractionResponseCallbackData[];
  dropped: number;
} {
  const messages: DiscordMessage[] = [];
  const modals: APIModalInteractionResponseCallbackData[] = [];
  const main = renderMessage(reply, encoding, { ephemeral: true });
  messages.push(main);
  let dropped = main.dropped;
  if (reply.form) {
    const draft: Draft = {
      ...draftContent(
        reply.form,
        { userId: '1' },
        reply.formErrors ? { values: {}, errors: reply.formErrors } : undefined,
      ),
      id: 'preview',
      expiresAt: new Date(),
    };
    for (const [index, step] of steps(draft).entries()) {
      draft.position = index;
      if (step.kind === 'submit') continue;
      messages.push(pageMessage(draft));
      if (step.kind === 'modal') modals.push(modalFor(draft, step));
    }
  }
  if (reply.sequence) {
    const actions = renderMessage({ ...reply, blocks: [], actions: reply.sequence.actions }, encoding);
    dropped += actions.dropped;
    // As the adapter plays it: the intro with every caution, and the frame or the written-out steps.
    for (const blocks of [...reply.sequence.frames.map((f) => f.blocks), reply.sequence.staticBlocks]) {
      messages.push({ embeds: sessionEmbeds(reply.blocks, blocks), components: actions.components });
    }
  }
  return { messages, modals, dropped };
}

describe('every reply the core can produce renders within Discord’s limits', () => {
  let database: Database;
  let core: Core;
  const actor: Actor = {
    platform: 'discord',
    workspaceExternalId: GUILD_ID,
    workspaceName: 'Desk crew',
    userExternalId: '666666666666666666',
    displayName: 'Alex',
    isAdmin: true,
    isLead: true,
  };
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    core = buildTestCore(database.db);
  });
  afterAll(async () => {
    await database.close();
  });

  it('commands, every routine, every button and select answer, forms, sequences and nudges', async () => {
    const library = core.deps.library!;
    const texts = new Set<string>();
    for (const command of core.commands) {
      texts.add(command.name);
      for (const example of command.examples) texts.add(example);
    }
    for (const routine of library.all()) texts.add(`routine ${routine.id}`);
    for (const pattern of ['box', '4-7-8', 'coherent', 'diaphragmatic']) texts.add(`breathe ${pattern} 10`);
    for (const area of ['neck', 'shoulders', 'upper-back', 'mid-back', 'shoulder-blades', 'chest']) {
      texts.add(`stretch ${area}`);
      texts.add(`roll ${area}`);
    }
    texts.add('routine 30');
    texts.add('settings nonsense');
    texts.add('breathee');

    const replies: { label: string; reply: Reply }[] = [];
    for (const text of texts)
      replies.push({ label: text, reply: await core.handle({ actor, input: { kind: 'command', text } }) });
    // One level of presses: every button and every select option on those replies.
    for (const { label, reply } of [...replies]) {
      const actions = [
        ...reply.actions,
        ...(reply.sequence?.actions ?? []),
        ...(reply.sequence?.onComplete
          ? [{ type: 'button' as const, ...reply.sequence.onComplete, label: 'complete' }]
          : []),
      ];
      for (const action of actions) {
        const values = action.type === 'button' ? [action.value] : action.options.map((o) => o.value);
        for (const value of values)
          replies.push({
            label: `${label} → ${action.actionId}`,
            reply: await core.handle({ actor, input: { kind: 'action', actionId: action.actionId, value } }),
          });
      }
      // Forms: submitted as they stand, which exercises both the saved and the rejected answers.
      if (reply.form) {
        const values = Object.fromEntries(
          reply.form.fields.map((f) => [f.id, f.initial ?? (f.kind === 'multiselect' ? [] : '')]),
        );
        replies.push({
          label: `${label} → submit`,
          reply: await core.handle({
            actor,
            input: {
              kind: 'submit',
              formId: reply.form.formId,
              values,
              ...(reply.form.state ? { state: reply.form.state } : {}),
            },
          }),
        });
      }
    }
    for (const routine of library.all())
      replies.push({ label: `nudge ${routine.id}`, reply: buildNudgeMessage(routine, 987654321, new Date()) });

    expect(replies.length).toBeGreaterThan(100);
    for (const { label, reply } of replies) {
      const { messages, modals, dropped } = renderAll(reply);
      expect(dropped, `${label}: actions dropped`).toBe(0);
      for (const message of messages) expect(problems(message), label).toEqual([]);
      for (const modal of modals) expect(modalProblems(modal), label).toEqual([]);
    }
  }, 60_000);
});

describe('the renderer keeps oversized replies inside the limits', () => {
  it('clips text, labels and options and drops what does not fit, never more than Discord takes', () => {
    const huge: Reply = {
      summary: 'huge',
      visibility: 'ephemeral',
      blocks: [
        { type: 'header', text: 'H'.repeat(400) },
        { type: 'text', text: 'x'.repeat(10_000) },
        {
          type: 'fields',
          fields: Array.from({ length: 40 }, (_, i) => ({ label: `F${i}`.repeat(100), value: 'v'.repeat(2000) })),
        },
      ],
      actions: [
        ...Array.from({ length: 30 }, (_, i) => ({
          type: 'button' as const,
          actionId: `a.b${i}`,
          label: 'L'.repeat(120),
          value: JSON.stringify({ long: 'z'.repeat(150), i }),
        })),
        {
          type: 'select',
          actionId: 'pick',
          placeholder: 'P'.repeat(300),
          options: Array.from({ length: 40 }, (_, i) => ({ label: `o${i}`.repeat(80), value: `v${i}`.repeat(60) })),
        },
      ],
    };
    const message = renderMessage(huge, { ctx: {}, refs: new ActionRefs() });
    expect(problems(message)).toEqual([]);
    expect(message.dropped).toBeGreaterThan(0);
    // Long values went to the in-memory refs and still resolve to the core's action.
    const first = message.components[0]!.components[0]! as { custom_id: string };
    expect(decodeCustomId(first.custom_id)).toMatchObject({ kind: 'ref' });
  });

  it('turns the core markup into Discord markdown', () => {
    expect(markdown('*Nice work.* Your _upper back_ thanks you, `code` stays')).toBe(
      '**Nice work.** Your _upper back_ thanks you, `code` stays',
    );
    expect(markdown('**already bold**')).toBe('**already bold**');
    const { embed } = renderEmbed([
      { type: 'caution', text: 'Stop if it hurts' },
      { type: 'context', text: 'Not medical advice' },
      { type: 'list', style: 'numbered', items: ['one', 'two'] },
    ]);
    expect(embed!.description).toBe('> ⚠️ Stop if it hurts\n\n-# Not medical advice\n\n1. one\n2. two');
  });
});
