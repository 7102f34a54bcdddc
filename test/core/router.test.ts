import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  decodeActionValue,
  defineAction,
  defineCommand,
  defineForm,
  encodeActionValue,
  setActionValueSecret,
} from '../../src/core/command.js';
import { reply, replyText } from '../../src/core/reply.js';
import { createCore, isDatabaseUnavailable, suggestCommand, tokenize } from '../../src/core/router.js';
import type { Db } from '../../src/db/client.js';
import { captureLogger } from '../support/log.js';
import { ask, testActor } from '../support/core.js';

describe('tokenize', () => {
  it.each([
    ['/backcare help', ['help']],
    ['help', ['help']],
    ['  /BACKCARE   breathe  box  2 ', ['breathe', 'box', '2']],
    ['backcare routine list', ['routine', 'list']],
    ['lead add "Ada Lovelace"', ['lead', 'add', 'Ada Lovelace']],
    ['', []],
    ['/backcare', []],
  ])('%j → %j', (input, expected) => {
    expect(tokenize(input)).toEqual(expected);
  });
});

describe('suggestCommand', () => {
  const names = ['help', 'settings', 'me', 'forget-me', 'breathe', 'stretch'];
  it.each([
    ['sttings', 'settings'],
    ['setings', 'settings'],
    ['breath', 'breathe'],
    ['hlep', 'help'],
    ['forget', 'forget-me'],
    ['str', 'stretch'],
    ['xyzzy', null],
    ['dance', null],
  ])('%s → %s', (typed, expected) => {
    expect(suggestCommand(typed, names)).toBe(expected);
  });
});

describe('suggestCommand among the real commands', () => {
  const names = [
    'help',
    'breathe',
    'stretch',
    'roll',
    'relax',
    'routine',
    'routines',
    'settings',
    'nudge',
    'team-post',
    'break',
    'hours',
    'days-off',
    'holiday',
    'me',
    'forget-me',
    'admin',
    'stats',
    'lead',
    'leads',
    'triage',
    'privacy',
    'invite',
  ];
  it.each([
    ['clear', null],
    ['hello', null],
    ['seting', 'settings'],
    ['brethe', 'breathe'],
    ['triag', 'triage'],
  ])('%s → %s', (typed, expected) => {
    expect(suggestCommand(typed, names)).toBe(expected);
  });
});

describe('action values', () => {
  it('round-trip, and expire after their time to live', () => {
    const now = new Date('2026-03-02T10:00:00Z');
    const value = encodeActionValue({ d: 42 }, { ttlSeconds: 60, now });
    expect(value.length).toBeLessThan(100);
    expect(decodeActionValue(value, now)).toEqual({ d: 42 });
    expect(decodeActionValue(value, new Date(now.getTime() + 61_000))).toBeUndefined();
    expect(decodeActionValue('not json', now)).toBeUndefined();
    expect(decodeActionValue('[1,2]', now)).toBeUndefined();
  });

  it('only the server secret they were signed with accepts them', () => {
    const now = new Date('2026-03-02T10:00:00Z');
    setActionValueSecret('first-server-secret-0123456789abcdef');
    const value = encodeActionValue({ d: 42 }, { now });
    expect(decodeActionValue(value, now)).toEqual({ d: 42 });
    setActionValueSecret('other-server-secret-0123456789abcdef');
    expect(decodeActionValue(value, now)).toBeUndefined();
  });
});

/** A core with a few test commands, so routing is tested without storage. */
function coreWith(log = captureLogger()) {
  const echo = defineCommand({
    name: 'echo',
    aliases: ['say'],
    summary: 'repeats a number',
    usage: '/backcare echo <number>',
    args: z.tuple([z.string().regex(/^\d+$/, 'give a whole number')]),
    run: async (_ctx, [n]) => reply(`echo ${n}`, [{ type: 'text', text: `echo ${n}` }]),
  });
  const boom = defineCommand({
    name: 'boom',
    summary: 'fails',
    usage: '/backcare boom',
    args: z.array(z.string()),
    run: async () => {
      throw new Error('kaboom');
    },
  });
  const dbDown = defineCommand({
    name: 'dbdown',
    summary: 'database gone',
    usage: '/backcare dbdown',
    args: z.array(z.string()),
    run: async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    },
  });
  const brokenParser = defineCommand({
    name: 'broken',
    summary: 'its parser throws',
    usage: '/backcare broken',
    args: z.array(z.string()).transform((t) => t[1]!.toLowerCase()),
    run: async () => reply('unreachable', []),
  });
  const press = defineAction({
    actionId: 'test.press',
    value: z.object({ n: z.number().int() }),
    run: async (_ctx, value) => reply(`pressed ${value.n}`, []),
  });
  const core = createCore(
    { db: {} as Db, log: log.log, now: () => new Date('2026-03-02T10:00:00Z'), privacyFloor: 5 },
    [{ commands: [echo, boom, dbDown, brokenParser], actions: [press] }],
  );
  return { core, log };
}

describe('router', () => {
  it('routes a command and its alias, with or without the /backcare prefix', async () => {
    const { core } = coreWith();
    expect((await ask(core, '/backcare echo 7')).summary).toBe('echo 7');
    expect((await ask(core, 'say 8')).summary).toBe('echo 8');
  });

  it('answers an unknown subcommand in one line: a suggestion only when it is close, and a pointer to help', async () => {
    const { core } = coreWith();
    const answer = await ask(core, '/backcare ecko 1');
    expect(answer.summary).toBe(
      "I don't know `ecko`. Did you mean `/backcare echo`? `/backcare help` lists every command.",
    );
    expect(replyText(answer)).toBe(answer.summary);
    const far = await ask(core, '/backcare zzzzzz');
    expect(replyText(far)).toBe("I don't know `zzzzzz`. `/backcare help` lists every command.");
  });

  it('shows the problem and usage for bad arguments', async () => {
    const { core } = coreWith();
    const answer = await ask(core, '/backcare echo seven');
    expect(answer.summary).toBe('give a whole number. Usage: `/backcare echo <number>`');
  });

  it('validates action values: forged or malformed ones get the expired-button reply', async () => {
    const { core } = coreWith();
    expect(
      (await ask(core, { kind: 'action', actionId: 'test.press', value: encodeActionValue({ n: 3 }) })).summary,
    ).toBe('pressed 3');
    for (const value of [
      encodeActionValue({ n: '3' }),
      'garbage',
      encodeActionValue({ n: 1 }, { ttlSeconds: 60, now: new Date('2020-01-01T00:00:00Z') }),
    ]) {
      expect((await ask(core, { kind: 'action', actionId: 'test.press', value })).summary).toMatch(
        /expired or is no longer valid/,
      );
    }
    expect((await ask(core, { kind: 'action', actionId: 'no.such', value: encodeActionValue({}) })).summary).toMatch(
      /expired/,
    );
  });

  it('action values are signed: unsigned, altered or expiry-less values get the expired-button reply', async () => {
    const { core } = coreWith();
    const genuine = encodeActionValue({ n: 3 }, { ttlSeconds: 60 });
    const tag = genuine.slice(0, 12);
    const expiry = /^[0-9a-z]+/.exec(genuine.slice(12))![0];
    const json = genuine.slice(12 + expiry.length);
    expect(json).toBe('{"n":3}');
    const forged = [
      '{"n":3}', // the old unsigned form: no signature, no expiry
      `${expiry}${json}`, // the genuine expiry and JSON without the signature
      `${tag}${expiry}{"n":4}`, // payload changed under the genuine signature
      `${tag}${json}`, // expiry left out
      `${tag}${(Number.parseInt(expiry, 36) + 86_400).toString(36)}${json}`, // expiry pushed out
      `${'A'.repeat(12)}${expiry}${json}`, // a made-up signature
    ];
    for (const value of forged) {
      expect((await ask(core, { kind: 'action', actionId: 'test.press', value })).summary, value).toMatch(
        /expired or is no longer valid/,
      );
    }
    expect((await ask(core, { kind: 'action', actionId: 'test.press', value: genuine })).summary).toBe('pressed 3');
  });

  it('never throws: a failing handler gives a friendly reply and a structured log line', async () => {
    const { core, log } = coreWith();
    const answer = await ask(core, 'boom');
    expect(answer.summary).toMatch(/^Sorry, something went wrong/);
    expect(replyText(answer)).not.toContain('kaboom');
    const line = log.lines().find((l) => l.event === 'request.failed');
    expect(line).toMatchObject({ route: 'boom', err: { message: 'kaboom' } });
  });

  it('answers even when a command argument parser itself throws', async () => {
    const { core, log } = coreWith();
    const answer = await ask(core, 'broken');
    expect(answer.summary).toMatch(/^Sorry, something went wrong/);
    expect(log.lines().some((l) => l.event === 'request.parse_failed')).toBe(true);
  });

  it('says the database is having trouble when it is unreachable', async () => {
    const { core } = coreWith();
    expect((await ask(core, 'dbdown')).summary).toBe('Backcare is having trouble, try again in a minute.');
  });

  it('rejects a malformed request without calling any handler', async () => {
    const { core, log } = coreWith();
    const answer = await core.handle({
      actor: testActor({ platform: 'teams' as never }),
      input: { kind: 'command', text: 'echo 1' },
    });
    expect(answer.summary).toMatch(/couldn't understand/);
    expect(log.lines().some((l) => l.event === 'request.invalid')).toBe(true);
  });

  it('refuses to register the same command twice', () => {
    const one = defineCommand({
      name: 'x',
      summary: '',
      usage: '',
      args: z.array(z.string()),
      run: async () => reply('', []),
    });
    expect(() =>
      createCore({ db: {} as Db, log: captureLogger().log, now: () => new Date(), privacyFloor: 5 }, [
        { commands: [one, one] },
      ]),
    ).toThrow(/registered twice/);
  });
});

describe('isDatabaseUnavailable', () => {
  it('recognises connection failures but not ordinary bugs', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('wrapped'), { cause: Object.assign(new Error('x'), { code: '08006' }) }),
      ),
    ).toBe(true);
    expect(isDatabaseUnavailable(new TypeError('undefined is not a function'))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });
});

describe('instantSubmit: pure forms answered without I/O', () => {
  const submit = (formId: string) =>
    ({ actor: testActor(), input: { kind: 'submit', formId, values: { n: '1' } } }) as const;
  const coreWith = (log: ReturnType<typeof captureLogger>) => {
    const forms = [
      defineForm({ formId: 'echo', pure: true, submit: async (_ctx, values) => reply(`got ${String(values.n)}`, []) }),
      // Declared pure but reads storage: the promise is checked, and the form goes the normal way instead.
      defineForm({
        formId: 'liar',
        pure: true,
        submit: async (ctx) => {
          await ctx.ensureUser();
          return reply('stored', []);
        },
      }),
      defineForm({ formId: 'stored', submit: async () => reply('stored', []) }),
      defineForm({ formId: 'leads', pure: true, precondition: 'lead', submit: async () => reply('lead', []) }),
    ];
    const db = new Proxy({} as Db, {
      get() {
        throw new Error('no database in this test');
      },
    });
    return createCore({ db, log: log.log, now: () => new Date(), privacyFloor: 5 }, [{ forms }]);
  };

  it('answers a pure form open to everyone, and nothing else', async () => {
    const log = captureLogger();
    const core = coreWith(log);
    expect((await core.instantSubmit!(submit('echo')))?.summary).toBe('got 1');
    expect(await core.instantSubmit!(submit('stored'))).toBeNull();
    expect(await core.instantSubmit!(submit('leads'))).toBeNull();
    expect(await core.instantSubmit!(submit('unknown'))).toBeNull();
    expect(await core.instantSubmit!({ actor: testActor(), input: { kind: 'command', text: 'help' } })).toBeNull();
  });

  it('a pure form that touches storage gets null and a log line, never a throw', async () => {
    const log = captureLogger();
    expect(await coreWith(log).instantSubmit!(submit('liar'))).toBeNull();
    expect(log.lines().find((l) => l.event === 'request.instant_failed')).toMatchObject({ route: 'form:liar' });
  });
});
