import { afterEach, describe, expect, it } from 'vitest';
import { createClientPool, defaultClientOptions } from '../../../adapters/slack/slack-api.js';
import { createSlackTeamResolver } from '../../../adapters/slack/team-resolver.js';
import { auditLog } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { silentLogger } from '../../support/log.js';
import { BOT_TOKEN, interceptSlack, postSigned, type ApiCall } from '../../support/slack/http.js';
import { ADMIN_ID, slashCommand, TEAM_ID } from '../../support/slack/payloads.js';
import { testActor } from '../../support/core.js';
import { useSlackHarness } from './harness.js';

const actor = testActor({
  platform: 'slack',
  workspaceExternalId: TEAM_ID,
  workspaceName: 'Acme',
  userExternalId: ADMIN_ID,
  isAdmin: true,
});
let api: ReturnType<typeof interceptSlack> | undefined;
afterEach(() => api?.done());

function resolver(answer: (call: ApiCall) => { status?: number; body: unknown } | undefined) {
  api = interceptSlack(answer);
  return createSlackTeamResolver({
    tokens: async () => BOT_TOKEN,
    client: createClientPool({ ...defaultClientOptions, retryConfig: { retries: 0 } }),
    log: silentLogger(),
  });
}

describe('Slack team resolver', () => {
  it('no team or "workspace" is the whole workspace; a channel mention is its members, across pages', async () => {
    const r = resolver((call) => {
      if (call.method !== 'conversations.members') return undefined;
      return call.args.cursor === 'page2'
        ? { body: { ok: true, members: ['U3'], response_metadata: { next_cursor: '' } } }
        : { body: { ok: true, members: ['U1', 'U2'], response_metadata: { next_cursor: 'page2' } } };
    });
    expect(await r.resolve(actor, undefined)).toEqual({ kind: 'workspace', label: 'Acme (whole workspace)' });
    expect(await r.resolve(actor, 'workspace')).toEqual({ kind: 'workspace', label: 'Acme (whole workspace)' });
    expect(await r.resolve(actor, '<#C0DESIGN|design>')).toEqual({
      kind: 'members',
      label: '#design',
      platformUserIds: ['U1', 'U2', 'U3'],
    });
    expect(api!.of('conversations.members').map((c) => [c.args.channel, c.args.cursor])).toEqual([
      ['C0DESIGN', undefined],
      ['C0DESIGN', 'page2'],
    ]);
  });

  it('explains what it cannot resolve', async () => {
    const r = resolver((call) =>
      call.method === 'conversations.members' ? { body: { ok: false, error: 'channel_not_found' } } : undefined,
    );
    expect(await r.resolve(actor, 'design')).toMatchObject({
      kind: 'unknown',
      message: expect.stringMatching(/#design/),
    });
    expect(await r.resolve(actor, '<#G0SECRET|secret>')).toMatchObject({
      kind: 'unknown',
      message: expect.stringMatching(/invite Backcare/),
    });
  });
});

describeEachDatabase('Slack stats for a channel', (database) => {
  const h = useSlackHarness(database);
  it('/backcare stats #design asks Slack for the channel members and audits the view under that name', async () => {
    h().answer.set('conversations.members', () => ({
      body: { ok: true, members: ['U0A', 'U0B'], response_metadata: { next_cursor: '' } },
    }));
    await postSigned(
      h().adapter.port,
      '/slack/commands',
      slashCommand('stats <#C0DESIGN|design>', { user_id: ADMIN_ID }),
    );
    await h().adapter.idle();
    expect(h().api.of('conversations.members')[0]?.args).toMatchObject({ channel: 'C0DESIGN' });
    expect(String(h().api.responses[0]?.body.text)).toContain('#design');
    expect((await database().db.select().from(auditLog)).map((a) => a.subject)).toEqual(['#design']);
  });
});
