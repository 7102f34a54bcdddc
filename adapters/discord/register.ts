import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { REST, Routes, type RESTOptions } from 'discord.js';
import { z } from 'zod';
import { loadRoutineLibrary } from '../../src/core/ports.js';
import { features } from '../../src/core/ports.js';
import { commandJson } from './commands.js';

/**
 * `npm run discord:register`: sends the `/backcare` definition (the same one the adapter parses with) to
 * Discord. With DISCORD_GUILD_ID it goes to that one server and is usable at once (development); without,
 * it is registered globally. A bulk overwrite (PUT), so running it again is harmless.
 */

const registerEnvSchema = z.object({
  DISCORD_TOKEN: z.string({ error: 'is required (the bot token from the Developer Portal)' }).min(1, 'is required'),
  DISCORD_APPLICATION_ID: z
    .string({ error: 'is required (the application id)' })
    .regex(/^\d{15,21}$/, 'must be the application id (a number)'),
  DISCORD_GUILD_ID: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^\d{15,21}$/, 'must be a server id (a number)')
      .optional(),
  ),
});

/** Choices that come from content (the areas `roll` offers) are read from the same routine library the bot loads. */
export const registeredCommands = (library = loadRoutineLibrary()) =>
  commandJson(
    features.flatMap((f) => f.commands ?? []),
    library,
  );

export async function registerCommands(options: {
  token: string;
  applicationId: string;
  guildId?: string | undefined;
  rest?: Partial<RESTOptions>;
}): Promise<{ route: string; count: number }> {
  const rest = new REST(options.rest ?? {}).setToken(options.token);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  const body = [registeredCommands()];
  await rest.put(route, { body });
  return { route, count: body[0]!.options?.length ?? 0 };
}

async function main(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = registerEnvSchema.safeParse(process.env);
  if (!env.success) {
    const issue = env.error.issues[0]!;
    process.stderr.write(`config error: ${issue.path.join('.')} ${issue.message}\n`);
    return 2;
  }
  const { DISCORD_TOKEN, DISCORD_APPLICATION_ID, DISCORD_GUILD_ID } = env.data;
  try {
    const { count } = await registerCommands({
      token: DISCORD_TOKEN,
      applicationId: DISCORD_APPLICATION_ID,
      guildId: DISCORD_GUILD_ID,
    });
    process.stdout.write(
      DISCORD_GUILD_ID
        ? `registered /backcare with ${count} subcommands in server ${DISCORD_GUILD_ID} (usable now)\n`
        : `registered /backcare with ${count} subcommands globally (may take up to an hour to appear everywhere)\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`registration failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then((code) => (process.exitCode = code));
}
