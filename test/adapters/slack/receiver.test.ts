import { expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { preferences, processedEvents, users, workspaces } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { BOT_TOKEN, postJson, postSigned } from '../../support/slack/http.js';
import {
  appHomeOpened,
  appUninstalled,
  RESPONSE_URL,
  slashCommand,
  TEAM_ID,
  tokensRevoked,
  urlVerification,
  USER_ID,
} from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

describeEachDatabase('Slack HTTP receiver', (database) => {
  const h = useSlackHarness(database);

  it('answers url_verification with the challenge', async () => {
    const res = await postJson(
      h().adapter.port,
      '/slack/events',
      urlVerification('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'),
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  it('acks a slash command at once and answers through the response URL, ephemeral', async () => {
    const res = await postSigned(h().adapter.port, '/slack/commands', slashCommand('help'));
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    await h().adapter.idle();
    expect(h().api.of('users.info')[0]?.args).toMatchObject({ user: USER_ID });
    expect(h().api.of('users.info')[0]?.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    const [response] = h().api.responses;
    expect(response?.url).toBe(RESPONSE_URL);
    expect(response?.body).toMatchObject({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'Backcare commands',
    });
    expect(JSON.stringify(response?.body.blocks)).toContain('/backcare help');
  });

  it('rejects a wrong signature with 401 and nothing reaches the core', async () => {
    const res = await postSigned(h().adapter.port, '/slack/commands', slashCommand('settings on'), {
      secret: 'some-other-secret',
    });
    expect(res.status).toBe(401);
    await h().adapter.idle();
    expect(h().api.calls).toHaveLength(0);
    expect(h().api.responses).toHaveLength(0);
    expect(await database().db.select().from(users)).toHaveLength(0);
    expect(
      h()
        .logs.lines()
        .some((l) => l.event === 'slack.http.rejected' && l.reason === 'bad_signature'),
    ).toBe(true);
    expect(
      h()
        .logs.lines()
        .some((l) => l.event === 'request.handled'),
    ).toBe(false);
  });

  it('rejects a stale timestamp (over five minutes) even when correctly signed', async () => {
    const res = await postSigned(h().adapter.port, '/slack/commands', slashCommand('settings on'), {
      timestamp: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(res.status).toBe(401);
    await h().adapter.idle();
    expect(h().api.calls).toHaveLength(0);
    expect(await database().db.select().from(users)).toHaveLength(0);
    expect(
      h()
        .logs.lines()
        .some((l) => l.event === 'slack.http.rejected' && l.reason === 'stale_timestamp'),
    ).toBe(true);
  });

  it('rejects a body changed after signing', async () => {
    const port = h().adapter.port;
    const signedFor = slashCommand('help');
    const { computeSignature } = await import('../../../adapters/slack/verify.js');
    const ts = Math.floor(Date.now() / 1000);
    const res = await postSigned(port, '/slack/commands', slashCommand('forget-me'), {
      timestamp: ts,
      signature: computeSignature('test-signing-secret-not-real', String(ts), signedFor),
    });
    expect(res.status).toBe(401);
  });

  it('publishes App Home on app_home_opened, once even when Slack re-delivers the event', async () => {
    const port = h().adapter.port;
    const first = await postJson(port, '/slack/events', appHomeOpened('Ev0HOME0001'));
    const retry = await postJson(port, '/slack/events', appHomeOpened('Ev0HOME0001'), {
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    expect([first.status, retry.status]).toEqual([200, 200]);
    await h().adapter.idle();
    const published = h().api.of('views.publish');
    expect(published).toHaveLength(1);
    expect(published[0]?.args.user_id).toBe(USER_ID);
    const view = published[0]?.args.view as { type: string; blocks: { type: string }[] };
    expect(view.type).toBe('home');
    expect(JSON.stringify(view.blocks)).toContain('Turn nudges on');
    expect(JSON.stringify(view.blocks)).toContain('Europe/Paris'); // the Slack profile timezone as the default
    expect(await database().db.select().from(processedEvents)).toEqual([
      expect.objectContaining({ key: 'slack:event:Ev0HOME0001' }),
    ]);
    // Looking at the Home tab stores nothing about the person.
    expect(await database().db.select().from(users)).toHaveLength(0);
  });

  it('app_uninstalled marks the workspace inactive and stops every nudge there', async () => {
    const port = h().adapter.port;
    await postSigned(port, '/slack/commands', slashCommand('settings on'));
    await h().adapter.idle();
    const [before] = await database().db.select().from(preferences);
    expect(before?.optedIn).toBe(true);
    await database()
      .db.update(preferences)
      .set({ nextDueAt: new Date('2026-03-02T11:00:00Z') });

    const res = await postJson(port, '/slack/events', appUninstalled());
    expect(res.status).toBe(200);
    await h().adapter.idle();
    const [workspace] = await database().db.select().from(workspaces).where(eq(workspaces.externalId, TEAM_ID));
    expect(workspace?.active).toBe(false);
    const [after] = await database().db.select().from(preferences);
    expect(after).toMatchObject({ nextDueAt: null, pausedReason: 'Backcare was removed from this workspace' });
  });

  it('single-workspace mode: a restart with a working token brings an uninstalled workspace back', async () => {
    const port = h().adapter.port;
    await postSigned(port, '/slack/commands', slashCommand('settings on'));
    await h().adapter.idle();
    await postJson(port, '/slack/events', appUninstalled());
    await h().adapter.idle();
    await h().adapter.stop();

    h().answer.set('auth.test', () => ({
      body: { ok: true, team_id: TEAM_ID, user_id: 'U0TESTBOT', bot_id: 'B0TESTBOT' },
    }));
    const { createSlackAdapter } = await import('../../../adapters/slack/adapter.js');
    const again = createSlackAdapter({
      core: h().core,
      log: h().logs.log,
      signingSecret: 'x',
      botToken: BOT_TOKEN,
      port: 0,
      host: '127.0.0.1',
      clientOptions: { retryConfig: { retries: 0 } },
    });
    await again.start();
    await again.stop();
    const [workspace] = await database().db.select().from(workspaces).where(eq(workspaces.externalId, TEAM_ID));
    expect(workspace?.active).toBe(true);
    const [prefs] = await database().db.select().from(preferences);
    expect(prefs?.pausedReason).toBeNull();
    expect(prefs?.nextDueAt).toBeInstanceOf(Date);
  });

  it('tokens_revoked for the bot also stops nudges', async () => {
    const port = h().adapter.port;
    await postSigned(port, '/slack/commands', slashCommand('settings on'));
    await h().adapter.idle();
    await postJson(port, '/slack/events', tokensRevoked());
    await h().adapter.idle();
    const [after] = await database().db.select().from(preferences);
    expect(after?.pausedReason).toMatch(/removed/);
  });

  it('answers /healthz', async () => {
    const res = await fetch(`http://127.0.0.1:${h().adapter.port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
