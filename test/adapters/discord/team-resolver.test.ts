import { afterEach, beforeEach, expect, it } from 'vitest';
import { REST } from 'discord.js';
import { createDiscordTeamResolver } from '../../../adapters/discord/team-resolver.js';
import { knownPeople } from '../../../src/core/people.js';
import { ensureUser, ensureWorkspace } from '../../../src/db/users.js';
import { describeEachDatabase } from '../../support/db.js';
import { startFakeDiscordApi } from '../../support/discord/fake-api.js';
import { BOT_TOKEN, GUILD_ID } from '../../support/discord/payloads.js';
import { silentLogger } from '../../support/log.js';

const ROLE = '555555555555555555';
const actor = {
  platform: 'discord' as const,
  workspaceExternalId: GUILD_ID,
  workspaceName: 'Desk crew',
  userExternalId: '1',
  isAdmin: true,
};

describeEachDatabase('discord team resolver (stats by role, no privileged intent)', (database) => {
  let api: Awaited<ReturnType<typeof startFakeDiscordApi>>;
  beforeEach(async () => {
    api = await startFakeDiscordApi();
  });
  afterEach(async () => {
    await api.close();
  });

  it('keeps the people Backcare knows in this server who hold the role, fetching members one by one', async () => {
    const workspace = await ensureWorkspace(database().db, { platform: 'discord', externalId: GUILD_ID });
    for (const id of ['100000000000000001', '100000000000000002', '100000000000000003'])
      await ensureUser(database().db, workspace.id, id);
    api.respondAlways((r) => {
      if (r.path === `/guilds/${GUILD_ID}/roles`)
        return {
          status: 200,
          body: [
            { id: ROLE, name: 'Design' },
            { id: GUILD_ID, name: '@everyone' },
          ],
        };
      const member = /^\/guilds\/\d+\/members\/(\d+)$/.exec(r.path)?.[1];
      if (member === '100000000000000001') return { status: 200, body: { roles: [ROLE], user: { id: member } } };
      if (member === '100000000000000002') return { status: 200, body: { roles: [], user: { id: member } } };
      if (member) return { status: 404, body: { message: 'Unknown Member', code: 10007 } };
      return undefined;
    });
    const resolver = createDiscordTeamResolver({
      rest: new REST({ api: api.api, retries: 0 }).setToken(BOT_TOKEN),
      knownUsers: (guildId) => knownPeople({ db: database().db }, 'discord', guildId),
      log: silentLogger(),
    });
    expect(await resolver.resolve(actor, `<@&${ROLE}>`)).toEqual({
      kind: 'members',
      label: '@Design',
      platformUserIds: ['100000000000000001'],
    });
    expect(api.requests.filter((r) => r.path === `/guilds/${GUILD_ID}/members`)).toHaveLength(0); // never the list endpoint
    expect(await resolver.resolve(actor, undefined)).toEqual({ kind: 'workspace', label: 'Desk crew (whole server)' });
    expect(await resolver.resolve(actor, '<@&999999999999999999>')).toMatchObject({ kind: 'unknown' });
    expect(await resolver.resolve(actor, 'design')).toMatchObject({ kind: 'unknown' });
  });
});
