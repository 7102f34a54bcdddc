import type { AutocompleteInteraction, ChatInputCommandInteraction } from 'discord.js';
import type { Reply } from '../../src/core/ports.js';
import type { Answering } from './answering.js';
import { LEAD_ROLE_SUBCOMMAND } from './commands.js';
import { ephemeral, type DiscordContext, type Delivery } from './context.js';
import type { createLeadRoleCommand } from './lead-role.js';
import { actorFrom, commandText, parseCommandOptions, timezoneSuggestions } from './parse.js';
import type { Who } from './who.js';

/** `/backcare <subcommand>`: typed options to a core command (settings and lead-role have their own flows). */
export function createSlash(
  ctx: DiscordContext,
  who: Who,
  answering: Answering,
  leadRoleCommand: ReturnType<typeof createLeadRoleCommand>,
  deliver: (interaction: ChatInputCommandInteraction, result: Reply, how: Delivery) => Promise<void>,
) {
  const { log, specs } = ctx;
  const options = { routineChoices: ctx.routineChoices };
  const { factsFor } = who;
  const { within, ask, settingsFlow, withPauseNote } = answering;

  async function onCommand(interaction: ChatInputCommandInteraction): Promise<void> {
    const parsed = parseCommandOptions(specs, interaction.options.data);
    if (!parsed.ok) {
      log.info({ event: 'discord.command_invalid', error: parsed.error }, 'invalid command options');
      await interaction.reply({ content: `Sorry: ${parsed.error}. Try \`/backcare help\`.`, flags: ephemeral });
      return;
    }
    const { spec, values } = parsed;
    const work = async () => {
      const facts = await factsFor(interaction);
      const actor = actorFrom(facts);
      if (spec.name === LEAD_ROLE_SUBCOMMAND) return { facts, actor, result: await leadRoleCommand(facts, values) };
      const result =
        spec.name === 'settings'
          ? await settingsFlow(actor, values)
          : await ask(actor, { kind: 'command', text: commandText(spec, values) });
      return { facts, actor, result: await withPauseNote(actor, result) };
    };
    const { value, deferred } = await within(spec.name, work, () => interaction.deferReply({ flags: ephemeral }));
    await deliver(interaction, value.result, { deferred, actor: value.actor, facts: value.facts });
  }

  async function onAutocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const parsed = parseCommandOptions(specs, interaction.options.data);
    if (!parsed.ok || !parsed.focused) {
      await interaction.respond([]);
      return;
    }
    const spec = parsed.spec.options.find((o) => o.name === parsed.focused);
    const typed = String(parsed.values[parsed.focused] ?? '');
    if (spec?.type === 'timezone') {
      await interaction.respond(timezoneSuggestions(typed));
      return;
    }
    if (spec?.type === 'string' && spec.suggest === 'routine') {
      const lower = typed.toLowerCase();
      const routines = [{ id: 'list', title: 'list all routines' }, ...(options.routineChoices?.() ?? [])];
      await interaction.respond(
        routines
          .filter((r) => r.id.includes(lower) || r.title.toLowerCase().includes(lower))
          .slice(0, 25)
          .map((r) => ({
            name: r.id === 'list' ? 'list: every routine' : `${r.title} (${r.id})`.slice(0, 100),
            value: r.id,
          })),
      );
      return;
    }
    await interaction.respond([]);
  }

  return { onCommand, onAutocomplete };
}
