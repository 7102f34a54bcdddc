import { z } from 'zod';

/** Empty strings in .env files mean "not set", not "set to nothing". */
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

/** A whole number in a range; every way of missing it gets the same message naming the range. */
const wholeNumber = (min: number, max: number, note = '') => {
  const message = `must be a whole number from ${min} to ${max}${note}`;
  return z.number({ error: message }).int(message).min(min, message).max(max, message);
};

const intFrom = (min: number, max: number, fallback: number, note = '') =>
  z.preprocess((v) => (v === undefined || v === '' ? fallback : Number(v)), wholeNumber(min, max, note));

const adapterNames = ['console', 'slack', 'discord'] as const;
export type AdapterName = (typeof adapterNames)[number];

const envObject = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  /**
   * Longest a PostgreSQL statement may run or wait for a lock, and a command may wait for a pooled connection:
   * a locked table or a saturated pool then answers "having trouble" within seconds instead of never.
   */
  DATABASE_TIMEOUT_MS: intFrom(100, 600_000, 5000),
  BACKCARE_DATA_DIR: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('./.backcare')),
  BACKCARE_ADAPTER: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(adapterNames, { error: `must be one of ${adapterNames.join(', ')}` }).optional(),
  ),
  /** Scales every guided-session and console timer: 0.01 plays a 4 s phase in 40 ms (tests, demos). */
  BACKCARE_TIME_SCALE: z.preprocess(
    (v) => (v === undefined || v === '' ? 1 : Number(v)),
    z.number({ error: 'must be a number' }).gt(0, 'must be above 0').max(1, 'must be at most 1'),
  ),
  PORT: intFrom(1, 65535, 3000),
  HEALTH_PORT: z.preprocess(
    (v) => (v === undefined || v === '' ? undefined : Number(v)),
    wholeNumber(1, 65535).optional(),
  ),
  /** Requests worked on at once after their ack (the rest wait their turn, kinds taking turns). */
  WORK_CONCURRENCY: intFrom(1, 1000, 16),
  STATS_PRIVACY_FLOOR: intFrom(3, 1000, 5),
  RETENTION_MONTHS: intFrom(1, 120, 13),
  /** Months audit rows are kept (0 = for ever); independent of RETENTION_MONTHS so deletions stay accountable. */
  AUDIT_RETENTION_MONTHS: intFrom(0, 240, 24, ' (0 keeps them for ever)'),
  /** Signs button values (HMAC); shared by every replica. Unset: derived from the Slack or Discord secret, else generated and kept in BACKCARE_DATA_DIR. */
  BACKCARE_SECRET: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional(),
  ),
  SLACK_BOT_TOKEN: optionalText,
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText,
  SLACK_CLIENT_ID: optionalText,
  SLACK_CLIENT_SECRET: optionalText,
  SLACK_STATE_SECRET: optionalText,
  /** Comma list of status emoji that mean "in a meeting or call" (no nudge then); empty keeps the built-in list. */
  SLACK_BUSY_STATUS_EMOJI: optionalText,
  /** Web API base URL; only for Slack-compatible endpoints such as GovSlack (`https://slack-gov.com/api/`) or a loopback fake in benchmarks. */
  SLACK_API_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.url({ error: 'must be a URL ending in /api/' }).optional(),
  ),
  DISCORD_TOKEN: optionalText,
  DISCORD_APPLICATION_ID: optionalText,
  DISCORD_GUILD_ID: optionalText,
  /**
   * Discord's gateway shards this process connects (Discord requires sharding above 2,500 servers): the total,
   * and which of them, as a comma list of ids from 0; replicas split the ids between them. Both unset: one shard.
   */
  SHARD_COUNT: z.preprocess(
    (v) => (v === undefined || v === '' ? undefined : Number(v)),
    wholeNumber(1, 100_000).optional(),
  ),
  SHARD_IDS: z.preprocess(
    (v) => (v === undefined || v === '' ? undefined : String(v)),
    z
      .string()
      .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'must be a comma list of shard ids, such as 0,1')
      .transform((list) => [...new Set(list.split(',').map((id) => Number(id.trim())))].sort((a, b) => a - b))
      .optional(),
  ),
});

/** Every variable Backcare reads (the .env.example test keeps the two in step). */
export const envVariables = Object.keys(envObject.shape);

export const envSchema = envObject.superRefine((env, ctx) => {
  if (env.SLACK_BOT_TOKEN && !env.SLACK_BOT_TOKEN.startsWith('xoxb-')) {
    ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'must be a bot token starting with xoxb-' });
  }
  if (env.SLACK_APP_TOKEN && !env.SLACK_APP_TOKEN.startsWith('xapp-')) {
    ctx.addIssue({
      code: 'custom',
      path: ['SLACK_APP_TOKEN'],
      message: 'must be an app-level token starting with xapp-',
    });
  }
  const slackOAuth = {
    SLACK_CLIENT_ID: env.SLACK_CLIENT_ID,
    SLACK_CLIENT_SECRET: env.SLACK_CLIENT_SECRET,
    SLACK_STATE_SECRET: env.SLACK_STATE_SECRET,
  };
  const oauthMissing = Object.entries(slackOAuth)
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (oauthMissing.length > 0 && oauthMissing.length < 3) {
    ctx.addIssue({
      code: 'custom',
      path: [oauthMissing[0]!],
      message: 'is required: SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET go together',
    });
  }
  if ((env.SLACK_BOT_TOKEN || oauthMissing.length === 0) && !env.SLACK_SIGNING_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message: 'is required when Slack is configured' });
  }
  if (env.SHARD_IDS && env.SHARD_COUNT === undefined) {
    ctx.addIssue({ code: 'custom', path: ['SHARD_COUNT'], message: 'is required together with SHARD_IDS' });
  }
  // Checked only once both parsed (zod still runs this when a field failed, with its raw value).
  const ids: unknown = env.SHARD_IDS;
  const count: unknown = env.SHARD_COUNT;
  const beyond =
    Array.isArray(ids) && typeof count === 'number' ? (ids as number[]).find((id) => id >= count) : undefined;
  if (beyond !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['SHARD_IDS'],
      message: `has ${beyond}, but shard ids go from 0 to SHARD_COUNT - 1 (${Number(count) - 1})`,
    });
  }
  // Some shards here means the others run in another process, which cannot open this one's embedded database.
  if (Array.isArray(ids) && typeof count === 'number' && ids.length < count && !env.DATABASE_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['DATABASE_URL'],
      message:
        'is required when SHARD_IDS leaves shards to other replicas: they must share one PostgreSQL (the embedded database is one process only)',
    });
  }
  if (Boolean(env.DISCORD_TOKEN) !== Boolean(env.DISCORD_APPLICATION_ID)) {
    ctx.addIssue({
      code: 'custom',
      path: [env.DISCORD_TOKEN ? 'DISCORD_APPLICATION_ID' : 'DISCORD_TOKEN'],
      message: env.DISCORD_TOKEN
        ? 'is required together with DISCORD_TOKEN'
        : 'is required together with DISCORD_APPLICATION_ID',
    });
  }
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once; the first problem becomes one line naming the variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = issue.path.join('.') || 'environment';
  throw new ConfigError(`config error: ${variable} ${issue.message}`);
}

function slackConfigured(env: Env): boolean {
  return Boolean(env.SLACK_SIGNING_SECRET && (env.SLACK_BOT_TOKEN || env.SLACK_CLIENT_ID));
}

function discordConfigured(env: Env): boolean {
  return Boolean(env.DISCORD_TOKEN && env.DISCORD_APPLICATION_ID);
}

/** Which adapters `npm start` runs: forced by BACKCARE_ADAPTER, else whichever platforms have settings, else the console. */
export function selectAdapters(env: Env): AdapterName[] {
  if (env.BACKCARE_ADAPTER) return [env.BACKCARE_ADAPTER];
  const chosen: AdapterName[] = [];
  if (slackConfigured(env)) chosen.push('slack');
  if (discordConfigured(env)) chosen.push('discord');
  return chosen.length > 0 ? chosen : ['console'];
}
