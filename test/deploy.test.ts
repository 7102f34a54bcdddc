import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { envVariables, parseEnv, selectAdapters } from '../src/config/env.js';
import { repoRoot } from './support/spawn.js';
import { findProjectRoot } from '../src/project-root.js';
import { migrationsFolder } from '../src/db/client.js';
import { defaultRoutinesDir } from '../src/core/content/loader.js';
import { defaultTriageFile } from '../src/core/features/triage/load.js';
import { SHUTDOWN_GRACE_MS } from '../src/ops/runtime.js';

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

  it('builds from a Dockerfile that compiles the bot and runs it as the main process, shipping what it reads at run time', () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    const [build, runtime] = dockerfile.split(/^FROM /m).slice(1);
    expect(build).toBeDefined();
    expect(runtime).toBeDefined();
    // content/ too: the build validates it and stores it parsed (dist/content-cache.json).
    for (const folder of ['src', 'adapters', 'content']) expect(build).toMatch(new RegExp(`^COPY ${folder} `, 'm'));
    expect(build).toMatch(/^RUN npm ci/m);
    expect(build).toMatch(/^RUN npm run build$/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    for (const folder of ['content', 'drizzle']) expect(runtime).toMatch(new RegExp(`^COPY ${folder} `, 'm'));
    expect(runtime).toMatch(/^RUN npm ci --omit=dev/m);
    // Exec form with node itself: no npm or shell in between to swallow docker stop's SIGTERM.
    const cmd = [...runtime!.matchAll(/^CMD (.*)$/gm)].map((m) => m[1]);
    expect(cmd).toHaveLength(1);
    expect(JSON.parse(cmd[0]!)).toEqual(['node', 'dist/src/main.js']);
  });

  it('npm run build compiles src and adapters into dist/, then writes the content cache; the typecheck config stays noEmit', () => {
    const pkg = z
      .object({ scripts: z.record(z.string(), z.string()) })
      .parse(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')));
    expect(pkg.scripts.build).toBe(
      'node node_modules/typescript7/bin/tsc -p tsconfig.build.json && node dist/src/core/content/write-content-cache.js',
    );
    // npm runs a script through `sh -c`; exec makes node replace that shell so npm's forwarded SIGTERM reaches the bot.
    expect(pkg.scripts.start).toBe('exec node --import tsx src/main.ts');
    const stripComments = (text: string) => text.replace(/^\s*\/\/.*$/gm, '');
    const tsconfig = z
      .object({ compilerOptions: z.object({ noEmit: z.boolean() }) })
      .parse(JSON.parse(readFileSync(path.join(repoRoot, 'tsconfig.json'), 'utf8')));
    expect(tsconfig.compilerOptions.noEmit).toBe(true);
    const buildConfig = z
      .object({
        extends: z.string(),
        compilerOptions: z.object({ noEmit: z.literal(false), outDir: z.literal('dist'), rootDir: z.literal('.') }),
        include: z.array(z.string()),
      })
      .parse(JSON.parse(stripComments(readFileSync(path.join(repoRoot, 'tsconfig.build.json'), 'utf8'))));
    expect(buildConfig.extends).toBe('./tsconfig.json');
    expect(buildConfig.include).toEqual(expect.arrayContaining(['src', 'adapters']));
    expect(readFileSync(path.join(repoRoot, '.gitignore'), 'utf8').split('\n')).toContain('dist/');
  });

  it('content/ and drizzle/ resolve from the project root whether the code runs from src/ or dist/src/', () => {
    expect(findProjectRoot(path.join(repoRoot, 'src/db'))).toBe(repoRoot);
    expect(findProjectRoot(path.join(repoRoot, 'dist/src/core/content'))).toBe(repoRoot);
    expect(migrationsFolder).toBe(path.join(repoRoot, 'drizzle'));
    expect(defaultRoutinesDir).toBe(path.join(repoRoot, 'content/routines'));
    expect(defaultTriageFile).toBe(path.join(repoRoot, 'content/triage.yaml'));
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

const probe = z.object({ httpGet: z.object({ path: z.string(), port: z.string() }) });
const deploymentSchema = z.object({
  kind: z.literal('Deployment'),
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    replicas: z.number().int(),
    strategy: z.object({ type: z.enum(['RollingUpdate', 'Recreate']) }),
    template: z.object({
      spec: z.object({
        terminationGracePeriodSeconds: z.number(),
        containers: z.tuple([
          z.object({
            env: z.array(z.object({ name: z.string(), value: z.string() })),
            envFrom: z.array(z.object({ secretRef: z.object({ name: z.string() }) })),
            ports: z.array(z.object({ name: z.string(), containerPort: z.number() })),
            readinessProbe: probe,
            livenessProbe: probe,
          }),
        ]),
      }),
    }),
  }),
});

describe('deploy/kubernetes.yaml', () => {
  const documents = parseAllDocuments(readFileSync(path.join(repoRoot, 'deploy/kubernetes.yaml'), 'utf8')).map(
    (d) => d.toJSON() as { kind: string },
  );
  const deployments = documents
    .filter((d) => d.kind === 'Deployment')
    .map((d) => deploymentSchema.parse(d))
    .map((d) => {
      const [container] = d.spec.template.spec.containers;
      // The secret supplies DATABASE_URL and the tokens; a placeholder stands in for what the config requires.
      const env = parseEnv({
        ...Object.fromEntries(container.env.map((e) => [e.name, e.value])),
        DATABASE_URL: 'postgres://backcare@db/backcare',
      });
      const port = (name: string) => container.ports.find((p) => p.name === name)?.containerPort;
      return { d, container, env, port };
    });

  it('every pod: readiness on /readyz and liveness on /healthz of HEALTH_PORT, and SIGKILL only after the drain', () => {
    expect(deployments.length).toBe(2);
    for (const { d, container, env, port } of deployments) {
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
      expect(port('health')).toBe(env.HEALTH_PORT);
      expect(d.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(SHUTDOWN_GRACE_MS + 5000);
      expect(container.envFrom).toEqual([{ secretRef: { name: 'backcare' } }]);
    }
  });

  it('Slack on two replicas behind the Service, rolling; Discord one pod that stops before the next starts', () => {
    const slack = deployments.find((x) => x.env.BACKCARE_ADAPTER === 'slack')!;
    expect(slack.d.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(slack.d.spec.strategy.type).toBe('RollingUpdate');
    expect(slack.port('slack')).toBe(slack.env.PORT);
    const service = z
      .object({ spec: z.object({ ports: z.array(z.object({ targetPort: z.string() })) }) })
      .parse(documents.find((d) => d.kind === 'Service'));
    expect(service.spec.ports.map((p) => p.targetPort)).toEqual(['slack']);
    const discord = deployments.find((x) => x.env.BACKCARE_ADAPTER === 'discord')!;
    expect(discord.d.spec.replicas).toBe(1);
    expect(discord.d.spec.strategy.type).toBe('Recreate');
  });
});

describe('deploy/docker-compose.replicas.yml and deploy/haproxy.cfg', () => {
  const replicas = z
    .object({
      services: z.object({
        postgres: z.object({ environment: z.object({ POSTGRES_USER: z.string(), POSTGRES_DB: z.string() }) }),
        bot: z.object({
          build: z.string(),
          environment: z.record(z.string(), z.string()),
          ports: z.array(z.string()).optional(),
          expose: z.array(z.string()),
          stop_grace_period: z.string().regex(/^\d+s$/),
        }),
        lb: z.object({ image: z.string(), volumes: z.array(z.string()), ports: z.array(z.string()) }),
      }),
    })
    .parse(parse(readFileSync(path.join(repoRoot, 'deploy/docker-compose.replicas.yml'), 'utf8')));
  const { bot, lb } = replicas.services;
  const env = parseEnv(bot.environment);
  const haproxy = readFileSync(path.join(repoRoot, 'deploy/haproxy.cfg'), 'utf8');
  const setting = (name: string) => haproxy.match(new RegExp(`^\\s+${name} (.+)$`, 'm'))?.[1];

  it('scales the Slack bot with no host port of its own, from the project root, on the shared database', () => {
    expect(selectAdapters(env)).toEqual(['slack']);
    expect(new URL(env.DATABASE_URL!).hostname).toBe('postgres');
    expect(bot.ports).toBeUndefined();
    expect(bot.build).toBe('..');
    expect(bot.expose.map(Number).sort()).toEqual([env.PORT, env.HEALTH_PORT].sort());
    expect(Number(bot.stop_grace_period.slice(0, -1)) * 1000).toBeGreaterThan(SHUTDOWN_GRACE_MS);
  });

  it('balances over every replica found by DNS, on the bot port, out of rotation when /readyz is not 200', () => {
    expect(lb.volumes).toContain('./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    expect(setting('server-template')).toBe(`bot 10 bot:${env.PORT}`);
    expect(setting('option httpchk')).toBe('GET /readyz');
    expect(setting('http-check expect')).toBe('status 200');
    expect(setting('default-server')).toMatch(new RegExp(`^check port ${env.HEALTH_PORT} .*resolvers docker`));
    expect(lb.ports).toEqual([`${env.PORT}:${env.PORT}`]);
    expect(setting('bind')).toBe(`:${env.PORT}`);
  });

  it('answers within Slack 3 s and retries a replica that went away before answering, never one that answered', () => {
    expect(setting('timeout server')).toBe('3s');
    expect(setting('retry-on')?.split(' ')).toContain('conn-failure');
    expect(setting('retry-on')).not.toMatch(/5\d\d|response-timeout|all-retryable/);
    expect(setting('option redispatch')).toBeDefined();
  });
});
