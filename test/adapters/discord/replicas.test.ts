import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeCustomId } from '../../../adapters/discord/custom-id.js';
import { REF_OPTION_PREFIX } from '../../../adapters/discord/render.js';
import { defineAction, defineCommand, encodeActionValue, type Feature } from '../../../src/core/command.js';
import { features } from '../../../src/core/features/index.js';
import { reply, text } from '../../../src/core/reply.js';
import { createCore, TROUBLE_TEXT, type Core } from '../../../src/core/router.js';
import { queryRows, type Db } from '../../../src/db/client.js';
import { loadPreferences } from '../../../src/db/preferences.js';
import { users } from '../../../src/db/schema.js';
import { describeEachDatabase } from '../../support/db.js';
import { silentLogger } from '../../support/log.js';
import {
  buttonPress,
  channelChoice,
  messageWith,
  modalSubmit,
  selectChoice,
  slashCommand,
  type Where,
} from '../../support/discord/payloads.js';
import { startHarness, type Harness } from './harness.js';

/*
 * Two adapter instances on one database stand in for two replicas (or one process before and after a restart):
 * nothing a person is doing may live only in the memory of the instance that started it.
 */

type Callback = { type: number; data?: Record<string, unknown> };
type Component = { type: number; custom_id: string; label?: string; options?: { value: string }[] };
type Row = { components: Component[] };

const rowsOf = (c: Callback | undefined) => (c?.data?.components ?? []) as Row[];
const components = (c: Callback | undefined) => rowsOf(c).flatMap((r) => r.components);
const findButton = (c: Callback | undefined, label: string) => components(c).find((x) => x.label === label);
const TEAM_CHANNEL_ID = '223456789012345678';
const STRANGER = '777777777777777701';
const LONG_NOTE = 'n'.repeat(150);

/** A button and a select whose values are far beyond Discord's 100-character custom id. */
const longValues: Feature = {
  commands: [
    defineCommand({
      name: 'long',
      summary: 'a button and a select with long values',
      usage: '/backcare long',
      args: z.array(z.string()),
      run: async () =>
        reply('Long values', [text('Press or pick.')], {
          actions: [
            { type: 'button', actionId: 'long.press', label: 'Press', value: encodeActionValue({ note: LONG_NOTE }) },
            {
              type: 'select',
              actionId: 'long.press',
              placeholder: 'Pick',
              options: [{ label: 'The long one', value: encodeActionValue({ note: `${LONG_NOTE}!` }) }],
            },
          ],
        }),
    }),
  ],
  actions: [
    defineAction({
      actionId: 'long.press',
      value: z.object({ note: z.string() }),
      run: async (_ctx, { note }) => reply(`Got ${note.length}`, [text(`Got a note of ${note.length} characters.`)]),
    }),
  ],
};

const coreOn = (db: Db): Core =>
  createCore({ db, log: silentLogger(), now: () => new Date(), privacyFloor: 5 }, [...features, longValues]);

const count = async (db: Db, table: 'form_drafts' | 'action_refs') =>
  Number((await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]?.n);

describeEachDatabase('discord: drafts and long buttons outlive the instance that made them', (database) => {
  let a: Harness;
  let b: Harness;
  beforeEach(async () => {
    a = await startHarness(database().db, { core: coreOn(database().db) });
    b = await startHarness(database().db, { core: coreOn(database().db) });
    // As src/app.ts does: the core checks a picked channel through the adapter's channel messenger.
    for (const h of [a, b]) h.core.deps.channelMessengers = [h.adapter.channelMessenger];
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  /** Presses `label` on the message `on` shows, through harness `h`; returns the answer. */
  async function press(h: Harness, on: Callback, label: string, where: Where = { kind: 'guild' }) {
    const payload = buttonPress(findButton(on, label)!.custom_id, where, messageWith(rowsOf(on), { ephemeral: true }));
    await h.emit(payload);
    return h.callbacks(payload.id);
  }

  it('a settings wizard started on one instance is continued and saved on another, answers from both kept', async () => {
    const open = slashCommand('settings', [{ name: 'mode', type: 3, value: 'edit' }]);
    await a.emit(open);
    const page1 = a.callbacks(open.id)[0]!;
    const days = components(page1).find((s) => s.type === 3 && s.options?.some((o) => o.value === 'sat'))!;
    const pick = selectChoice(days.custom_id, ['mon', 'wed'], { kind: 'guild' }, messageWith(rowsOf(page1)));
    await a.emit(pick);
    expect(a.callbacks(pick.id)).toEqual([{ type: 6 }]);

    // "Restart": the next press lands on B, which has never seen this draft in memory.
    const [page2] = await press(b, page1, 'Next');
    expect(page2).toMatchObject({ type: 7 });
    const channelSelect = components(page2).find((c) => c.type === 8)!;
    const pickChannel = channelChoice(channelSelect.custom_id, [TEAM_CHANNEL_ID], { kind: 'guild' });
    await b.emit(pickChannel);
    expect(b.callbacks(pickChannel.id)).toEqual([{ type: 6 }]);

    // Back on A: the channel picked on B is part of the draft A reads.
    const next = components(page2).find((c) => c.type === 2 && c.label !== 'Cancel')!;
    const toModal = buttonPress(next.custom_id, { kind: 'guild' }, messageWith(rowsOf(page2), { ephemeral: true }));
    await a.emit(toModal);
    let current = a.callbacks(toModal.id)[0]!;
    const answers: Record<string, string> = { timezone: 'Europe/Paris', start: '08:30', end: '16:30' };
    const instances = [b, a];
    for (let turn = 0; current.type === 9 || findButton(current, 'Open the form'); turn++) {
      const h = instances[turn % 2]!;
      if (current.type === 9) {
        const inputs = (current.data!.components as { components: { custom_id: string; value?: string }[] }[]).map(
          (r) => r.components[0]!,
        );
        const submit = modalSubmit(
          current.data!.custom_id as string,
          Object.fromEntries(inputs.map((i) => [i.custom_id, answers[i.custom_id] ?? i.value ?? ''])),
          { kind: 'guild' },
          messageWith([], { ephemeral: true }),
        );
        await h.emit(submit);
        current = h.callbacks(submit.id)[0]!;
      } else {
        current = (await press(h, current, 'Open the form'))[0]!;
      }
      expect(turn).toBeLessThan(10);
    }
    expect(JSON.stringify(current)).toContain('Saved');
    const [user] = await database().db.select().from(users);
    expect(await loadPreferences(database().db, user!.id)).toMatchObject({
      timezone: 'Europe/Paris',
      days: ['mon', 'wed'],
      start: '08:30',
      end: '16:30',
      channelId: TEAM_CHANNEL_ID,
    });
    // Submitted: the draft is gone, and pressing an old step again says so on either instance.
    expect(await count(database().db, 'form_drafts')).toBe(0);
    expect((await press(b, page1, 'Next'))[0]).toMatchObject({ type: 4, data: { flags: 64 } });
  });

  it('someone else cannot continue your draft on any instance; you still can', async () => {
    const open = slashCommand('settings', [{ name: 'mode', type: 3, value: 'edit' }]);
    await a.emit(open);
    const page1 = a.callbacks(open.id)[0]!;

    const [refused] = await press(b, page1, 'Next', { kind: 'guild', userId: STRANGER });
    expect(refused).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(refused)).toContain('belongs to someone else');
    const days = components(page1).find((s) => s.type === 3 && s.options?.some((o) => o.value === 'sat'))!;
    const meddle = selectChoice(days.custom_id, ['sun'], { kind: 'guild', userId: STRANGER });
    await a.emit(meddle);
    expect(a.callbacks(meddle.id)[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    const [cancelByStranger] = await press(a, page1, 'Cancel', { kind: 'guild', userId: STRANGER });
    expect(JSON.stringify(cancelByStranger)).toContain('belongs to someone else');

    // The owner's draft is untouched: their next page comes, on the other instance.
    const [page2] = await press(b, page1, 'Next');
    expect(page2).toMatchObject({ type: 7 });
    const stored = await queryRows<{ answers: unknown; position: number }>(
      database().db,
      sql`select answers, position from form_drafts`,
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]!.position).toBe(1);
    expect(JSON.stringify(stored[0]!.answers)).not.toContain('"sun"');
  });

  it('a button and a select option too long for a custom id, sent in a DM by one instance, work on another', async () => {
    const dm = { kind: 'dm' } as const;
    const ask = slashCommand('long', [], dm);
    await a.emit(ask);
    const shown = a.callbacks(ask.id)[0]!;
    const button = findButton(shown, 'Press')!;
    expect(decodeCustomId(button.custom_id)).toMatchObject({ kind: 'ref' });
    const option = components(shown).find((c) => c.type === 3)!.options![0]!;
    expect(option.value.startsWith(REF_OPTION_PREFIX)).toBe(true);
    expect(await count(database().db, 'action_refs')).toBe(2);

    const [pressed] = await press(b, shown, 'Press', dm);
    expect(JSON.stringify(pressed)).toContain('Got a note of 150 characters.');
    const select = components(shown).find((c) => c.type === 3)!;
    const picked = selectChoice(select.custom_id, [option.value], dm, messageWith(rowsOf(shown)));
    await b.emit(picked);
    expect(JSON.stringify(b.callbacks(picked.id))).toContain('Got a note of 151 characters.');
  });

  it('forget-me removes the person’s drafts and button references, and their old buttons then expire', async () => {
    const open = slashCommand('settings', [{ name: 'mode', type: 3, value: 'edit' }]);
    await a.emit(open);
    const long = slashCommand('long');
    await a.emit(long);
    const someoneElse = slashCommand('settings', [{ name: 'mode', type: 3, value: 'edit' }], {
      kind: 'guild',
      userId: STRANGER,
    });
    await a.emit(someoneElse);
    expect(await count(database().db, 'form_drafts')).toBe(2);
    expect(await count(database().db, 'action_refs')).toBe(2);

    const forget = slashCommand('forget-me');
    await b.emit(forget);
    const [confirmed] = await press(b, b.callbacks(forget.id)[0]!, 'Yes, delete my data');
    expect(JSON.stringify(confirmed)).toContain('has been deleted');

    const left = await queryRows<{ platform_user_id: string }>(
      database().db,
      sql`select platform_user_id from form_drafts`,
    );
    expect(left.map((r) => r.platform_user_id)).toEqual([STRANGER]);
    expect(await count(database().db, 'action_refs')).toBe(0);
    const [expired] = await press(a, a.callbacks(long.id)[0]!, 'Press');
    expect(JSON.stringify(expired)).toContain('expired');
    const [gone] = await press(a, a.callbacks(open.id)[0]!, 'Next');
    expect(JSON.stringify(gone)).toContain('expired');
  });

  it('while the database is unreachable, a form step or a long button answers the trouble message', async () => {
    const refused = () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    };
    const down = new Proxy(database().db, {
      get: (target, name, receiver) =>
        ['select', 'insert', 'update', 'delete', 'execute', 'transaction'].includes(String(name))
          ? refused
          : Reflect.get(target, name, receiver),
    });
    const c = await startHarness(down, { core: coreOn(down) });
    try {
      for (const customId of ['f|abc123|>', 'r|abc123']) {
        const payload = buttonPress(customId);
        await c.emit(payload);
        expect(c.callbacks(payload.id)).toEqual([
          { type: 4, data: expect.objectContaining({ content: TROUBLE_TEXT, flags: 64 }) },
        ]);
      }
      expect(c.logs().filter((l) => l.event === 'discord.db_unavailable')).toHaveLength(2);
    } finally {
      await c.close();
    }
  });
});
