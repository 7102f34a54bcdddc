import { decodeActionValue, type Reply } from '../../src/core/ports.js';
import type { Answering } from './answering.js';
import { ephemeral, expiredText, type Component, type DiscordContext, type Delivery } from './context.js';
import { decodeCustomId, type MessageContext } from './custom-id.js';
import { actorFrom } from './parse.js';
import { REF_OPTION_PREFIX } from './render.js';
import type { Who } from './who.js';

/** Buttons and selects: resolved to the core action they carry (or a form step), answered through `deliver`. */
export function createComponents(
  ctx: DiscordContext,
  who: Who,
  answering: Answering,
  deliver: (interaction: Component, result: Reply, how: Delivery) => Promise<void>,
  onFormStep: (interaction: Component, draftId: string, step: string) => Promise<void>,
) {
  const { log, live, refs } = ctx;
  const { factsFor, storedPreferences } = who;
  const { within, ask, askTimezoneReply } = answering;

  async function resolveAction(
    interaction: Component,
  ): Promise<{ actionId: string; value: string; ctx: MessageContext } | null> {
    const id = decodeCustomId(interaction.customId);
    if (!id) return null;
    const selected = interaction.isStringSelectMenu() ? interaction.values[0] : undefined;
    const fromRef = async (value: string | undefined) =>
      value?.startsWith(REF_OPTION_PREFIX) ? (await refs.get(value.slice(REF_OPTION_PREFIX.length)))?.value : value;
    switch (id.kind) {
      case 'button':
        return { actionId: id.actionId, value: id.value, ctx: id.ctx };
      case 'select': {
        const value = await fromRef(selected);
        return value === undefined ? null : { actionId: id.actionId, value, ctx: id.ctx };
      }
      case 'ref': {
        const stored = await refs.get(id.key);
        if (!stored) return null;
        const value = stored.value === '' ? await fromRef(selected) : stored.value;
        return value === undefined ? null : { ...stored, value };
      }
      default:
        return null;
    }
  }

  async function onComponent(interaction: Component): Promise<void> {
    const id = decodeCustomId(interaction.customId);
    if (id?.kind === 'form') return onFormStep(interaction, id.draft, id.step);
    const action = await resolveAction(interaction);
    if (!action) {
      log.info({ event: 'discord.component_unknown' }, 'component with an unknown or expired custom id');
      await interaction.reply({ content: expiredText, flags: ephemeral });
      return;
    }
    const work = async () => {
      // A press on a live session's message (Stop, or anything else) ends the session first. Inside the work:
      // when another replica plays it, waiting for it to stop counts towards the deferral, within Discord's 3 s.
      await live.stopFor({
        userId: interaction.user.id,
        messageId: interaction.message.id,
        interactionId: interaction.message.interactionMetadata?.id,
      });
      const facts = await factsFor(interaction, action.ctx);
      const actor = actorFrom(facts);
      // Turning nudges on for the first time needs a timezone Discord cannot give us.
      if (
        action.actionId === 'settings.nudges' &&
        decodeActionValue(action.value, new Date())?.on === true &&
        !(await storedPreferences(actor))
      ) {
        return { facts, actor, result: askTimezoneReply() };
      }
      return {
        facts,
        actor,
        result: await ask(actor, { kind: 'action', actionId: action.actionId, value: action.value }),
      };
    };
    const { value, deferred } = await within('action', work, () => interaction.deferUpdate());
    await deliver(interaction, value.result, { deferred, actor: value.actor, facts: value.facts });
  }

  return onComponent;
}
