import type { Reply } from '../../src/core/ports.js';
import type { Answering } from './answering.js';
import {
  ephemeral,
  withoutFlags,
  type Component,
  type DiscordContext,
  type Delivery,
  type Repliable,
} from './context.js';
import { modalFor, pageMessage, steps, type Draft } from './forms.js';
import { renderMessage } from './render.js';
import type { Who } from './who.js';

export type FormFlow = ReturnType<typeof createFormFlow>;

/** A core form on Discord: a wizard of select pages and modals, submitted to the core at the end. */
export function createFormFlow(ctx: DiscordContext, who: Who, answering: Answering) {
  const { drafts } = ctx;
  const { encodingFor } = who;
  const { within, ask } = answering;

  async function startForm(interaction: Repliable, result: Reply, how: Delivery): Promise<void> {
    const form = result.form!;
    const draft = await drafts.create(
      form,
      { userId: how.facts.userId, guildId: how.facts.guildId },
      {
        values: how.previous ?? {},
        ...(result.formErrors ? { errors: result.formErrors } : {}),
      },
    );
    await showStep(interaction, draft, how, true);
  }

  /** Shows the draft's current step: a page of selects, a modal (only as a direct answer to a press), or submits. */
  async function showStep(interaction: Repliable, draft: Draft, how: Delivery, fresh: boolean): Promise<void> {
    const step = steps(draft)[draft.position]!;
    if (step.kind === 'submit') return submitDraft(interaction, draft, how);
    const canModal = !how.deferred && !interaction.isModalSubmit() && !interaction.replied;
    if (step.kind === 'modal' && canModal && !fresh) {
      await (interaction as Component).showModal(modalFor(draft, step));
      return;
    }
    const page = pageMessage(draft);
    if (fresh && (interaction.isChatInputCommand() || !interaction.isModalSubmit())) {
      if (how.deferred) {
        if (interaction.isChatInputCommand()) await interaction.editReply(page);
        else await interaction.followUp({ ...page, flags: ephemeral });
      } else await interaction.reply({ ...page, flags: ephemeral });
      return;
    }
    if (how.deferred) await interaction.editReply(page);
    else await (interaction as Component).update(page);
  }

  async function submitDraft(interaction: Repliable, draft: Draft, how: Delivery): Promise<void> {
    // Whoever removes the draft submits it: a double press (on this replica or another) submits once.
    if (!(await drafts.delete(draft.id))) {
      await interaction.reply({ content: 'This form was already sent.', flags: ephemeral });
      return;
    }
    const work = () =>
      ask(how.actor, {
        kind: 'submit',
        formId: draft.form.formId,
        values: draft.values,
        ...(draft.form.state ? { state: draft.form.state } : {}),
      });
    const { value: result, deferred } = await within('form', work, () => (interaction as Component).deferUpdate());
    if (result.form) {
      // Rejected: ask again for the fields in question only, keeping every answer given.
      const again = await drafts.create(
        result.form,
        { userId: how.facts.userId, guildId: draft.guildId },
        { values: draft.values, ...(result.formErrors ? { errors: result.formErrors } : {}) },
      );
      await showStep(interaction, again, { ...how, deferred }, false);
      return;
    }
    const encoding = encodingFor(how.facts, interaction);
    const message = renderMessage(result, encoding);
    const { dropped: _dropped, ...body } = message;
    await encoding.refs.flush();
    if (deferred) await interaction.editReply(withoutFlags(body));
    else await (interaction as Component).update(withoutFlags(body));
  }

  return { startForm, showStep };
}
