import type { Block, Reply } from '../../src/core/ports.js';
import type { Answering } from './answering.js';
import { ephemeral, type DiscordContext, type Delivery, type Repliable } from './context.js';
import { completionMessage, renderFrame, type DiscordSessionContext } from './live.js';
import { introEmbed, renderActions } from './render.js';
import type { Who } from './who.js';

/** A sequence reply played live: the interaction's reply, edited frame by frame. */
export function createLiveReply(ctx: DiscordContext, who: Who, answering: Answering) {
  const { live, refs } = ctx;
  const { encodingFor } = who;
  const { ask } = answering;

  async function startSequence(interaction: Repliable, result: Reply, how: Delivery): Promise<void> {
    const sequence = result.sequence!;
    const encoding = encodingFor(how.facts, interaction);
    const { rows } = renderActions(sequence.actions, encoding);
    // Everything the frames and the ending are made of, as plain values: another replica may play the rest.
    const context: DiscordSessionContext = {
      actor: how.actor,
      intro: introEmbed(result.blocks),
      components: rows,
      encoding: { ctx: encoding.ctx, owner: encoding.owner },
    };
    const render = (blocks: Block[]) => renderFrame(context, blocks);
    const playLive = live.canPlayLive() && sequence.frames.length > 0;
    const first = render(playLive ? sequence.frames[0]!.blocks : sequence.staticBlocks);
    // The reply's id, where this is the moment Discord says it: presses on it find the session on any replica.
    let messageId: string | undefined;
    if (how.deferred) messageId = (await interaction.editReply(first)).id;
    else if (result.replaceOriginal && interaction.isMessageComponent()) {
      await interaction.update(first);
      messageId = interaction.message.id;
    } else await interaction.reply({ ...first, flags: ephemeral });
    live.play({
      sequence,
      live: playLive,
      userId: how.facts.userId,
      interactionId: interaction.id,
      createdAt: interaction.createdTimestamp,
      messageId,
      applicationId: interaction.applicationId,
      interactionToken: interaction.token,
      context,
      render,
      editOriginal: async (message) => (await interaction.editReply(message)).id,
      complete: () => completionMessage(ask, refs, context, sequence),
    });
  }

  return startSequence;
}
