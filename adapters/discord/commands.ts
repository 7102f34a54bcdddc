import {
  ApplicationIntegrationType,
  InteractionContextType,
  SlashCommandBuilder,
  SlashCommandSubcommandBuilder,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { RegisteredCommand } from '../../src/core/command.js';

/**
 * The one definition of `/backcare` on Discord. The register script sends `buildCommand(...).toJSON()`;
 * the adapter parses interactions with the same specs, so what is registered is what is handled.
 *
 * Subcommands come from the core's command registry: every listed core command is a subcommand. Commands
 * whose arguments Discord can type (choices, integers, autocomplete) have a spec below; any other core
 * command gets one free-text `args` option, so a new core feature shows up on Discord without touching this file.
 */

export const COMMAND_NAME = 'backcare';

export type AutocompleteSource = 'timezone' | 'routine';

export type OptionSpec =
  | {
      kind: 'string';
      name: string;
      description: string;
      required?: boolean;
      choices?: readonly { name: string; value: string }[];
      autocomplete?: AutocompleteSource;
      maxLength?: number;
    }
  | { kind: 'integer'; name: string; description: string; required?: boolean; min: number; max: number }
  | { kind: 'role'; name: string; description: string; required?: boolean }
  /** A person: handed to the core as a `<@id>` mention, as its commands expect. */
  | { kind: 'user'; name: string; description: string; required?: boolean };

export interface SubcommandSpec {
  name: string;
  description: string;
  options: readonly OptionSpec[];
  /** Handled by the adapter itself (Discord-only), not sent to the core as a command. */
  adapterOnly?: boolean;
}

const choice = (value: string, name = value) => ({ name, value });

/** Areas as the core's `stretch`/`roll` parse them (see parseArea in src/core/features/guided.ts). */
export const bodyAreas = ['neck', 'shoulders', 'upper-back', 'mid-back', 'shoulder-blades', 'chest'] as const;
/**
 * Floor work (kneeling, lying, the foam roller) only when asked for: one more choice beside the areas (the core
 * reads the word `floor`), which keeps the whole command inside Discord's size limit.
 */
const areaOrFloor = [...bodyAreas.map((a) => choice(a)), choice('floor', 'floor work')];

/**
 * Typed options for the core commands Discord can type; the order is the order the core reads its words
 * (the option values are joined into the same text a person would type after `/backcare <sub>`).
 */
const typedSpecs: Record<string, readonly OptionSpec[]> = {
  help: [],
  'forget-me': [],
  triage: [],
  settings: [
    {
      kind: 'string',
      name: 'mode',
      description: 'show (default), edit, on or off',
      choices: [choice('show'), choice('edit'), choice('on', 'on (opt in)'), choice('off')],
    },
    {
      kind: 'string',
      name: 'timezone',
      description: 'your timezone (Discord does not share it): start typing a city',
      autocomplete: 'timezone',
      maxLength: 100,
    },
  ],
  breathe: [
    {
      kind: 'string',
      name: 'pattern',
      description: 'breathing pattern (default diaphragmatic)',
      choices: [
        choice('diaphragmatic', 'diaphragmatic (belly)'),
        choice('box'),
        choice('4-7-8'),
        choice('coherent', 'coherent (slow)'),
      ],
    },
    { kind: 'integer', name: 'minutes', description: '1–10 minutes (default: as listed)', min: 1, max: 10 },
  ],
  stretch: [{ kind: 'string', name: 'area', description: 'where it feels tight', choices: areaOrFloor }],
  roll: [{ kind: 'string', name: 'area', description: 'where to roll', choices: areaOrFloor }],
  // Only the areas strengthening routines work on (the whole command must stay inside Discord's size limit).
  strengthen: [
    {
      kind: 'string',
      name: 'area',
      description: 'which muscles',
      choices: [...['shoulder-blades', 'mid-back', 'chest'].map((a) => choice(a)), choice('floor', 'floor work')],
    },
  ],
  habits: [
    {
      kind: 'string',
      name: 'topic',
      description: 'which habit',
      choices: ['desk', 'heat', 'water', 'sleep', 'breaks'].map((t) => choice(t)),
    },
  ],
  relax: [
    {
      kind: 'string',
      name: 'kind',
      description: 'kind of relaxation',
      choices: [
        choice('pmr', 'progressive muscle relaxation'),
        choice('body-scan', 'body scan'),
        choice('visualise', 'visualisation'),
      ],
    },
  ],
  routine: [
    {
      kind: 'string',
      name: 'routine',
      description: '"list" or a routine id: start typing',
      autocomplete: 'routine',
      maxLength: 40,
    },
    {
      kind: 'integer',
      name: 'minutes',
      description: 'or: a mixed programme of this many minutes (5–30)',
      min: 5,
      max: 30,
    },
  ],
  nudge: [
    { kind: 'string', name: 'when', description: 'get your next nudge now', required: true, choices: [choice('now')] },
  ],
  me: [
    {
      kind: 'string',
      name: 'export',
      description: 'download everything stored about you',
      choices: [choice('export', 'export my data')],
    },
  ],
  admin: [
    {
      kind: 'string',
      name: 'action',
      description: 'what to do',
      required: true,
      choices: [choice('forget', 'forget a person (delete their data)')],
    },
    { kind: 'user', name: 'person', description: 'whose data', required: true },
  ],
  stats: [
    { kind: 'role', name: 'team', description: 'a role to report on (default: the whole server)' },
    { kind: 'integer', name: 'weeks', description: 'how many weeks back (default 4)', min: 1, max: 26 },
    { kind: 'string', name: 'csv', description: 'also export a CSV', choices: [choice('csv', 'yes, as CSV')] },
  ],
  lead: [
    {
      kind: 'string',
      name: 'action',
      description: 'list (default), add or remove',
      choices: [choice('list'), choice('add'), choice('remove')],
    },
    { kind: 'user', name: 'person', description: 'who (for add and remove)' },
  ],
};

/** Discord-only: which role counts as team leads in this server. */
export const LEAD_ROLE_SUBCOMMAND = 'lead-role';
const adapterSpecs: SubcommandSpec[] = [
  {
    name: LEAD_ROLE_SUBCOMMAND,
    description: 'choose the role whose members count as team leads (Manage Server only)',
    adapterOnly: true,
    options: [
      { kind: 'role', name: 'role', description: 'the lead role (leave out to see the current one)' },
      { kind: 'string', name: 'clear', description: 'remove the lead role', choices: [choice('yes')] },
    ],
  },
];

const trim = (value: string, max: number) => (value.length <= max ? value : `${value.slice(0, max - 1)}…`);

/** Subcommand specs derived from the core's registry (listed commands only; Discord allows 25 subcommands). */
export function subcommandSpecs(
  commands: readonly Pick<RegisteredCommand, 'name' | 'summary' | 'listed'>[],
): SubcommandSpec[] {
  const specs: SubcommandSpec[] = commands
    .filter((c) => c.listed && /^[a-z0-9-]{1,32}$/.test(c.name))
    .map((c) => ({
      name: c.name,
      description: trim(c.summary, 100),
      options: typedSpecs[c.name] ?? [
        {
          kind: 'string',
          name: 'args',
          description: 'anything after the command, as you would type it',
          maxLength: 200,
        } as const,
      ],
    }));
  for (const spec of adapterSpecs) if (!specs.some((s) => s.name === spec.name)) specs.push(spec);
  return specs.slice(0, 25);
}

function addOptions(sub: SlashCommandSubcommandBuilder, options: readonly OptionSpec[]): SlashCommandSubcommandBuilder {
  for (const option of options) {
    switch (option.kind) {
      case 'string':
        sub.addStringOption((o) => {
          o.setName(option.name)
            .setDescription(option.description)
            .setRequired(option.required ?? false);
          if (option.maxLength) o.setMaxLength(option.maxLength);
          if (option.choices) o.addChoices(...option.choices);
          if (option.autocomplete) o.setAutocomplete(true);
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
      case 'role':
        sub.addRoleOption((o) =>
          o
            .setName(option.name)
            .setDescription(option.description)
            .setRequired(option.required ?? false),
        );
        break;
      case 'user':
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
  commands: readonly Pick<RegisteredCommand, 'name' | 'summary' | 'listed'>[],
): RESTPostAPIChatInputApplicationCommandsJSONBody {
  return buildCommand(subcommandSpecs(commands)).toJSON();
}
