import { MessageType, Routes, type Message } from 'discord.js';
import { readFile } from 'node:fs/promises';
import { context, firstSeen, reply as makeReply, text } from '../../src/core/ports.js';
import type { Answering } from './answering.js';
import type { DiscordContext } from './context.js';
import { actorFrom, dmCommandText, ownerFrom, type ActorFacts } from './parse.js';
import { renderMessage } from './render.js';
import type { Who } from './who.js';

/** Messages typed to Backcare in a DM. */
export function createDirectMessages(ctx: DiscordContext, who: Who, answering: Answering) {
  const { core, log, client, refs } = ctx;
  const { homeGuild } = who;
  const { ask, withPauseNote } = answering;

  // ---- messages typed in a DM ------------------------------------------------------------------------

  /**
   * A message typed to Backcare in a DM is a command, with or without `/backcare`; empty or unknown gets help.
   * Forms and live sessions need an interaction on Discord, so those answers point to the slash command.
   */
  async function onDirectMessage(message: Message): Promise<void> {
    // Bots (Backcare included), server messages and system messages (pins, calls) are not someone asking.
    if (message.author.bot || message.system || message.guildId !== null || message.type !== MessageType.Default)
      return;
    // A gateway resume can replay an event: each message is answered once, across replicas too.
    if (!(await firstSeen(core.deps, `discord:message:${message.id}`))) return;
    const facts: ActorFacts = {
      userId: message.author.id,
      displayName: message.author.globalName ?? message.author.username,
      guildId: await homeGuild(message.author.id),
      manageGuild: false,
      isLead: false,
    };
    const actor = actorFrom(facts);
    const typed = dmCommandText(message.content);
    log.info({ event: 'discord.dm_command' }, 'direct message taken as a command');
    let result = await withPauseNote(actor, await ask(actor, { kind: 'command', text: typed }));
    if (result.form) {
      const hint = `${result.form.title} opens as a form, which Discord only opens from a slash command: use \`/backcare ${typed}\` instead.`;
      result = makeReply(hint, [text(hint)]);
    } else if (result.sequence) {
      // The steps as text; a live, timed session needs the slash command.
      const { sequence, ...rest } = result;
      result = {
        ...rest,
        blocks: [
          ...rest.blocks,
          ...sequence.staticBlocks,
          context(`For a live, timed session use \`/backcare ${typed}\`.`),
        ],
        actions: [],
      };
    }
    const encoding = {
      ctx: facts.guildId && /^\d+$/.test(facts.guildId) ? { guildId: facts.guildId } : {},
      refs,
      owner: ownerFrom(facts),
    };
    const { files, dropped: _dropped, flags: _flags, ...body } = renderMessage(result, encoding);
    await refs.flush();
    const attachments = await Promise.all(
      (files ?? []).map(async (f) => ({ name: f.name, data: await readFile(f.attachment) })),
    );
    await client.rest.post(Routes.channelMessages(message.channelId), {
      body,
      ...(attachments.length > 0 ? { files: attachments } : {}),
    });
  }

  return onDirectMessage;
}
