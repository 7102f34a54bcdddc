import {
  ApplicationIntegrationType,
  InteractionContextType,
  SlashCommandBuilder,
  type SlashCommandSubcommandBuilder,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { RegisteredCommand } from '../../src/core/ports.js';
import { resolveOptions, TIMEZONE_MAX_LENGTH, type ResolvedOption } from '../../src/core/ports.js';
import type { RoutineLibrary } from '../../src/core/ports.js';

/**
 * `/backcare` on Discord, derived from the core's command declarations: every listed core command is a
 * subcommand with the options it declares (types, choices, ranges, required), and choices that come from content
 * (the areas `roll` offers) are read from the routine library. The register script sends
 * `buildCommand(...).toJSON()`; the adapter checks interactions against the same specs, so what is registered is
 * what is handled, and nothing here repeats what a command takes.
 */

const COMMAND_NAME = 'backcare';

export interface SubcommandSpec {
  name: string;
  description: string;
  options: readonly ResolvedOption[];
  /** Handled by the adapter itself (Discord-only), not sent to the core as a command. */
  adapterOnly?: boolean;
}

/** Discord-only: which role counts as team leads in this server. */
export const LEAD_ROLE_SUBCOMMAND = 'lead-role';
const adapterSpecs: SubcommandSpec[] = [
  {
    name: LEAD_ROLE_SUBCOMMAND,
    description: 'choose the role whose members count as team leads (Manage Server only)',
    adapterOnly: true,
    options: [
      { type: 'team', name: 'role', description: 'the lead role (leave out to see the current one)' },
      { type: 'string', name: 'clear', description: 'remove the lead role', choices: [{ value: 'yes' }] },
    ],
  },
];

const trim = (value: string, max: number) => (value.length <= max ? value : `${value.slice(0, max - 1)}…`);

type ListedCommand = Pick<RegisteredCommand, 'name' | 'summary' | 'listed' | 'options'>;

/** Subcommand specs derived from the core's registry (listed commands only; Discord allows 25 subcommands). */
export function subcommandSpecs(
  commands: readonly ListedCommand[],
  library: RoutineLibrary | undefined,
): SubcommandSpec[] {
  const specs: SubcommandSpec[] = commands
    .filter((c) => c.listed && /^[a-z0-9-]{1,32}$/.test(c.name))
    .map((c) => ({ name: c.name, description: trim(c.summary, 100), options: resolveOptions(c.options, library) }));
  for (const spec of adapterSpecs) if (!specs.some((s) => s.name === spec.name)) specs.push(spec);
  return specs.slice(0, 25);
}

const choicesOf = (option: Extract<ResolvedOption, { type: 'string' }>) =>
  (option.choices ?? []).map((c) => ({ name: c.label ?? c.value, value: c.value }));

/** A people picker for persons, a role picker for teams (a team on Discord is a role), text with suggestions for timezones. */
function addOptions(
  sub: SlashCommandSubcommandBuilder,
  options: readonly ResolvedOption[],
): SlashCommandSubcommandBuilder {
  for (const option of options) {
    switch (option.type) {
      case 'string':
      case 'words':
      case 'timezone':
        sub.addStringOption((o) => {
          o.setName(option.name)
            .setDescription(option.description)
            .setRequired(option.required ?? false);
          if (option.type === 'timezone') o.setMaxLength(TIMEZONE_MAX_LENGTH).setAutocomplete(true);
          else if (option.maxLength) o.setMaxLength(option.maxLength);
          if (option.type === 'string' && option.choices?.length) o.addChoices(...choicesOf(option));
          if (option.type === 'string' && option.suggest) o.setAutocomplete(true);
          return o;
        });
        break;
      case 'integer':
        sub.addIntegerOption((o) =>
          o
            .setName(option.name)
            .setDescription(option.description)
            .setRequired(option.required ?? false)
            .setMinValue(option.min)
            .setMaxValue(option.max),
        );
        break;
      case 'team':
        sub.addRoleOption((o) =>
          o
            .setName(option.name)
            .setDescription(option.description)
            .setRequired(option.required ?? false),
        );
        break;
      case 'person':
        sub.addUserOption((o) =>
          o
            .setName(option.name)
            .setDescription(option.description)
            .setRequired(option.required ?? false),
        );
        break;
    }
  }
  return sub;
}

/** The `/backcare` command as Discord registers it: usable in servers and in the bot's DMs. */
export function buildCommand(specs: readonly SubcommandSpec[]): SlashCommandBuilder {
  const builder = new SlashCommandBuilder()
    .setName(COMMAND_NAME)
    .setDescription('Backcare: desk breaks, breathing and stretches for your upper back')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
  for (const spec of specs) {
    builder.addSubcommand((sub) => addOptions(sub.setName(spec.name).setDescription(spec.description), spec.options));
  }
  return builder;
}

export function commandJson(
  commands: readonly ListedCommand[],
  library: RoutineLibrary | undefined,
): RESTPostAPIChatInputApplicationCommandsJSONBody {
  return buildCommand(subcommandSpecs(commands, library)).toJSON();
}
