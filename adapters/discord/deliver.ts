import type { Reply } from '../../src/core/ports.js';
import { withoutFlags, type Component, type DiscordContext, type Delivery, type Repliable } from './context.js';
import type { FormFlow } from './form-flow.js';
import { isPersonal, renderMessage } from './render.js';
import type { Who } from './who.js';

/** Shows a core reply as the answer to an interaction: a form, a live session, or a message (replacing or new). */
export function createDeliver(
  ctx: DiscordContext,
  who: Who,
  flow: FormFlow,
  startSequence: (interaction: Repliable, result: Reply, how: Delivery) => Promise<void>,
) {
  const { log } = ctx;
  const { encodingFor } = who;
  const { startForm } = flow;

  async function deliver(interaction: Repliable, result: Reply, how: Delivery): Promise<void> {
    if (result.form) return startForm(interaction, result, how);
    if (result.sequence) return startSequence(interaction, result, how);
    const encoding = encodingFor(how.facts, interaction);
    const message = renderMessage(result, encoding, { ephemeral: isPersonal(result) });
    if (message.dropped > 0)
      log.warn(
        { event: 'discord.render_dropped', dropped: message.dropped },
        'reply had more actions than Discord shows',
      );
    const { dropped: _dropped, ...body } = message;
    await encoding.refs.flush();
    const replaces = interaction.isChatInputCommand()
      ? false
      : Boolean(result.replaceOriginal) || (interaction.isModalSubmit() && interaction.isFromMessage());
    if (replaces && (interaction.isMessageComponent() || interaction.isModalSubmit())) {
      if (how.deferred) await interaction.editReply(withoutFlags(body));
      else if (interaction.isMessageComponent() || interaction.isFromMessage())
        await (interaction as Component).update(withoutFlags(body));
      return;
    }
    if (!how.deferred) {
      await interaction.reply(body);
      return;
    }
    if (interaction.isChatInputCommand()) {
      // Deferred ephemerally (most replies are personal); a public reply goes out as a follow-up instead.
      if (isPersonal(result)) await interaction.editReply(withoutFlags(body));
      else {
        await interaction.followUp(body);
        await interaction.deleteReply().catch(() => undefined);
      }
      return;
    }
    await interaction.followUp(body);
  }

  return deliver;
}
