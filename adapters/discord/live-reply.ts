import type { Block, Reply } from '../../src/core/ports.js';
import type { Answering } from './answering.js';
import { ephemeral, type DiscordContext, type Delivery, type Repliable } from './context.js';
import { renderActions, renderMessage, sessionEmbeds, type DiscordMessage } from './render.js';
import type { Who } from './who.js';

/** A sequence reply played live: the interaction's reply, edited frame by frame. */
export function createLiveReply(ctx: DiscordContext, who: Who, answering: Answering) {
  const { live } = ctx;
  const { encodingFor } = who;
  const { ask } = answering;

  async function startSequence(interaction: Repliable, result: Reply, how: Delivery): Promise<void> {
    const sequence = result.sequence!;
    const encoding = encodingFor(how.facts, interaction);
    const { rows } = renderActions(sequence.actions, encoding);
    const render = (blocks: Block[]): DiscordMessage => ({
      embeds: sessionEmbeds(result.blocks, blocks),
      components: rows,
    });
    const playLive = live.canPlayLive() && sequence.frames.length > 0;
    const first = render(playLive ? sequence.frames[0]!.blocks : sequence.staticBlocks);
    if (how.deferred) await interaction.editReply(first);
    else if (result.replaceOriginal && interaction.isMessageComponent()) await interaction.update(first);
    else await interaction.reply({ ...first, flags: ephemeral });
    live.play({
      sequence,
      live: playLive,
      userId: how.facts.userId,
      interactionId: interaction.id,
      createdAt: interaction.createdTimestamp,
      render,
      editOriginal: async (message) => (await interaction.editReply(message)).id,
      complete: async () => {
        if (!sequence.onComplete)
          return { ...render(sequence.frames.at(-1)?.blocks ?? sequence.staticBlocks), components: [] };
        const done = await ask(how.actor, { kind: 'action', ...sequence.onComplete });
        const { dropped: _dropped, flags: _flags, ...body } = renderMessage(done, encoding);
        return body;
      },
    });
  }

  return startSequence;
}
