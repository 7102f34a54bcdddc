import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv, selectAdapters } from '../../src/config/env.js';

const fakeSlack = {
  SLACK_BOT_TOKEN: 'xoxb-test-not-a-real-token',
  SLACK_SIGNING_SECRET: 'test-signing-secret',
};
const fakeDiscord = { DISCORD_TOKEN: 'test-token-not-real', DISCORD_APPLICATION_ID: '123456789012345678' };

function configError(env: Record<string, string>): string {
  try {
    parseEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a config error');
}

describe('environment config', () => {
  it('has working defaults with nothing set: console, embedded database, privacy floor 5', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      STATS_PRIVACY_FLOOR: 5,
      BACKCARE_DATA_DIR: './.backcare',
      BACKCARE_TIME_SCALE: 1,
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(selectAdapters(env)).toEqual(['console']);
  });

  it('treats empty values from an .env file as unset', () => {
    const env = parseEnv({ DATABASE_URL: '', SLACK_BOT_TOKEN: '', PORT: '' });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(selectAdapters(env)).toEqual(['console']);
  });

  it('picks adapters from the tokens present, and BACKCARE_ADAPTER forces one', () => {
    expect(selectAdapters(parseEnv(fakeSlack))).toEqual(['slack']);
    expect(selectAdapters(parseEnv(fakeDiscord))).toEqual(['discord']);
    expect(selectAdapters(parseEnv({ ...fakeSlack, ...fakeDiscord }))).toEqual(['slack', 'discord']);
    expect(selectAdapters(parseEnv({ ...fakeSlack, ...fakeDiscord, BACKCARE_ADAPTER: 'console' }))).toEqual([
      'console',
    ]);
  });

  it.each([
    [{ PORT: 'eighty' }, 'config error: PORT must be a whole number from 1 to 65535'],
    [{ PORT: '70000' }, 'config error: PORT must be a whole number from 1 to 65535'],
    [{ PORT: '-1' }, 'config error: PORT must be a whole number from 1 to 65535'],
    [{ PORT: '80.5' }, 'config error: PORT must be a whole number from 1 to 65535'],
    [{ HEALTH_PORT: '0' }, 'config error: HEALTH_PORT must be a whole number from 1 to 65535'],
    [{ RETENTION_MONTHS: '0' }, 'config error: RETENTION_MONTHS must be a whole number from 1 to 120'],
    [
      { AUDIT_RETENTION_MONTHS: '-3' },
      'config error: AUDIT_RETENTION_MONTHS must be a whole number from 0 to 240 (0 keeps them for ever)',
    ],
    [{ BACKCARE_ADAPTER: 'teams' }, 'config error: BACKCARE_ADAPTER must be one of console, slack, discord'],
    [{ DATABASE_URL: 'mysql://x' }, 'config error: DATABASE_URL must be a postgres:// or postgresql:// URL'],
    [{ STATS_PRIVACY_FLOOR: '2' }, 'config error: STATS_PRIVACY_FLOOR must be a whole number from 3 to 1000'],
    [
      { SLACK_BOT_TOKEN: 'xoxb-test-not-a-real-token' },
      'config error: SLACK_SIGNING_SECRET is required when Slack is configured',
    ],
    [
      { SLACK_BOT_TOKEN: 'not-a-token', SLACK_SIGNING_SECRET: 's' },
      'config error: SLACK_BOT_TOKEN must be a bot token starting with xoxb-',
    ],
    [
      { DISCORD_TOKEN: 'test-token-not-real' },
      'config error: DISCORD_APPLICATION_ID is required together with DISCORD_TOKEN',
    ],
    [
      { SLACK_CLIENT_ID: '1.2', SLACK_CLIENT_SECRET: 'x', SLACK_SIGNING_SECRET: 'y' },
      'config error: SLACK_STATE_SECRET is required',
    ],
    [{ BACKCARE_TIME_SCALE: '0' }, 'config error: BACKCARE_TIME_SCALE must be above 0'],
  ])('rejects %j with one line naming the variable', (env, expected) => {
    const message = configError(env);
    expect(message.startsWith(expected)).toBe(true);
    expect(message).not.toContain('\n');
  });

  it('takes a Slack Web API base URL for Slack-compatible endpoints, and refuses one that is not a URL', () => {
    expect(parseEnv({ SLACK_API_URL: 'https://slack-gov.com/api/' }).SLACK_API_URL).toBe('https://slack-gov.com/api/');
    expect(parseEnv({ SLACK_API_URL: '' }).SLACK_API_URL).toBeUndefined();
    expect(() => parseEnv({ SLACK_API_URL: 'slack-gov' })).toThrow(/SLACK_API_URL/);
  });

  it('takes the after-ack work concurrency (default 16) and refuses a value that is not a whole number from 1', () => {
    expect(parseEnv({}).WORK_CONCURRENCY).toBe(16);
    expect(parseEnv({ WORK_CONCURRENCY: '4' }).WORK_CONCURRENCY).toBe(4);
    expect(() => parseEnv({ WORK_CONCURRENCY: '0' })).toThrow(/WORK_CONCURRENCY/);
    expect(() => parseEnv({ WORK_CONCURRENCY: 'many' })).toThrow(/WORK_CONCURRENCY/);
  });

  it('takes Discord gateway shards: a total and the ids of this replica, each from 0 to the total minus one', () => {
    const none = parseEnv({});
    expect([none.SHARD_COUNT, none.SHARD_IDS]).toEqual([undefined, undefined]);
    const db = { DATABASE_URL: 'postgres://backcare@db/backcare' };
    expect(parseEnv({ ...db, SHARD_COUNT: '4', SHARD_IDS: ' 3, 1,1 ' })).toMatchObject({
      SHARD_COUNT: 4,
      SHARD_IDS: [1, 3],
    });
    // Other replicas hold the other shards: they cannot share the embedded database, so PostgreSQL is required.
    expect(configError({ SHARD_COUNT: '4', SHARD_IDS: '1,3' })).toMatch(
      /^config error: DATABASE_URL is required when SHARD_IDS leaves shards to other replicas/,
    );
    expect(parseEnv({ SHARD_COUNT: '2', SHARD_IDS: '0,1' }).SHARD_IDS).toEqual([0, 1]);
    const all = parseEnv({ SHARD_COUNT: '2' });
    expect([all.SHARD_COUNT, all.SHARD_IDS]).toEqual([2, undefined]);
    expect(configError({ SHARD_IDS: '0' })).toBe('config error: SHARD_COUNT is required together with SHARD_IDS');
    expect(configError({ ...db, SHARD_COUNT: '2', SHARD_IDS: '0,2' })).toBe(
      'config error: SHARD_IDS has 2, but shard ids go from 0 to SHARD_COUNT - 1 (1)',
    );
    expect(configError({ SHARD_COUNT: '2', SHARD_IDS: 'first' })).toMatch(
      /^config error: SHARD_IDS must be a comma list/,
    );
    expect(configError({ SHARD_COUNT: '0' })).toMatch(/^config error: SHARD_COUNT must be a whole number from 1/);
  });

  it('never echoes a secret value in its error line', () => {
    const message = configError({ SLACK_BOT_TOKEN: 'xoxp-secret-user-token-123456', SLACK_SIGNING_SECRET: 'hush' });
    expect(message).not.toContain('xoxp-secret-user-token-123456');
    expect(message).not.toContain('hush');
  });
});
