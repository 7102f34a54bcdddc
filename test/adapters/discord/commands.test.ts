import {
  ApplicationCommandOptionType,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandSubcommandOption,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCommand, subcommandSpecs } from '../../../adapters/discord/commands.js';
import { registerCommands, registeredCommands } from '../../../adapters/discord/register.js';
import { resolveOptions, type ResolvedOption } from '../../../src/core/command-options.js';
import { areaWords } from '../../../src/core/features/guided/guided.js';
import { features } from '../../../src/core/features/index.js';
import { ask, testActor, testLibrary } from '../../support/core.js';
import { openTestDatabase } from '../../support/db.js';
import type { Database } from '../../../src/db/client.js';
import { startFakeDiscordApi } from '../../support/discord/fake-api.js';
import {
  APP_ID,
  autocomplete,
  BOT_TOKEN,
  GUILD_ID,
  MANAGE_GUILD_PERMISSIONS,
  slashCommand,
  type RawOption,
} from '../../support/discord/payloads.js';
import { startHarness, type Harness } from './harness.js';

const json = registeredCommands();
const subcommands = (json.options ?? []) as APIApplicationCommandSubcommandOption[];

describe('the /backcare registration', () => {
  it('is what the adapter parses with: the same builder output from the same core commands', async () => {
    const { core } = await import('./harness-core.js').then((m) => m.coreWithoutDb());
    expect(buildCommand(subcommandSpecs(core.commands, core.deps.library)).toJSON()).toEqual(json);
  });

  it('has every listed core command as a subcommand, within Discord’s limits', () => {
    const names = subcommands.map((s) => s.name);
    for (const command of features.flatMap((f) => f.commands ?? []).filter((c) => c.listed))
      expect(names).toContain(command.name);
    expect(names).toContain('lead-role');
    expect(subcommands.length).toBeLessThanOrEqual(25);
    expect(json.name).toBe('backcare');
    expect(json.contexts).toEqual([0, 1]);
    for (const sub of subcommands) {
      expect(sub.type).toBe(ApplicationCommandOptionType.Subcommand);
      expect(sub.name).toMatch(/^[-_a-z0-9]{1,32}$/);
      expect(sub.description.length).toBeGreaterThan(0);
      expect(sub.description.length).toBeLessThanOrEqual(100);
      for (const option of (sub.options ?? []) as APIApplicationCommandBasicOption[]) {
        expect(option.description.length).toBeLessThanOrEqual(100);
        const choices = 'choices' in option ? (option.choices ?? []) : [];
        expect(choices.length).toBeLessThanOrEqual(25);
      }
    }
    expect(JSON.stringify(json).length).toBeLessThanOrEqual(8000);
  });

  it('npm run discord:register puts exactly this JSON to the guild route, or the global one', async () => {
    const api = await startFakeDiscordApi();
    try {
      await registerCommands({ token: BOT_TOKEN, applicationId: APP_ID, guildId: GUILD_ID, rest: { api: api.api } });
      await registerCommands({ token: BOT_TOKEN, applicationId: APP_ID, rest: { api: api.api } });
      expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        `PUT /applications/${APP_ID}/guilds/${GUILD_ID}/commands`,
        `PUT /applications/${APP_ID}/commands`,
      ]);
      for (const request of api.requests) expect(request.body).toEqual([json]);
    } finally {
      await api.close();
    }
  });
});

/** What Discord should register for one declared option: its type, choices, range and required, nothing invented. */
function expectedJson(option: ResolvedOption) {
  const base = { name: option.name, description: option.description, required: option.required ?? false };
  switch (option.type) {
    case 'string':
      return {
        ...base,
        type: ApplicationCommandOptionType.String,
        ...(option.maxLength ? { max_length: option.maxLength } : {}),
        ...(option.choices?.length
          ? { choices: option.choices.map((c) => ({ name: c.label ?? c.value, value: c.value })) }
          : {}),
        ...(option.suggest ? { autocomplete: true } : {}),
      };
    case 'words':
      return { ...base, type: ApplicationCommandOptionType.String, max_length: option.maxLength };
    case 'timezone':
      return { ...base, type: ApplicationCommandOptionType.String, max_length: 100, autocomplete: true };
    case 'integer':
      return { ...base, type: ApplicationCommandOptionType.Integer, min_value: option.min, max_value: option.max };
    case 'person':
      return { ...base, type: ApplicationCommandOptionType.User };
    case 'team':
      return { ...base, type: ApplicationCommandOptionType.Role };
  }
}

describe('the /backcare registration is derived from the core’s declarations', () => {
  const listed = features.flatMap((f) => f.commands ?? []).filter((c) => c.listed);

  it('every declared command and option appears, in order, with the same choices, range and required', () => {
    for (const command of listed) {
      const sub = subcommands.find((s) => s.name === command.name);
      expect(sub, command.name).toBeDefined();
      const registered = (sub!.options ?? []) as APIApplicationCommandBasicOption[];
      const declared = resolveOptions(command.options, testLibrary());
      expect(
        registered.map((o) => o.name),
        command.name,
      ).toEqual(declared.map((o) => o.name));
      declared.forEach((option, i) =>
        expect(registered[i], `${command.name}.${option.name}`).toEqual(expectedJson(option)),
      );
    }
  });

  it('`roll`, `stretch` and `strengthen` offer exactly the areas that have routines in the library at the desk', () => {
    const areaChoices = (name: string) => {
      const option = (subcommands.find((s) => s.name === name)!.options ?? []).find((o) => o.name === 'area');
      return ((option as { choices?: { value: string }[] }).choices ?? []).map((c) => c.value);
    };
    const library = testLibrary();
    const withRoutines = (kinds: string[]) =>
      (Object.keys(areaWords) as (keyof typeof areaWords)[])
        .filter((area) =>
          library.all().some((r) => kinds.includes(r.kind) && r.targets.includes(area) && r.place !== 'floor'),
        )
        .map((area) => areaWords[area]);
    expect(areaChoices('roll')).toEqual([...withRoutines(['foam_roll', 'trigger_point']), 'floor']);
    expect(areaChoices('roll')).not.toContain('neck');
    expect(areaChoices('roll')).not.toContain('chest');
    expect(areaChoices('stretch')).toEqual([...withRoutines(['stretch']), 'floor']);
    expect(areaChoices('strengthen')).toEqual([...withRoutines(['strength']), 'floor']);
  });
});

/** What a person would type after `/backcare <sub>`, from the core command's own examples (for the free-text `args`). */
function exampleArgs(sub: string): string[] {
  const command = features.flatMap((f) => f.commands ?? []).find((c) => c.name === sub);
  return (command?.examples ?? []).map((e) => e.replace(new RegExp(`^/backcare ${sub}\\s*`), '')).filter(Boolean);
}

/** Sample values for one registered option, read from the registration JSON itself. */
function samples(option: APIApplicationCommandBasicOption, routineId: string, sub = ''): RawOption[] {
  const make = (value: string | number) => ({ name: option.name, type: option.type, value });
  if (option.name === 'args') return exampleArgs(sub).map(make);
  if ('choices' in option && option.choices?.length) return option.choices.map((c) => make(c.value));
  switch (option.type) {
    case ApplicationCommandOptionType.Integer:
      return [make(option.min_value ?? 1), make(option.max_value ?? 1)];
    case ApplicationCommandOptionType.String:
      if (option.autocomplete)
        return option.name === 'timezone' ? [make('Europe/London')] : [make(routineId), make('list')];
      return [make('now')];
    case ApplicationCommandOptionType.User:
      return [make('666666666666666667')];
    case ApplicationCommandOptionType.Role:
      return [make('555555555555555556')];
    default:
      throw new Error(`the walk does not know option type ${option.type}`);
  }
}

const failure =
  /Usage:|I don't know|I have no|not a Backcare command|something went wrong|not an option|cannot use|did not come through/;

describe('every registered subcommand and option is handled', () => {
  let database: Database;
  let h: Harness;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
    h = await startHarness(database.db, { timeScale: 0.0005 });
  });
  afterAll(async () => {
    await h.close();
    await database.close();
  });

  async function run(sub: string, values: RawOption[]): Promise<string> {
    const payload = slashCommand(sub, values, { kind: 'guild', permissions: MANAGE_GUILD_PERMISSIONS });
    await h.emit(payload);
    const callbacks = h.callbacks(payload.id);
    expect(callbacks.length, `${sub} ${JSON.stringify(values)} was answered`).toBeGreaterThan(0);
    return JSON.stringify(callbacks);
  }

  it('walks each subcommand with no options and with each option value, through the adapter to the core', async () => {
    const routineId = h.core.deps.library!.all()[0]!.id;
    let walked = 0;
    for (const sub of subcommands) {
      const options = (sub.options ?? []) as APIApplicationCommandBasicOption[];
      const required = options.filter((o) => o.required).map((o) => samples(o, routineId, sub.name)[0]!);
      const cases: RawOption[][] = [required];
      for (const option of options.filter((o) => !o.required))
        for (const sample of samples(option, routineId, sub.name)) cases.push([...required, sample]);
      for (const optionValues of cases) {
        // An option alone may be an incomplete sentence (`lead add` wants a person): then, with every other
        // option filled in too, the core must accept it. Either way nothing may be lost in translation.
        let answer = await run(sub.name, optionValues);
        if (/Usage:/.test(answer)) {
          const others = options
            .filter((o) => !optionValues.some((v) => v.name === o.name))
            .map((o) => samples(o, routineId, sub.name));
          const combos = others.reduce<RawOption[][]>(
            (acc, values) => acc.flatMap((combo) => values.map((v) => [...combo, v])),
            [[]],
          );
          for (const combo of combos) {
            answer = await run(sub.name, [...optionValues, ...combo]);
            if (!/Usage:/.test(answer)) break;
          }
        }
        expect(answer, `${sub.name} ${JSON.stringify(optionValues)}`).not.toMatch(failure);
        walked++;
      }
    }
    expect(walked).toBeGreaterThan(subcommands.length);
    // Hundreds of interactions through the adapter and the core: about 12 s idle, far more on a loaded machine.
  }, 120_000);

  it('every area a person can type for `roll` starts a session exactly when Discord offers it', async () => {
    const offered = (
      (subcommands.find((s) => s.name === 'roll')!.options ?? []) as { name: string; choices?: { value: string }[] }[]
    )
      .find((o) => o.name === 'area')!
      .choices!.map((c) => c.value);
    const actor = testActor({
      platform: 'discord',
      workspaceExternalId: GUILD_ID,
      userExternalId: '666666666666666661',
    });
    for (const area of Object.values(areaWords)) {
      const answer = await ask(h.core, `roll ${area}`, actor);
      expect(answer.summary.startsWith('I have no'), `roll ${area}: ${answer.summary}`).toBe(!offered.includes(area));
    }
  });

  it('answers every autocomplete option with at most 25 choices that the command then accepts', async () => {
    const autocompleted = subcommands.flatMap((sub) =>
      ((sub.options ?? []) as APIApplicationCommandBasicOption[])
        .filter((o) => 'autocomplete' in o && o.autocomplete)
        .map((o) => ({ sub: sub.name, option: o })),
    );
    expect(autocompleted.map((a) => `${a.sub}.${a.option.name}`).sort()).toEqual([
      'routine.routine',
      'settings.timezone',
    ]);
    for (const { sub, option } of autocompleted) {
      const payload = autocomplete(sub, [{ name: option.name, type: option.type, value: '', focused: true }]);
      await h.emit(payload);
      const [callback] = h.callbacks(payload.id);
      expect(callback!.type).toBe(8);
      const choices = callback!.data!.choices as { name: string; value: string }[];
      expect(choices.length).toBeGreaterThan(0);
      expect(choices.length).toBeLessThanOrEqual(25);
      for (const choice of choices) expect(choice.name.length).toBeLessThanOrEqual(100);
      const picked = slashCommand(sub, [{ name: option.name, type: option.type, value: choices[1]!.value }]);
      await h.emit(picked);
      expect(JSON.stringify(h.callbacks(picked.id))).not.toMatch(failure);
    }
  });
});
