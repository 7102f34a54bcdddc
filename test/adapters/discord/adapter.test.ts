import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { decodeCustomId } from '../../../adapters/discord/custom-id.js';
import { decodeActionValue, type Feature } from '../../../src/core/command.js';
import { features } from '../../../src/core/features/index.js';
import type { Actor, CoreRequest } from '../../../src/core/request.js';
import { createCore, type Core } from '../../../src/core/router.js';
import { createWorkQueue } from '../../../src/core/work-queue.js';
import { loadPreferences } from '../../../src/db/preferences.js';
import { auditLog, discordGuildSettings, users, workspaces } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { silentLogger } from '../../support/log.js';
import {
  autocomplete,
  buttonPress,
  channelChoice,
  GUILD_ID,
  LEAD_ROLE_ID,
  MANAGE_GUILD_PERMISSIONS,
  messageWith,
  modalSubmit,
  selectChoice,
  slashCommand,
  USER_ID,
} from '../../support/discord/payloads.js';
import { startHarness, type Harness } from './harness.js';
import { demoSequenceFeature } from '../../support/demo-sequence.js';

type Callback = { type: number; data?: Record<string, unknown> };
type Row = {
  components: { type: number; custom_id: string; label?: string; options?: { value: string; default?: boolean }[] }[];
};
type Embed = { title?: string; description?: string; fields?: { name: string; value: string }[] };

/** A text channel of the test guild, as Discord's channel select sends it. */
const TEAM_CHANNEL_ID = '223456789012345678';
const embedsOf = (c: Callback | undefined) => (c?.data?.embeds ?? []) as Embed[];
const rowsOf = (c: Callback | undefined) => (c?.data?.components ?? []) as Row[];
const customIds = (c: Callback | undefined) => rowsOf(c).flatMap((r) => r.components.map((x) => x.custom_id));
const findButton = (c: Callback | undefined, label: string) =>
  rowsOf(c)
    .flatMap((r) => r.components)
    .find((x) => x.label === label);

/** The real core, plus a recorder of who the adapter said was asking. */
function recordingCore(
  db: Parameters<typeof startHarness>[0],
  extra: Feature[] = [],
): { core: Core; seen: CoreRequest[] } {
  const base = createCore({ db, log: silentLogger(), now: () => new Date(), privacyFloor: 5 }, [...features, ...extra]);
  const seen: CoreRequest[] = [];
  return { core: { ...base, handle: (request) => (seen.push(request), base.handle(request)) }, seen };
}

describeEachDatabase('discord adapter: commands, components, autocomplete', (database) => {
  let h: Harness;
  let seen: CoreRequest[];
  beforeEach(async () => {
    const recorded = recordingCore(database().db);
    seen = recorded.seen;
    h = await startHarness(database().db, { core: recorded.core });
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers /backcare help in a guild with one ephemeral embed (callback type 4, flags 64)', async () => {
    const payload = slashCommand('help');
    await h.emit(payload);
    const calls = h.api.requests.filter((r) => r.path.startsWith(`/interactions/${payload.id}/`));
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /interactions/${payload.id}/${payload.token}/callback`,
    ]);
    const [callback] = h.callbacks(payload.id);
    expect(callback!.type).toBe(4);
    expect(callback!.data!.flags).toBe(64);
    const embeds = embedsOf(callback);
    expect(embeds).toHaveLength(1);
    expect(embeds[0]!.description).toContain('**/backcare settings');
    expect(embeds[0]!.description).toContain('not medical advice');
    expect(seen[0]!.input).toEqual({ kind: 'command', text: 'help' });
  });

  it('in a DM, a person without any server gets a personal workspace, and is never an admin', async () => {
    const payload = slashCommand('me', [], { kind: 'dm' });
    await h.emit(payload);
    const [callback] = h.callbacks(payload.id);
    expect(callback).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(seen[0]!.actor).toMatchObject({
      platform: 'discord',
      workspaceExternalId: `dm-${USER_ID}`,
      userExternalId: USER_ID,
      isAdmin: false,
      isLead: false,
    });
  });

  it('in a DM, someone set up in a server acts in that server, and the DM buttons name it', async () => {
    await h.emit(
      slashCommand('settings', [
        { name: 'mode', type: 3, value: 'on' },
        { name: 'timezone', type: 3, value: 'Europe/London' },
      ]),
    );
    const dm = slashCommand('settings', [], { kind: 'dm' });
    await h.emit(dm);
    expect(seen.at(-1)!.actor).toMatchObject({ workspaceExternalId: GUILD_ID, isAdmin: false });
    const ids = customIds(h.callbacks(dm.id)[0]);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(decodeCustomId(id)).toMatchObject({ ctx: { guildId: GUILD_ID } });
    expect(await database().db.select().from(workspaces)).toHaveLength(1);
  });

  it('Manage Server makes an admin; a lead role set by an admin makes a lead; others cannot set it', async () => {
    await h.emit(slashCommand('help', [], { kind: 'guild', permissions: MANAGE_GUILD_PERMISSIONS }));
    expect(seen.at(-1)!.actor).toMatchObject({ workspaceExternalId: GUILD_ID, isAdmin: true, isLead: true });
    await h.emit(slashCommand('help', [], { kind: 'guild', roles: [LEAD_ROLE_ID] }));
    expect(seen.at(-1)!.actor).toMatchObject({ isAdmin: false, isLead: false });

    const refused = slashCommand('lead-role', [{ name: 'role', type: 8, value: LEAD_ROLE_ID }], {
      kind: 'guild',
      roles: [LEAD_ROLE_ID],
    });
    await h.emit(refused);
    expect(embedsOf(h.callbacks(refused.id)[0])[0]!.description).toContain('Manage Server');
    expect(await database().db.select().from(discordGuildSettings)).toHaveLength(0);

    const set = slashCommand('lead-role', [{ name: 'role', type: 8, value: LEAD_ROLE_ID }], {
      kind: 'guild',
      permissions: MANAGE_GUILD_PERMISSIONS,
    });
    await h.emit(set);
    expect(embedsOf(h.callbacks(set.id)[0])[0]!.description).toContain(`<@&${LEAD_ROLE_ID}>`);
    const [stored] = await database().db.select().from(discordGuildSettings);
    expect(stored).toMatchObject({ leadRoleId: LEAD_ROLE_ID, updatedBy: USER_ID });
    expect((await database().db.select().from(auditLog)).map((a) => a.action)).toEqual(['discord.lead_role.set']);

    await h.emit(slashCommand('help', [], { kind: 'guild', roles: [LEAD_ROLE_ID] }));
    expect(seen.at(-1)!.actor).toMatchObject({ isAdmin: false, isLead: true });
    await h.emit(slashCommand('help', [], { kind: 'guild', roles: ['999999999999999999'] }));
    expect(seen.at(-1)!.actor).toMatchObject({ isLead: false });
  });

  it('autocompletes timezones from Intl (callback type 8, at most 25 choices)', async () => {
    const payload = autocomplete('settings', [{ name: 'timezone', type: 3, value: 'lond', focused: true }]);
    await h.emit(payload);
    const [callback] = h.callbacks(payload.id);
    expect(callback!.type).toBe(8);
    const choices = callback!.data!.choices as { name: string; value: string }[];
    expect(choices[0]).toEqual({ name: 'Europe/London', value: 'Europe/London' });
    const wide = autocomplete('settings', [{ name: 'timezone', type: 3, value: 'america', focused: true }]);
    await h.emit(wide);
    const many = h.callbacks(wide.id)[0]!.data!.choices as unknown[];
    expect(many).toHaveLength(25);
    expect(seen).toHaveLength(0);
  });

  it('renders buttons as custom ids that come back to the core, and a replacing answer updates the message (type 7)', async () => {
    const ask = slashCommand('forget-me');
    await h.emit(ask);
    const callback = h.callbacks(ask.id)[0];
    const ids = customIds(callback);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(100);
    const cancel = findButton(callback, 'Cancel')!;
    const cancelId = decodeCustomId(cancel.custom_id);
    expect(cancelId).toMatchObject({ kind: 'button', actionId: 'forget.cancel' });
    expect(cancelId?.kind === 'button' ? decodeActionValue(cancelId.value, new Date()) : undefined).toEqual({});
    expect(rowsOf(callback)[0]!.components.map((b) => (b as { style?: number }).style)).toEqual([4, 2]);

    const press = buttonPress(
      cancel.custom_id,
      { kind: 'guild' },
      messageWith(rowsOf(callback), { ephemeral: true, interactionId: ask.id }),
    );
    await h.emit(press);
    const [answer] = h.callbacks(press.id);
    expect(answer!.type).toBe(7);
    expect(answer!.data!.flags).toBeUndefined();
    expect(embedsOf(answer)[0]!.description).toContain('Nothing was deleted');
    expect(seen.at(-1)!.input).toMatchObject({ kind: 'action', actionId: 'forget.cancel' });
  });

  it('a forged or stale custom id gets a polite ephemeral answer and never reaches the core', async () => {
    const press = buttonPress('b|forget.confirm||{"x":1}');
    await h.emit(press);
    const answer = h.callbacks(press.id)[0]!;
    expect(answer).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(answer)).toMatch(/expired|no longer valid/);
    const junk = buttonPress('not-ours');
    await h.emit(junk);
    expect(h.callbacks(junk.id)[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    // The first one reached the core (which refused the expired value); the junk one did not.
    expect(seen.filter((r) => r.input.kind === 'action')).toHaveLength(1);
  });

  it('first opt-in asks for a timezone (nothing stored); with one from autocomplete it saves and opts in', async () => {
    const first = slashCommand('settings', [{ name: 'mode', type: 3, value: 'on' }]);
    await h.emit(first);
    expect(embedsOf(h.callbacks(first.id)[0])[0]!.description).toContain('Which timezone are you in?');
    const [ws] = await database().db.select().from(workspaces);
    expect(ws?.externalId ?? null).toBeNull();

    const withZone = slashCommand('settings', [
      { name: 'mode', type: 3, value: 'on' },
      { name: 'timezone', type: 3, value: 'Europe/Paris' },
    ]);
    await h.emit(withZone);
    const answer = h.callbacks(withZone.id)[0]!;
    expect(answer).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(answer)).toContain('Europe/Paris');
    const [user] = await database().db.select().from(users);
    const prefs = await loadPreferences(database().db, user!.id);
    expect(prefs).toMatchObject({ optedIn: true, timezone: 'Europe/Paris' });

    // A later "on" needs no timezone question any more.
    const again = slashCommand('settings', [{ name: 'mode', type: 3, value: 'on' }]);
    await h.emit(again);
    expect(JSON.stringify(h.callbacks(again.id)[0])).not.toContain('Which timezone');
  });

  it('an unknown timezone typed instead of picked is shown as an error, nothing saved', async () => {
    const payload = slashCommand('settings', [
      { name: 'mode', type: 3, value: 'on' },
      { name: 'timezone', type: 3, value: 'Mars/Olympus' },
    ]);
    await h.emit(payload);
    const answer = h.callbacks(payload.id)[0]!;
    expect(answer).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(answer)).toContain('not a timezone I know');
    const [user] = await database().db.select().from(users);
    expect(await loadPreferences(database().db, user!.id)).toBeNull();
  });

  it('settings edit: pages of ephemeral selects, then a modal (type 9), errors shown in place, saved only at the end', async () => {
    // As src/app.ts does: the adapter's channel messenger goes to the core.
    h.core.deps.channelMessengers = [h.adapter.channelMessenger];
    const open = slashCommand('settings', [{ name: 'mode', type: 3, value: 'edit' }]);
    await h.emit(open);
    const page1 = h.callbacks(open.id)[0]!;
    expect(page1).toMatchObject({ type: 4, data: { flags: 64 } });
    const rows1 = rowsOf(page1);
    expect(rows1.length).toBeLessThanOrEqual(5);
    const selects1 = rows1.flatMap((r) => r.components).filter((c) => c.type === 3);
    expect(selects1).toHaveLength(4);
    const daysSelect = selects1.find((s) => s.options?.some((o) => o.value === 'sat'))!;

    const message1 = messageWith(rows1, { ephemeral: true, interactionId: open.id });
    const pick = selectChoice(daysSelect.custom_id, ['mon', 'wed'], { kind: 'guild' }, message1);
    await h.emit(pick);
    expect(h.callbacks(pick.id)).toEqual([{ type: 6 }]);

    const next1 = buttonPress(findButton(page1, 'Next')!.custom_id, { kind: 'guild' }, message1);
    await h.emit(next1);
    const page2 = h.callbacks(next1.id)[0]!;
    expect(page2.type).toBe(7);
    // The team channel is picked from Discord's own channel list (text channels), never typed as a name.
    const channelSelect = rowsOf(page2)
      .flatMap((r) => r.components)
      .find((c) => c.type === 8) as { custom_id: string; channel_types?: number[]; min_values?: number } | undefined;
    expect(channelSelect).toMatchObject({ channel_types: [0, 5], min_values: 0 });
    const pickChannel = channelChoice(
      channelSelect!.custom_id,
      [TEAM_CHANNEL_ID],
      { kind: 'guild' },
      messageWith(rowsOf(page2), { ephemeral: true, interactionId: open.id }),
    );
    await h.emit(pickChannel);
    expect(h.callbacks(pickChannel.id)).toEqual([{ type: 6 }]);
    const nextLabel = rowsOf(page2)
      .flatMap((r) => r.components)
      .find((c) => c.type === 2 && c.label !== 'Cancel')!;
    const next2 = buttonPress(
      nextLabel.custom_id,
      { kind: 'guild' },
      messageWith(rowsOf(page2), { ephemeral: true, interactionId: open.id }),
    );
    await h.emit(next2);
    // Text fields come in modals of at most five; between two modals a page offers "Open the form".
    const typed: string[] = [];
    let current = h.callbacks(next2.id)[0]!;
    expect(current.type).toBe(9);
    const answers: Record<string, string> = {
      timezone: 'America/New_York',
      start: '09:00',
      end: '09:00',
      everyMinutes: '45',
    };
    while (
      current.type === 9 ||
      (current.type === 7 && findButton(current, 'Open the form') && !JSON.stringify(current).includes('❌'))
    ) {
      if (current.type === 9) {
        expect((current.data!.title as string).length).toBeLessThanOrEqual(45);
        const inputs = (current.data!.components as Row[]).map(
          (r) => r.components[0]! as { custom_id: string; value?: string },
        );
        expect(inputs.length).toBeLessThanOrEqual(5);
        typed.push(...inputs.map((i) => i.custom_id));
        const submit = modalSubmit(
          current.data!.custom_id as string,
          Object.fromEntries(inputs.map((i) => [i.custom_id, answers[i.custom_id] ?? i.value ?? ''])),
          { kind: 'guild' },
          messageWith(rowsOf(page2), { ephemeral: true, interactionId: open.id }),
        );
        await h.emit(submit);
        current = h.callbacks(submit.id)[0]!;
      } else {
        const press = buttonPress(
          findButton(current, 'Open the form')!.custom_id,
          { kind: 'guild' },
          messageWith(rowsOf(current), { ephemeral: true }),
        );
        await h.emit(press);
        current = h.callbacks(press.id)[0]!;
      }
    }
    expect(typed).toEqual(expect.arrayContaining(['timezone', 'start', 'end', 'everyMinutes']));
    expect(typed).not.toContain('channelId');

    // The same start and end: the core rejects it; the person sees why and nothing is saved.
    const retry = current;
    expect(retry.type).toBe(7);
    expect(JSON.stringify(retry)).toContain('end must differ from start');
    const [user] = await database().db.select().from(users);
    expect(await loadPreferences(database().db, user!.id)).toBeNull();

    const fix = buttonPress(
      findButton(retry, 'Open the form')!.custom_id,
      { kind: 'guild' },
      messageWith(rowsOf(retry), { ephemeral: true }),
    );
    await h.emit(fix);
    const modal2 = h.callbacks(fix.id)[0]!;
    expect(modal2.type).toBe(9);
    expect((modal2.data!.components as Row[]).map((r) => r.components[0]!.custom_id)).toEqual(['end']);
    const good = modalSubmit(
      modal2.data!.custom_id as string,
      { end: '17:30' },
      { kind: 'guild' },
      messageWith([], { ephemeral: true }),
    );
    await h.emit(good);
    const saved = h.callbacks(good.id)[0]!;
    expect(saved.type).toBe(7);
    expect(JSON.stringify(saved)).toContain('Saved');
    expect(await loadPreferences(database().db, user!.id)).toMatchObject({
      timezone: 'America/New_York',
      days: ['mon', 'wed'],
      start: '09:00',
      end: '17:30',
      everyMinutes: 45,
      channelId: TEAM_CHANNEL_ID,
    });
  });

  it('an unknown interaction (10062) is logged and does not crash; the next one is answered', async () => {
    const lost = slashCommand('help');
    h.api.respondOnce((r) => r.path.startsWith(`/interactions/${lost.id}/`), {
      status: 404,
      body: { message: 'Unknown interaction', code: 10062 },
    });
    await h.emit(lost);
    expect(h.callbacks(lost.id)).toHaveLength(1);
    expect(h.logs().some((l) => l.event === 'discord.interaction_unknown' && l.level === 40)).toBe(true);
    const next = slashCommand('help');
    await h.emit(next);
    expect(h.callbacks(next.id)[0]!.type).toBe(4);
  });

  it('removing the bot from a server (guildDelete) stops nudges there and keeps the data', async () => {
    const optIn = slashCommand('settings', [
      { name: 'mode', type: 3, value: 'on' },
      { name: 'timezone', type: 3, value: 'Europe/London' },
    ]);
    await h.emit(optIn);
    const actions = (h.adapter.client as unknown as { actions: { GuildDelete: { handle(d: unknown): unknown } } })
      .actions;
    (h.adapter.client.guilds as unknown as { _add(d: unknown): unknown })._add({
      id: GUILD_ID,
      name: 'Desk crew',
      roles: [],
      channels: [],
      members: [],
      emojis: [],
      features: [],
    });
    actions.GuildDelete.handle({ id: GUILD_ID });
    await h.adapter.idle();
    const [ws] = await database().db.select().from(workspaces).where(eq(workspaces.externalId, GUILD_ID));
    expect(ws!.active).toBe(false);
    const [user] = await database().db.select().from(users);
    const prefs = await loadPreferences(database().db, user!.id);
    expect(prefs).toMatchObject({ optedIn: true, pausedReason: 'Backcare was removed from this workspace' });
  });
});

describeEachDatabase('discord adapter: answering in time', (database) => {
  it('defers (type 5, ephemeral) when the core is slow, then edits the original reply', async () => {
    const base = createCore(
      { db: database().db, log: silentLogger(), now: () => new Date(), privacyFloor: 5 },
      features,
    );
    const slow: Core = {
      ...base,
      handle: async (r) => (await new Promise((resolve) => setTimeout(resolve, 120)), base.handle(r)),
    };
    const h = await startHarness(database().db, { core: slow, deferAfterMs: 20 });
    try {
      const payload = slashCommand('help');
      await h.emit(payload);
      expect(h.callbacks(payload.id)).toEqual([{ type: 5, data: { flags: 64 } }]);
      const edit = h.api.requests.find(
        (r) =>
          r.method === 'PATCH' && r.path === `/webhooks/${payload.application_id}/${payload.token}/messages/@original`,
      );
      expect(JSON.stringify(edit?.body)).toContain('Backcare: look after your upper back');
    } finally {
      await h.close();
    }
  });
});

describeEachDatabase('discord adapter: the work queue', (database) => {
  it('a command waiting for a work slot is still acknowledged in time (deferred), and answered once a slot frees', async () => {
    const work = createWorkQueue({ concurrency: 1 });
    let release = () => {};
    // Another kind of work holds the only slot, as a burst would hold them all.
    const held = work.run('other', () => new Promise<void>((resolve) => (release = resolve)));
    const h = await startHarness(database().db, { work, deferAfterMs: 20 });
    try {
      const payload = slashCommand('help');
      const emitted = h.emit(payload);
      await vi.waitFor(() => expect(h.callbacks(payload.id)).toEqual([{ type: 5, data: { flags: 64 } }]));
      const original = `/webhooks/${payload.application_id}/${payload.token}/messages/@original`;
      expect(h.api.requests.some((r) => r.path === original)).toBe(false);
      release();
      await held;
      await emitted;
      const edit = h.api.requests.find((r) => r.method === 'PATCH' && r.path === original);
      expect(JSON.stringify(edit?.body)).toContain('Backcare: look after your upper back');
    } finally {
      await h.close();
    }
  });
});

const frames = ['Breathe in… 4', 'Hold… 4', 'Breathe out… 4'];
const demoFeature = (frameMs: number) => demoSequenceFeature(frames, frameMs);

describeEachDatabase('discord adapter: live sessions', (database) => {
  const edits = (h: Harness, token: string) =>
    h.api.requests
      .filter((r) => r.method === 'PATCH' && r.path.endsWith(`/${token}/messages/@original`))
      .map((r) => JSON.stringify(r.body));

  it('shows the first frame in the reply, edits the rest in order, then shows the completion reply', async () => {
    const { core } = recordingCore(database().db, [demoFeature(30)]);
    const h = await startHarness(database().db, { core });
    try {
      const payload = slashCommand('demo');
      await h.emit(payload);
      const first = h.callbacks(payload.id)[0]!;
      expect(first).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(JSON.stringify(first)).toContain('Breathe in… 4');
      expect(findButton(first, 'Stop')).toBeDefined();
      const patched = edits(h, payload.token);
      expect(patched).toHaveLength(3);
      expect(patched[0]).toContain('Hold… 4');
      expect(patched[1]).toContain('Breathe out… 4');
      expect(patched[2]).toContain('How do you feel?');
    } finally {
      await h.close();
    }
  });

  it('Stop cancels the pending frames and its answer replaces the message', async () => {
    const { core, seen } = recordingCore(database().db, [demoFeature(60_000)]);
    const h = await startHarness(database().db, { core });
    try {
      const payload = slashCommand('demo');
      h.adapter.client.emit('debug', 'start');
      (
        h.adapter.client as unknown as { actions: { InteractionCreate: { handle(d: unknown): void } } }
      ).actions.InteractionCreate.handle(payload);
      await vitestWaitFor(() => h.adapter.live.active === 1);
      const first = h.callbacks(payload.id)[0]!;
      const stop = buttonPress(
        findButton(first, 'Stop')!.custom_id,
        { kind: 'guild' },
        messageWith(rowsOf(first), { ephemeral: true, interactionId: payload.id }),
      );
      await h.emit(stop);
      expect(h.adapter.live.active).toBe(0);
      expect(h.callbacks(stop.id)[0]).toMatchObject({ type: 7 });
      expect(JSON.stringify(h.callbacks(stop.id)[0])).toContain('Stopped');
      expect(edits(h, payload.token)).toHaveLength(0);
      expect(
        seen.filter((r) => r.input.kind === 'action').map((r) => (r.input as { actionId: string }).actionId),
      ).toEqual(['demo.stop']);
    } finally {
      await h.close();
    }
  });

  it('under load: beyond maxLive a session gets the static version; a short edit budget skips frames but always ends', async () => {
    const { core } = recordingCore(database().db, [demoFeature(30)]);
    const busy = await startHarness(database().db, { core, live: { maxLive: 0 } });
    try {
      const payload = slashCommand('demo');
      await busy.emit(payload);
      expect(JSON.stringify(busy.callbacks(payload.id)[0])).toContain('In 4, hold 4, out 4.');
      const patched = edits(busy, payload.token);
      expect(patched).toHaveLength(1);
      expect(patched[0]).toContain('How do you feel?');
      expect(busy.adapter.live.stats.staticStarts).toBe(1);
    } finally {
      await busy.close();
    }
    const tight = await startHarness(database().db, { core, live: { editsPerSecond: 1 } });
    try {
      const payload = slashCommand('demo');
      await tight.emit(payload);
      const patched = edits(tight, payload.token);
      expect(patched.length).toBeLessThan(frames.length + 1);
      expect(patched.at(-1)).toContain('How do you feel?');
      expect(tight.adapter.live.stats.skippedFrames).toBeGreaterThan(0);
    } finally {
      await tight.close();
    }
  });

  it('past the interaction token lifetime the session continues as a regular DM message', async () => {
    const { core } = recordingCore(database().db, [demoFeature(30)]);
    const h = await startHarness(database().db, { core, live: { tokenLifetimeMs: -1 } });
    try {
      const payload = slashCommand('demo');
      await h.emit(payload);
      const paths = h.api.requests.map((r) => `${r.method} ${r.path}`);
      expect(paths).toContain('POST /users/@me/channels');
      const dmPost = h.api.requests.find((r) => r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.path));
      expect(JSON.stringify(dmPost?.body)).toContain('Hold… 4');
      expect(edits(h, payload.token)[0]).toContain('continues in your direct messages');
      const later = h.api.requests
        .filter((r) => r.method === 'PATCH' && /^\/channels\/\d+\/messages\/\d+$/.test(r.path))
        .map((r) => JSON.stringify(r.body));
      expect(later).toHaveLength(2);
      expect(later[0]).toContain('Breathe out… 4');
      expect(later[1]).toContain('How do you feel?');
    } finally {
      await h.close();
    }
  });
});

async function vitestWaitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const { vi } = await import('vitest');
  await vi.waitFor(
    () => {
      if (!check()) throw new Error('not yet');
    },
    { timeout: timeoutMs, interval: 5 },
  );
}

export type { Actor };
