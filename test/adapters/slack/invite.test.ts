import { count } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { inviteDms, preferences } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { postSigned } from '../../support/slack/http.js';
import {
  ADMIN_ID,
  blockActionsOnMessage,
  interactive,
  slashCommand,
  TEAM_CHANNEL,
  USER_ID,
} from '../../support/slack/payloads.js';
import { useSlackHarness } from './harness.js';

interface ButtonElement {
  action_id: string;
  value: string;
  text: { text: string };
}
const buttons = (blocks: unknown): ButtonElement[] =>
  (blocks as { type: string; elements?: ButtonElement[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? []);

describeEachDatabase('Slack: /backcare invite', (database) => {
  const h = useSlackHarness(database);
  const start = () => {
    // As src/app.ts does: the adapter's channel messenger goes to the core.
    h().core.deps.channelMessengers = [h().adapter.channelMessenger];
    h().answer.set('conversations.members', () => ({
      body: {
        ok: true,
        members: [ADMIN_ID, USER_ID, 'U0OTHER01', 'U0OTHER02'],
        response_metadata: { next_cursor: '' },
      },
    }));
  };

  it('posts one announcement in the channel, DMs members once, and Join opens the settings modal without storing anything', async () => {
    start();
    await postSigned(
      h().adapter.port,
      '/slack/commands',
      slashCommand(`invite <#${TEAM_CHANNEL}|design> dm`, { user_id: ADMIN_ID }),
    );
    await h().adapter.idle();

    const posts = h().api.of('chat.postMessage');
    const announcement = posts.filter((p) => p.args.channel === TEAM_CHANNEL);
    expect(announcement).toHaveLength(1);
    expect(buttons(announcement[0]!.args.blocks).map((b) => b.text.text)).toEqual(['Join', 'No thanks']);
    expect(h().api.of('conversations.members')[0]?.args).toMatchObject({ channel: TEAM_CHANNEL });
    expect(
      h()
        .api.of('conversations.open')
        .map((c) => c.args.users)
        .sort(),
    ).toEqual(['U0OTHER01', 'U0OTHER02', USER_ID]);
    expect(h().api.responses.at(-1)?.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/Posted one announcement/),
    });

    // A second run, even for another channel, sends no DM again.
    const opened = h().api.of('conversations.open').length;
    await postSigned(
      h().adapter.port,
      '/slack/commands',
      slashCommand('invite <#C0OTHERCH|other> dm', { user_id: ADMIN_ID }),
    );
    await h().adapter.idle();
    expect(h().api.of('conversations.open')).toHaveLength(opened);

    const join = buttons(announcement[0]!.args.blocks).find((b) => b.text.text === 'Join')!;
    await postSigned(
      h().adapter.port,
      '/slack/interactivity',
      interactive(blockActionsOnMessage({ action_id: join.action_id, value: join.value }, { channel: TEAM_CHANNEL })),
    );
    await h().adapter.idle();
    const modal = h().api.of('views.open')[0]?.args.view as { callback_id?: string; blocks: unknown[] } | undefined;
    expect(modal).toBeDefined();
    expect(JSON.stringify(modal)).toContain('09:00');
    expect((await database().db.select({ n: count() }).from(preferences))[0]!.n).toBe(0);
    expect((await database().db.select({ n: count() }).from(inviteDms))[0]!.n).toBe(3);
  });

  it('rate-limited DMs wait for Retry-After and go on: everyone invited exactly once, nobody marked unreachable; only a permanent error is', async () => {
    start();
    h().answer.set('conversations.members', () => ({
      body: {
        ok: true,
        members: [ADMIN_ID, USER_ID, 'U0OTHER01', 'U0OTHER02', 'U0GONE001'],
        response_metadata: { next_cursor: '' },
      },
    }));
    // Every second conversations.open is refused once with 429 + Retry-After (Tier 3), and one chat.postMessage too.
    let opens = 0;
    h().answer.set('conversations.open', (call) => {
      if (call.args.users === 'U0GONE001') return { body: { ok: false, error: 'user_not_found' } };
      opens += 1;
      if (opens % 2 === 1)
        return { status: 429, headers: { 'retry-after': '2' }, body: { ok: false, error: 'ratelimited' } };
      return { body: { ok: true, channel: { id: `D0${String(call.args.users)}` } } };
    });
    let dmPosts = 0;
    h().answer.set('chat.postMessage', (call) => {
      if (String(call.args.channel).startsWith('D0') && ++dmPosts === 2)
        return { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } };
      return { body: { ok: true, channel: call.args.channel, ts: '1700000100.000100' } };
    });
    await postSigned(
      h().adapter.port,
      '/slack/commands',
      slashCommand(`invite <#${TEAM_CHANNEL}|design> dm`, { user_id: ADMIN_ID }),
    );
    await h().adapter.idle();

    // Each person got one DM that went through: the refused attempt was repeated, not doubled.
    const dmCalls = h()
      .api.of('chat.postMessage')
      .filter((p) => String(p.args.channel).startsWith('D0'));
    expect(new Set(dmCalls.map((p) => p.args.channel))).toEqual(
      new Set(['D0U0OTHER01', 'D0U0OTHER02', `D0${USER_ID}`]),
    );
    expect(dmCalls).toHaveLength(4); // three delivered + the one 429 that was repeated
    const answer = JSON.stringify(h().api.responses.at(-1)?.body);
    expect(answer).toMatch(/Invited 3 people by direct message/);
    expect(answer).toMatch(/1 could not be reached/);
    const rows = await database()
      .db.select({ user: inviteDms.platformUserId, status: inviteDms.status })
      .from(inviteDms);
    expect(rows.map((r) => `${r.user}:${r.status}`).sort()).toEqual(
      ['U0GONE001:failed', 'U0OTHER01:sent', 'U0OTHER02:sent', `${USER_ID}:sent`].sort(),
    );
  });

  it('Backcare not in the channel: the lead is told how to fix it, no DM goes out', async () => {
    start();
    h().answer.set('chat.postMessage', () => ({ body: { ok: false, error: 'not_in_channel' } }));
    await postSigned(
      h().adapter.port,
      '/slack/commands',
      slashCommand(`invite <#${TEAM_CHANNEL}|design> dm`, { user_id: ADMIN_ID }),
    );
    await h().adapter.idle();
    expect(h().api.responses.at(-1)?.body).toMatchObject({ text: expect.stringMatching(/not posted/) });
    expect(JSON.stringify(h().api.responses.at(-1)?.body)).toContain('/invite @Backcare');
    expect(h().api.of('conversations.open')).toEqual([]);
  });
});
