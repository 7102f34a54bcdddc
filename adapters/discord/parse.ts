import { ApplicationCommandOptionType } from 'discord.js';
import { z } from 'zod';
import type { Actor } from '../../src/core/ports.js';
import { checkOptionValue, commandTextFrom, type OptionValues, type ResolvedOption } from '../../src/core/ports.js';
import type { SubcommandSpec } from './commands.js';

/**
 * Pure translations from what Discord sends to what the core reads. Everything here is validated:
 * interaction data can be replayed or forged by a modified client.
 */

const optionValue = z.union([z.string().max(6000), z.number(), z.boolean()]);

/** `interaction.options.data` of a `/backcare <sub>` call: one subcommand holding its options. */
const subcommandDataSchema = z
  .array(
    z.object({
      name: z.string().min(1).max(32),
      type: z.literal(ApplicationCommandOptionType.Subcommand),
      options: z
        .array(
          z.object({
            name: z.string().min(1).max(32),
            type: z.number().int(),
            value: optionValue.optional(),
            focused: z.boolean().optional(),
          }),
        )
        .max(25)
        .optional(),
    }),
  )
  .length(1);

export type { OptionValues };

export type ParsedCommand =
  { ok: true; spec: SubcommandSpec; values: OptionValues; focused?: string } | { ok: false; error: string };

const snowflake = /^\d{15,21}$/;

/** The core's check for the declared type, choices and range; people and roles must also be Discord ids. */
function checkValue(option: ResolvedOption, value: unknown): string | number | null {
  if ((option.type === 'person' || option.type === 'team') && !(typeof value === 'string' && snowflake.test(value)))
    return null;
  return checkOptionValue(option, value);
}

/**
 * Matches the subcommand and its options against the registered specs. Unknown options or values outside
 * their choices are errors; for autocomplete, the focused option may hold a partial value.
 */
export function parseCommandOptions(specs: readonly SubcommandSpec[], data: unknown): ParsedCommand {
  const parsed = subcommandDataSchema.safeParse(data);
  if (!parsed.success) return { ok: false, error: 'that command did not come through as expected' };
  const [sub] = parsed.data;
  const spec = specs.find((s) => s.name === sub!.name);
  if (!spec)
    return { ok: false, error: `\`${sub!.name}\` is not a Backcare command (the command list may be out of date)` };
  const values: OptionValues = {};
  let focused: string | undefined;
  for (const option of sub!.options ?? []) {
    const optionSpec = spec.options.find((o) => o.name === option.name);
    if (!optionSpec) return { ok: false, error: `\`${option.name}\` is not an option of \`${spec.name}\`` };
    if (option.focused) {
      focused = option.name;
      values[option.name] = typeof option.value === 'string' ? option.value : String(option.value ?? '');
      continue;
    }
    const value = checkValue(optionSpec, option.value);
    if (value === null) return { ok: false, error: `\`${option.name}\` has a value I cannot use` };
    values[option.name] = value;
  }
  for (const optionSpec of spec.options) {
    if (optionSpec.required && values[optionSpec.name] === undefined)
      return { ok: false, error: `\`${optionSpec.name}\` is required` };
  }
  return { ok: true, spec, values, ...(focused ? { focused } : {}) };
}

/**
 * The command text the core parses, written by the core from its own declaration. A team on Discord is a role,
 * handed over as the role mention the Discord team resolver reads.
 */
export function commandText(spec: SubcommandSpec, values: OptionValues): string {
  const withRoles: OptionValues = { ...values };
  for (const option of spec.options)
    if (option.type === 'team' && values[option.name] !== undefined)
      withRoles[option.name] = `<@&${values[option.name]}>`;
  return commandTextFrom(spec.name, spec.options, withRoles);
}

/** A DM's text as the core's command: the words after an optional `/backcare` (or `backcare`) and a mention of the bot. */
export function dmCommandText(content: string): string {
  return content
    .trim()
    .replace(/^<@!?\d{15,21}>\s*/, '')
    .replace(/^\/?backcare(?=\s|$)\s*/i, '')
    .trim()
    .slice(0, 2000);
}

/** What the adapter knows about the person pressing or typing. */
export interface ActorFacts {
  userId: string;
  displayName?: string | undefined;
  /** The guild the request is about: the interaction's own, or the one a DM message names. */
  guildId?: string | undefined;
  guildName?: string | undefined;
  /** Manage Server in that guild (only known in the guild itself). */
  manageGuild: boolean;
  isLead: boolean;
  timezone?: string | undefined;
}

/** DMs with no guild to attach to get a personal workspace, so nobody's data mixes with a team's. */
const dmWorkspaceId = (userId: string) => `dm-${userId}`;

/** The workspace and user a stored draft or button reference belongs to: the same as the actor's. */
export const ownerFrom = (facts: Pick<ActorFacts, 'userId' | 'guildId'>) => ({
  workspaceExternalId: facts.guildId ?? dmWorkspaceId(facts.userId),
  userId: facts.userId,
});

export function actorFrom(facts: ActorFacts): Actor {
  return {
    platform: 'discord',
    workspaceExternalId: ownerFrom(facts).workspaceExternalId,
    ...(facts.guildName ? { workspaceName: facts.guildName.slice(0, 200) } : {}),
    userExternalId: facts.userId,
    ...(facts.displayName ? { displayName: facts.displayName.slice(0, 200) } : {}),
    ...(facts.timezone ? { timezone: facts.timezone } : {}),
    isAdmin: facts.manageGuild,
    isLead: facts.manageGuild || facts.isLead,
  };
}

/** Every IANA zone the runtime knows (Discord has no user timezone, so people pick theirs). */
const allZones = (() => {
  const zones = new Set(Intl.supportedValuesOf('timeZone'));
  zones.add('UTC');
  return [...zones];
})();

/** Up to 25 timezones matching what was typed: prefix matches of the city first, then anywhere. */
export function timezoneSuggestions(typed: string, max = 25): { name: string; value: string }[] {
  const query = typed.trim().toLowerCase().replace(/\s+/g, '_');
  const scored = allZones
    .map((zone) => {
      const lower = zone.toLowerCase();
      const city = lower.split('/').pop() ?? lower;
      const rank =
        query === '' ? 2 : city.startsWith(query) ? 0 : lower.startsWith(query) ? 1 : lower.includes(query) ? 2 : 3;
      return { zone, rank };
    })
    .filter((z) => z.rank < 3)
    .sort((a, b) => a.rank - b.rank || a.zone.localeCompare(b.zone));
  return scored.slice(0, max).map(({ zone }) => ({ name: zone.replace(/_/g, ' '), value: zone }));
}
