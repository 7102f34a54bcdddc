import type { ModalSubmitInteraction } from 'discord.js';
import { ephemeral, expiredText, type Component, type DiscordContext, type Delivery } from './context.js';
import type { FormFlow } from './form-flow.js';
import { modalFor, steps, type FormValues } from './forms.js';
import { actorFrom } from './parse.js';
import type { Who } from './who.js';

const goneText = 'This form has expired or belongs to someone else. Run the command again.';

/** Answers given inside a form: a select choice, Next, Cancel, or a submitted modal. */
export function createFormInput(ctx: DiscordContext, who: Who, flow: FormFlow) {
  const { drafts } = ctx;
  const { factsFor } = who;
  const { showStep } = flow;

  async function onFormStep(interaction: Component, draftId: string, step: string): Promise<void> {
    const draft = await drafts.get(draftId, interaction.user.id);
    if (!draft) {
      await interaction.reply({ content: goneText, flags: ephemeral });
      return;
    }
    if (step === 'x') {
      await drafts.delete(draft.id);
      await interaction.update({ content: 'Cancelled: nothing was saved.', embeds: [], components: [] });
      return;
    }
    const how = async (): Promise<Delivery> => {
      const facts = await factsFor(interaction, draft.guildId ? { guildId: draft.guildId } : {});
      return { deferred: false, facts, actor: actorFrom(facts) };
    };
    if (/^\d+$/.test(step)) {
      const field = draft.form.fields[Number(step)];
      if (field?.kind === 'channel' && interaction.isChannelSelectMenu()) {
        // The picked channel's id (nothing when cleared); the core reads it with the channel parser on submit.
        await drafts.update(draft, { values: { [field.id]: interaction.values[0] ?? '' } });
        await interaction.deferUpdate();
        return;
      }
      if (!field || !interaction.isStringSelectMenu() || (field.kind !== 'select' && field.kind !== 'multiselect')) {
        await interaction.reply({ content: expiredText, flags: ephemeral });
        return;
      }
      const allowed = new Set(field.options.map((o) => o.value));
      const chosen = interaction.values.filter((v) => allowed.has(v));
      await drafts.update(draft, { values: { [field.id]: field.kind === 'select' ? (chosen[0] ?? '') : chosen } });
      await interaction.deferUpdate();
      return;
    }
    // Next: leave the current page of selects; a modal step opens its modal.
    const current = steps(draft)[draft.position];
    // Read back after the move: it carries every answer given so far, on whichever replica it was given.
    const moved = await drafts.update(draft, current?.kind === 'page' ? { position: draft.position + 1 } : {});
    if (!moved) {
      await interaction.reply({ content: goneText, flags: ephemeral });
      return;
    }
    const next = steps(moved)[moved.position]!;
    if (next.kind === 'modal') {
      await interaction.showModal(modalFor(moved, next));
      return;
    }
    await showStep(interaction, moved, await how(), false);
  }

  async function onModal(interaction: ModalSubmitInteraction, draftId: string, chunk: number): Promise<void> {
    const found = await drafts.get(draftId, interaction.user.id);
    const all = found ? steps(found) : [];
    const index = all.findIndex((s) => s.kind === 'modal' && s.index === chunk);
    if (!found || index < 0) {
      await interaction.reply({ content: 'This form has expired. Run the command again.', flags: ephemeral });
      return;
    }
    const typedValues: FormValues = {};
    for (const field of (all[index] as Extract<(typeof all)[number], { kind: 'modal' }>).fields) {
      const typed = interaction.fields.fields.get(field.id);
      // A pasted channel mention (<#123>) means the channel's id, which is what the core stores and the sender posts to.
      if (typed && 'value' in typed && typeof typed.value === 'string')
        typedValues[field.id] = typed.value.trim().replace(/^<#(\d{15,21})>$/, '$1');
    }
    const draft = await drafts.update(found, { values: typedValues, position: index + 1 });
    if (!draft) {
      await interaction.reply({ content: 'This form has expired. Run the command again.', flags: ephemeral });
      return;
    }
    const facts = await factsFor(interaction, draft.guildId ? { guildId: draft.guildId } : {});
    await showStep(interaction, draft, { deferred: false, facts, actor: actorFrom(facts) }, false);
  }

  return { onFormStep, onModal };
}
