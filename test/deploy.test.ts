import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { envVariables, parseEnv, selectAdapters } from '../src/config/env.js';
import { repoRoot } from './support/spawn.js';

const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8')) as unknown;

const composeSchema = z.object({
  services: z.object({
    postgres: z.object({
      image: z.string().regex(/^postgres:\d+/),
      environment: z.object({ POSTGRES_USER: z.string(), POSTGRES_PASSWORD: z.string(), POSTGRES_DB: z.string() }),
      healthcheck: z.object({ test: z.array(z.string()) }),
    }),
    bot: z.object({
      build: z.string(),
      environment: z.record(z.string(), z.string()),
      depends_on: z.object({ postgres: z.object({ condition: z.literal('service_healthy') }) }),
    }),
  }),
});

describe('docker-compose.yml', () => {
  it('runs PostgreSQL and the bot, the bot waiting for a healthy database it can reach', () => {
    const parsed = composeSchema.parse(compose);
    const { postgres, bot } = parsed.services;
    const url = new URL(bot.environment.DATABASE_URL!);
    expect(url.hostname).toBe('postgres');
    expect(url.username).toBe(postgres.environment.POSTGRES_USER);
    expect(url.password).toBe(postgres.environment.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${postgres.environment.POSTGRES_DB}`);
    // The bot's environment is valid config for the app itself.
    const env = parseEnv(bot.environment);
    expect(env.DATABASE_URL).toBe(bot.environment.DATABASE_URL);
    expect(selectAdapters(env)).toEqual(['console']);
  });

  it('builds from a Dockerfile that ships everything the bot reads at run time', () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    for (const folder of ['src', 'adapters', 'content', 'drizzle']) expect(dockerfile).toMatch(new RegExp(`^COPY ${folder} `, 'm'));
    expect(dockerfile).toMatch(/^RUN npm ci/m);
  });
});

describe('.env.example', () => {
  it('lists every variable the config understands, and nothing else', () => {
    const example = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
    const listed = [...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    const known = [...envVariables].sort();
    expect(listed).toEqual(known);
  });
});
