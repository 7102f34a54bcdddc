import { describe, expect, it } from 'vitest';
import { createDiscordAdapter } from '../../../adapters/discord/adapter.js';
import { silentLogger } from '../../support/log.js';
import { APP_ID, BOT_TOKEN } from '../../support/discord/payloads.js';
import { coreWithoutDb } from './harness-core.js';

/** The discord.js client the adapter builds, for a given shard setting (nothing connects). */
const clientOptions = (shards?: { count: number; ids?: number[] }) =>
  createDiscordAdapter({
    core: coreWithoutDb().core,
    log: silentLogger(),
    token: BOT_TOKEN,
    applicationId: APP_ID,
    ...(shards ? { shards } : {}),
  }).client.options;

describe('Discord gateway shards (SHARD_COUNT, SHARD_IDS)', () => {
  it('connects exactly the shards this replica was given, out of the total', () => {
    expect(clientOptions({ count: 4, ids: [1, 3] })).toMatchObject({ shardCount: 4, shards: [1, 3] });
  });

  it('connects every shard when only the total is set, and one shard when nothing is', () => {
    expect(clientOptions({ count: 3 })).toMatchObject({ shardCount: 3, shards: [0, 1, 2] });
    expect(clientOptions()).toMatchObject({ shardCount: 1 });
  });
});
