import { describe, expect, it } from 'vitest';
import { subcommandSpecs } from '../../../adapters/discord/commands.js';
import {
  ActionRefs,
  decodeCustomId,
  encodeCustomId,
  memoryActionRefStore,
} from '../../../adapters/discord/custom-id.js';
import { actorFrom, commandText, parseCommandOptions, timezoneSuggestions } from '../../../adapters/discord/parse.js';
import { coreWithoutDb } from './harness-core.js';

const { core } = coreWithoutDb();
const specs = subcommandSpecs(core.commands, core.deps.library);
const sub = (name: string, options: unknown[] = []) => [{ name, type: 1, options }];

describe('discord interaction parsing', () => {
  it('turns a subcommand and its options into the text the core parses, in the registered order', () => {
    const parsed = parseCommandOptions(
      specs,
      sub('breathe', [
        { name: 'minutes', type: 4, value: 3 },
        { name: 'pattern', type: 3, value: '4-7-8' },
      ]),
    );
    expect(parsed.ok && commandText(parsed.spec, parsed.values)).toBe('breathe 4-7-8 3');
    const admin = parseCommandOptions(
      specs,
      sub('admin', [
        { name: 'action', type: 3, value: 'forget' },
        { name: 'person', type: 6, value: '123456789012345678' },
      ]),
    );
    expect(admin.ok && commandText(admin.spec, admin.values)).toBe('admin forget <@123456789012345678>');
  });

  it('refuses values outside the registered choices and ranges, unknown options and unknown subcommands', () => {
    expect(parseCommandOptions(specs, sub('breathe', [{ name: 'pattern', type: 3, value: 'hyper' }])).ok).toBe(false);
    expect(parseCommandOptions(specs, sub('breathe', [{ name: 'minutes', type: 4, value: 99 }])).ok).toBe(false);
    expect(parseCommandOptions(specs, sub('breathe', [{ name: 'speed', type: 3, value: 'x' }])).ok).toBe(false);
    expect(parseCommandOptions(specs, sub('teleport')).ok).toBe(false);
    expect(parseCommandOptions(specs, sub('admin', [{ name: 'action', type: 3, value: 'forget' }])).ok).toBe(false);
    expect(parseCommandOptions(specs, 'garbage').ok).toBe(false);
  });

  it('keeps a focused autocomplete value as typed', () => {
    const parsed = parseCommandOptions(
      specs,
      sub('settings', [{ name: 'timezone', type: 3, value: 'new yo', focused: true }]),
    );
    expect(parsed).toMatchObject({ ok: true, focused: 'timezone', values: { timezone: 'new yo' } });
    expect(timezoneSuggestions('new yo')[0]).toEqual({ name: 'America/New York', value: 'America/New_York' });
    expect(timezoneSuggestions('zzzz')).toEqual([]);
  });

  it('makes Manage Server an admin and a lead, and a DM without a guild a personal workspace', () => {
    expect(actorFrom({ userId: '1', guildId: '2', manageGuild: true, isLead: false })).toMatchObject({
      workspaceExternalId: '2',
      isAdmin: true,
      isLead: true,
    });
    expect(actorFrom({ userId: '1', manageGuild: false, isLead: false })).toMatchObject({
      workspaceExternalId: 'dm-1',
      isAdmin: false,
      isLead: false,
    });
  });
});

describe('discord custom ids', () => {
  it('round-trip buttons with the guild and delivery a DM message is about', () => {
    const id = encodeCustomId({
      kind: 'button',
      actionId: 'nudge.done',
      ctx: { guildId: '222222222222222222', deliveryId: 4242 },
      value: '{"d":4242,"x":1790000000}',
    });
    expect(id.length).toBeLessThanOrEqual(100);
    expect(decodeCustomId(id)).toEqual({
      kind: 'button',
      actionId: 'nudge.done',
      ctx: { guildId: '222222222222222222', deliveryId: 4242 },
      value: '{"d":4242,"x":1790000000}',
    });
    expect(decodeCustomId(encodeCustomId({ kind: 'select', actionId: 'feel', ctx: {} }))).toEqual({
      kind: 'select',
      actionId: 'feel',
      ctx: {},
    });
  });

  it('rejects what is not ours', () => {
    for (const forged of [
      '',
      'x|y',
      'b|',
      'b|a|!!|v',
      's|a|b|c',
      'f|draft',
      'm|d|abc',
      'r|UPPER',
      'b|a||' + 'v'.repeat(100),
    ])
      expect(decodeCustomId(forged)).toBeNull();
  });

  it('without a database, keeps long actions in memory under a short key that expires', async () => {
    let now = 0;
    const refs = new ActionRefs(memoryActionRefStore(1000, 2, () => now));
    const a = refs.put({ actionId: 'a', value: 'x'.repeat(300), ctx: { guildId: '222222222222222222' } });
    expect(a).toMatch(/^[0-9a-z]{1,16}$/);
    expect(await refs.get(a)).toEqual({
      actionId: 'a',
      value: 'x'.repeat(300),
      ctx: { guildId: '222222222222222222' },
    });
    refs.put({ actionId: 'b', value: '', ctx: {} });
    refs.put({ actionId: 'c', value: '', ctx: {} });
    expect(await refs.get(a)).toBeNull(); // evicted: the store is bounded
    const d = refs.put({ actionId: 'd', value: '', ctx: {} });
    await refs.flush();
    now = 2000;
    expect(await refs.get(d)).toBeNull(); // expired
  });
});
