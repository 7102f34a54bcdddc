import { count, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { ChannelMessenger, DmResult } from '../../../../src/core/channel-messenger.js';
import { slackChannelRef } from '../../../../adapters/slack/channel-messenger.js';
import { INVITE_ACTIONS, MAX_INVITE_DMS_PER_RUN } from '../../../../src/core/features/invite/invite.js';
import { replyText, type Form, type Reply } from '../../../../src/core/reply.js';
import type { Actor } from '../../../../src/core/request.js';
import { loadPreferences } from '../../../../src/db/preferences.js';
import { inviteDms, preferences } from '../../../../src/db/schema.js';
import { findUser, findWorkspace } from '../../../../src/db/users.js';
import { ask, button, buildTestCore, testActor } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';

const WS = 'T-INVITE';
const lead = testActor({
  platform: 'slack',
  workspaceExternalId: WS,
  userExternalId: 'ULEAD',
  displayName: 'Lee',
  isAdmin: true,
});
const person = (id: string, extra: Partial<Actor> = {}) =>
  testActor({
    platform: 'slack',
    workspaceExternalId: WS,
    userExternalId: id,
    isAdmin: false,
    timezone: 'America/New_York',
    ...extra,
  });

/** A messenger like the Slack one, recording what it would post; `members` is the channel's member list. */
function fakeMessenger(
  members: string[],
  options: { canList?: boolean; failDmTo?: string[]; laterFor?: string[] } = {},
) {
  const posts: { channelId: string; message: Reply }[] = [];
  const dms: { to: string; message: Reply }[] = [];
  const messenger: ChannelMessenger = {
    platform: 'slack',
    channelRef: slackChannelRef,
    post: async (_actor, channelId, message) => {
      posts.push({ channelId, message });
      return { ok: true };
    },
    ...(options.canList === false
      ? {}
      : {
          listMembers: async () => ({ ok: true as const, platformUserIds: members }),
          sendDm: async (_actor: Actor, to: string, message: Reply): Promise<DmResult> => {
            if ((options.laterFor ?? []).includes(to))
              return { status: 'later', reason: 'Slack is rate-limiting direct messages' };
            dms.push({ to, message });
            return (options.failDmTo ?? []).includes(to)
              ? { status: 'unreachable', reason: 'user_not_found' }
              : { status: 'sent' };
          },
        }),
  };
  return { messenger, posts, dms };
}

/** What the person sends back when they accept the form as it opened. */
function acceptAsShown(form: Form): Record<string, string | string[]> {
  return Object.fromEntries(form.fields.map((f) => [f.id, f.initial ?? (f.kind === 'multiselect' ? [] : '')]));
}

describeEachDatabase('/backcare invite', (database) => {
  const setup = (members: string[], options?: Parameters<typeof fakeMessenger>[1]) => {
    const fake = fakeMessenger(members, options);
    const core = buildTestCore(database().db, { deps: { channelMessengers: [fake.messenger] } });
    return { ...fake, core };
  };
  const preferenceRows = async () => (await database().db.select({ n: count() }).from(preferences))[0]!.n;

  it('only admins and leads may invite; a member gets a polite no and nothing is posted', async () => {
    const { core, posts } = setup([]);
    const answer = await ask(core, '/backcare invite <#C0DESIGN|design>', person('U1'));
    expect(replyText(answer)).toMatch(/Only workspace admins and team leads/);
    expect(posts).toEqual([]);
  });

  it('posts ONE public announcement with Join and No thanks in the named channel, and stores no preferences', async () => {
    const { core, posts, dms } = setup(['U1', 'U2']);
    const answer = await ask(core, '/backcare invite <#C0DESIGN|design>', lead);
    expect(replyText(answer)).toMatch(/Posted one announcement/);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.channelId).toBe('C0DESIGN');
    expect(posts[0]!.message.visibility).toBe('public');
    expect(posts[0]!.message.actions.map((a) => a.actionId)).toEqual([INVITE_ACTIONS.join, INVITE_ACTIONS.decline]);
    expect(replyText(posts[0]!.message)).toMatch(/not medical advice/);
    expect(dms).toEqual([]); // no `dm`: no direct messages
    expect(await preferenceRows()).toBe(0);
  });

  it('a bad channel or extra words get usage help', async () => {
    const { core, posts } = setup([]);
    expect(replyText(await ask(core, '/backcare invite design', lead))).toMatch(/pick the channel from Slack's list/);
    expect(replyText(await ask(core, '/backcare invite <b>', lead))).toMatch(/not a channel/);
    expect(replyText(await ask(core, '/backcare invite', lead))).toMatch(/name the channel/);
    expect(replyText(await ask(core, '/backcare invite <#C0DESIGN> everyone', lead))).toMatch(/`dm`/);
    expect(posts).toEqual([]);
  });

  it('Join opens the settings form with the person’s defaults, saves nothing; only their own submit opts them in', async () => {
    const { core, posts } = setup([]);
    await ask(core, '/backcare invite <#C0DESIGN|design>', lead);
    const joined = await ask(core, { kind: 'action', ...button(posts[0]!.message, INVITE_ACTIONS.join) }, person('U1'));
    const form = joined.form!;
    const initial = Object.fromEntries(form.fields.map((f) => [f.id, f.initial]));
    expect(initial).toMatchObject({
      optedIn: 'yes',
      timezone: 'America/New_York',
      start: '09:00',
      end: '17:00',
      everyMinutes: '60',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      kinds: ['stretch', 'breathing'],
    });
    expect(await preferenceRows()).toBe(0);

    await ask(
      core,
      {
        kind: 'submit',
        formId: form.formId,
        values: acceptAsShown(form),
        ...(form.state ? { state: form.state } : {}),
      },
      person('U1'),
    );
    const workspace = await findWorkspace(database().db, { platform: 'slack', externalId: WS });
    const u1 = await findUser(database().db, workspace!.id, 'U1');
    expect((await loadPreferences(database().db, u1!.id))?.optedIn).toBe(true);
    expect(await preferenceRows()).toBe(1); // the lead, and everyone else, still have none
  });

  it('`dm` invites each member once: never repeated, skips who said no, who already uses Backcare, and the lead', async () => {
    const { core, posts, dms } = setup(['ULEAD', 'U1', 'U2', 'U3', 'U4']);
    await ask(core, '/backcare invite <#C0DESIGN|design>', lead);
    // U2 says no on the announcement; U3 joins and saves settings.
    await ask(core, { kind: 'action', ...button(posts[0]!.message, INVITE_ACTIONS.decline) }, person('U2'));
    const form = (await ask(core, { kind: 'action', ...button(posts[0]!.message, INVITE_ACTIONS.join) }, person('U3')))
      .form!;
    await ask(core, { kind: 'submit', formId: form.formId, values: acceptAsShown(form) }, person('U3'));

    const first = await ask(core, '/backcare invite <#C0DESIGN|design> dm', lead);
    expect(dms.map((d) => d.to).sort()).toEqual(['U1', 'U4']);
    expect(replyText(first)).toMatch(/Invited 2 people by direct message; 2 skipped/);
    expect(replyText(dms[0]!.message)).toMatch(/Lee invited you/);

    const again = await ask(core, '/backcare invite <#C0OTHER|other> dm', lead);
    expect(dms).toHaveLength(2);
    expect(replyText(again)).toMatch(/Invited 0 people/);

    // Invited people have no preferences: only U3, who submitted the form, does.
    expect(await preferenceRows()).toBe(1);
    const rows = await database()
      .db.select({ user: inviteDms.platformUserId, status: inviteDms.status })
      .from(inviteDms);
    expect(rows.sort((a, b) => a.user.localeCompare(b.user))).toEqual([
      { user: 'U1', status: 'sent' },
      { user: 'U2', status: 'declined' },
      { user: 'U4', status: 'sent' },
    ]);
  });

  it('"No thanks" in the DM replaces the invitation and is stored; a DM that fails is not retried', async () => {
    const { core, dms } = setup(['U1', 'U2'], { failDmTo: ['U2'] });
    const first = await ask(core, '/backcare invite <#C0DESIGN|design> dm', lead);
    expect(replyText(first)).toMatch(/Invited 1 person.*1 could not be reached/);
    const no = await ask(
      core,
      { kind: 'action', ...button(dms.find((d) => d.to === 'U1')!.message, INVITE_ACTIONS.decline) },
      person('U1'),
    );
    expect(no.replaceOriginal).toBe(true);
    await ask(core, '/backcare invite <#C0DESIGN|design> dm', lead);
    expect(dms.map((d) => d.to).sort()).toEqual(['U1', 'U2']);
    const workspace = await findWorkspace(database().db, { platform: 'slack', externalId: WS });
    const statuses = await database()
      .db.select({ user: inviteDms.platformUserId, status: inviteDms.status })
      .from(inviteDms)
      .where(eq(inviteDms.workspaceId, workspace!.id));
    expect(Object.fromEntries(statuses.map((s) => [s.user, s.status]))).toEqual({ U1: 'declined', U2: 'failed' });
  });

  it('a DM the platform will not take for now gives the claim back and stops the run; the next run reaches the rest, once each', async () => {
    const laterFor = ['U2'];
    const { core, dms } = setup(['U1', 'U2', 'U3'], { laterFor });
    const first = await ask(core, '/backcare invite <#C0DESIGN|design> dm', lead);
    expect(replyText(first)).toMatch(
      /Invited 1 person by direct message; 2 not yet \(Slack is rate-limiting direct messages\)/,
    );
    expect(replyText(first)).not.toMatch(/could not be reached/);
    expect(dms.map((d) => d.to)).toEqual(['U1']);
    laterFor.length = 0;
    await ask(core, '/backcare invite <#C0DESIGN|design> dm', lead);
    expect(dms.map((d) => d.to)).toEqual(['U1', 'U2', 'U3']);
    const rows = await database()
      .db.select({ user: inviteDms.platformUserId, status: inviteDms.status })
      .from(inviteDms);
    expect(rows.map((r) => `${r.user}:${r.status}`).sort()).toEqual(['U1:sent', 'U2:sent', 'U3:sent']);
  });

  it('where members cannot be listed (Discord), only the announcement is posted and the reply says why', async () => {
    const fake = fakeMessenger(['U1'], { canList: false });
    const discordMessenger: ChannelMessenger = { ...fake.messenger, platform: 'discord' };
    const core = buildTestCore(database().db, { deps: { channelMessengers: [discordMessenger] } });
    const answer = await ask(core, '/backcare invite <#C0DESIGN> dm', { ...lead, platform: 'discord' });
    expect(fake.posts).toHaveLength(1);
    expect(replyText(answer)).toMatch(/privileged Server Members intent/);
    expect(await database().db.select().from(inviteDms)).toEqual([]);
  });

  it(`one run DMs at most ${MAX_INVITE_DMS_PER_RUN} people; the next run reaches the rest, still once each`, async () => {
    const members = Array.from({ length: MAX_INVITE_DMS_PER_RUN + 5 }, (_, i) => `U${i}`);
    const { core, dms } = setup(members);
    expect(replyText(await ask(core, '/backcare invite <#C0DESIGN> dm', lead))).toMatch(/5 not yet/);
    expect(dms).toHaveLength(MAX_INVITE_DMS_PER_RUN);
    await ask(core, '/backcare invite <#C0DESIGN> dm', lead);
    expect(new Set(dms.map((d) => d.to)).size).toBe(members.length);
    expect(dms).toHaveLength(members.length);
  });

  it('on the console there are no channels: a friendly explanation', async () => {
    const core = buildTestCore(database().db);
    expect(replyText(await ask(core, '/backcare invite #design'))).toMatch(/works on Slack and Discord/);
  });
});
