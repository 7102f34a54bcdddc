import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { preferences, slackInstallations, workspaces } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { postJson, postSigned } from '../../support/slack/http.js';
import { appUninstalled, slashCommand, TEAM_ID, tokensRevoked } from '../../support/slack/payloads.js';
import { defaultAnswer, useSlackHarness } from './harness.js';

const INSTALLED_TOKEN = 'xoxb-test-installed-not-a-real-token';

/** Goes through the install page and the OAuth redirect as a browser would; returns the redirect's response. */
async function install(port: number): Promise<Response> {
  const page = await fetch(`http://127.0.0.1:${port}/slack/install`, { redirect: 'manual' });
  expect(page.status).toBe(200);
  const html = await page.text();
  const authorize = /href="(https:\/\/slack\.com\/oauth\/v2\/authorize\?[^"]+)"/
    .exec(html)?.[1]
    ?.replace(/&amp;/g, '&');
  expect(authorize).toBeDefined();
  const url = new URL(authorize!);
  expect(url.searchParams.get('client_id')).toBe('1234.5678');
  expect(url.searchParams.get('scope')?.split(',')).toContain('chat:write');
  const state = url.searchParams.get('state')!;
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
  return fetch(
    `http://127.0.0.1:${port}/slack/oauth_redirect?code=test-code-not-real&state=${encodeURIComponent(state)}`,
    { headers: { cookie }, redirect: 'manual' },
  );
}

describeEachDatabase('Slack OAuth (many workspaces)', (database) => {
  const h = useSlackHarness(database, {
    botToken: undefined,
    oauth: {
      clientId: '1234.5678',
      clientSecret: 'test-client-secret-not-real',
      stateSecret: 'test-state-secret-not-real',
    },
  });

  function answerOAuth() {
    h().answer.set('oauth.v2.access', () => ({
      body: {
        ok: true,
        app_id: 'A0TESTAPP',
        authed_user: { id: 'U0TESTADMIN' },
        scope: 'commands,chat:write',
        token_type: 'bot',
        access_token: INSTALLED_TOKEN,
        bot_user_id: 'U0TESTBOT',
        team: { id: TEAM_ID, name: 'Backcare Test' },
        enterprise: null,
        is_enterprise_install: false,
      },
    }));
    h().answer.set('auth.test', () => ({
      body: { ok: true, team_id: TEAM_ID, user_id: 'U0TESTBOT', bot_id: 'B0TESTBOT' },
    }));
  }

  it('install stores the installation in Postgres; requests for that team then use its token', async () => {
    answerOAuth();
    const done = await install(h().adapter.port);
    expect(done.status).toBe(200);
    const oauth = h().api.of('oauth.v2.access')[0];
    expect(oauth?.args).toMatchObject({ code: 'test-code-not-real', client_id: '1234.5678' });
    const [row] = await database().db.select().from(slackInstallations);
    expect(row).toMatchObject({ installKey: `T:${TEAM_ID}`, teamId: TEAM_ID, isEnterpriseInstall: false });
    expect(row?.installation).toMatchObject({ bot: { token: INSTALLED_TOKEN, userId: 'U0TESTBOT' } });

    h().answer.set('users.info', defaultAnswer);
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('help'));
    await h().adapter.idle();
    expect(h().api.of('users.info')[0]?.authorization).toBe(`Bearer ${INSTALLED_TOKEN}`);
    expect(h().api.responses).toHaveLength(1);
    // The token never reaches the logs.
    expect(h().logs.raw()).not.toContain(INSTALLED_TOKEN);
  });

  it('uninstall forgets the installation and deactivates the workspace; reinstall brings it back', async () => {
    answerOAuth();
    await install(h().adapter.port);
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('settings on'));
    await h().adapter.idle();

    await postJson(h().adapter.port, '/slack/events', appUninstalled('Ev0UNINST01'));
    await h().adapter.idle();
    expect(await database().db.select().from(slackInstallations)).toHaveLength(0);
    const [inactive] = await database().db.select().from(workspaces).where(eq(workspaces.externalId, TEAM_ID));
    expect(inactive?.active).toBe(false);
    expect((await database().db.select().from(preferences))[0]).toMatchObject({
      nextDueAt: null,
      pausedReason: 'Backcare was removed from this workspace',
    });

    // Without an installation nothing is called and nothing reaches the core.
    const calls = h().api.calls.length;
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('help'));
    await h().adapter.idle();
    expect(h().api.calls).toHaveLength(calls);

    await install(h().adapter.port);
    const [active] = await database().db.select().from(workspaces).where(eq(workspaces.externalId, TEAM_ID));
    expect(active?.active).toBe(true);
    expect(await database().db.select().from(slackInstallations)).toHaveLength(1);
    // Nudges stopped only by the removal come back, with a next slot (the test core has the scheduler's slot maths).
    const [resumed] = await database().db.select().from(preferences);
    expect(resumed?.pausedReason).toBeNull();
    expect(resumed?.optedIn).toBe(true);
    expect(resumed?.nextDueAt).toBeInstanceOf(Date);
  });

  it('after the install, requests are authorized from memory: no installation read before the ack', async () => {
    answerOAuth();
    await install(h().adapter.port);
    // Gone from the database behind the adapter's back: only the cached installation can authorize now.
    await database().db.delete(slackInstallations);
    h().answer.set('users.info', defaultAnswer);
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('help'));
    await h().adapter.idle();
    expect(h().api.of('users.info')[0]?.authorization).toBe(`Bearer ${INSTALLED_TOKEN}`);
    expect(h().api.responses).toHaveLength(1);
  });

  it('tokens_revoked drops the cached installation: the next request is refused', async () => {
    answerOAuth();
    await install(h().adapter.port);
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('help'));
    await h().adapter.idle();
    expect(h().api.responses).toHaveLength(1);

    await postJson(h().adapter.port, '/slack/events', tokensRevoked('Ev0REVOKE01'));
    await h().adapter.idle();
    expect(await database().db.select().from(slackInstallations)).toHaveLength(0);
    const calls = h().api.calls.length;
    await postSigned(h().adapter.port, '/slack/commands', slashCommand('help'));
    await h().adapter.idle();
    expect(h().api.calls).toHaveLength(calls);
    expect(h().api.responses).toHaveLength(1);
  });

  it('the sender finds the workspace token through the installation store', async () => {
    answerOAuth();
    await install(h().adapter.port);
    h().answer.set('chat.postMessage', () => ({ body: { ok: true, channel: 'D0CACHED01', ts: '5.6' } }));
    const result = await h().adapter.sender.send({
      deliveryId: 1,
      slotAt: new Date(),
      workspace: { id: 1, platform: 'slack', externalId: TEAM_ID },
      user: { id: 1, platformUserId: 'U0TESTUSER', dmChannelId: 'D0CACHED01' },
      destination: { kind: 'dm' },
      message: { summary: 'Stretch?', blocks: [{ type: 'text', text: 'Stretch?' }], actions: [], visibility: 'dm' },
    });
    expect(result).toEqual({ status: 'sent', messageRef: 'D0CACHED01:5.6' });
    expect(h().api.of('chat.postMessage')[0]?.authorization).toBe(`Bearer ${INSTALLED_TOKEN}`);
    const other = await h().adapter.sender.send({
      deliveryId: 2,
      slotAt: new Date(),
      workspace: { id: 2, platform: 'slack', externalId: 'T0NOTINSTALLED' },
      user: { id: 2, platformUserId: 'U0X', dmChannelId: 'D0X' },
      destination: { kind: 'dm' },
      message: { summary: 'x', blocks: [], actions: [], visibility: 'dm' },
    });
    expect(other).toEqual({ status: 'permanent', reason: 'Backcare is not installed in this Slack workspace' });
  });
});
