import { expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction, defineCommand, defineForm, encodeActionValue, type Feature } from '../../src/core/command.js';
import type { Precondition } from '../../src/core/command-options.js';
import { features } from '../../src/core/features/index.js';
import { refusalText } from '../../src/core/preconditions.js';
import { reply, type Reply } from '../../src/core/reply.js';
import { createCore, tokenize, type Core } from '../../src/core/router.js';
import { auditLog, leadGrants, teamRoutines } from '../../src/db/schema.js';
import { ask, buildTestCore, testActor } from '../support/core.js';
import { describeEachDatabase } from '../support/db.js';
import { silentLogger } from '../support/log.js';

const workspace = { platform: 'slack', workspaceExternalId: 'T0PRECOND' } as const;
const admin = testActor({ ...workspace, userExternalId: 'U0ADMIN', isAdmin: true });
const member = testActor({ ...workspace, userExternalId: 'U0MEMBER', isAdmin: false });
/** Someone the platform does not call an admin or a lead: a lead only through `/backcare lead add`. */
const granted = testActor({ ...workspace, userExternalId: 'U0GRANTED', isAdmin: false, isLead: false });
/** A lead by the platform's own rule (a Discord lead role), not an admin. */
const platformLead = testActor({ ...workspace, userExternalId: 'U0ROLE', isAdmin: false, isLead: true });

const ran: string[] = [];
const done = (what: string) => async (): Promise<Reply> => {
  ran.push(what);
  return reply(`ran ${what}`, []);
};

/** One command, button and form per precondition, so the router's check is seen on its own. */
const probe: Feature = {
  commands: (['everyone', 'lead', 'admin'] as const).map((precondition) =>
    defineCommand({
      name: `probe-${precondition}`,
      summary: 'test',
      usage: `/backcare probe-${precondition}`,
      precondition,
      options: [],
      args: z.array(z.string()),
      run: done(`command ${precondition}`),
    }),
  ),
  actions: [
    defineAction({ actionId: 'probe.lead', value: z.object({}), precondition: 'lead', run: done('action lead') }),
  ],
  forms: [defineForm({ formId: 'probe.admin', precondition: 'admin', submit: done('form admin') })],
};

const refusals: Record<Exclude<Precondition, 'everyone'>, string> = {
  lead: 'Only workspace admins and team leads can do that.',
  admin: 'Only workspace admins can do that.',
};

describeEachDatabase('preconditions, checked once in the router', (database) => {
  const probeCore = (): Core =>
    createCore({ db: database().db, log: silentLogger(), now: () => new Date(), privacyFloor: 5 }, [
      ...features,
      probe,
    ]);

  it('a lead granted with `/backcare lead add` passes `lead` (not `admin`); a member passes only `everyone`', async () => {
    const core = probeCore();
    ran.length = 0;
    expect((await ask(core, 'lead add <@U0GRANTED>', admin)).summary).toMatch(/is now a team lead/);

    for (const [actor, allowed] of [
      [admin, ['everyone', 'lead', 'admin']],
      [platformLead, ['everyone', 'lead']],
      [granted, ['everyone', 'lead']],
      [member, ['everyone']],
    ] as const) {
      for (const precondition of ['everyone', 'lead', 'admin'] as const) {
        const answer = await ask(core, `probe-${precondition}`, actor);
        const expected = (allowed as readonly string[]).includes(precondition)
          ? `ran command ${precondition}`
          : refusals[precondition as Exclude<Precondition, 'everyone'>];
        expect(answer.summary, `${actor.userExternalId} probe-${precondition}`).toBe(expected);
      }
    }
    const action = { kind: 'action', actionId: 'probe.lead', value: encodeActionValue({}) } as const;
    expect((await ask(core, action, granted)).summary).toBe('ran action lead');
    expect((await ask(core, action, member)).summary).toBe(refusals.lead);
    const form = { kind: 'submit', formId: 'probe.admin', values: {} } as const;
    expect((await ask(core, form, granted)).summary).toBe(refusals.admin);
    expect((await ask(core, form, admin)).summary).toBe('ran form admin');
    // A refused request never reaches its handler.
    expect(ran.filter((r) => r !== 'command everyone')).toEqual([
      'command lead',
      'command admin',
      'command lead',
      'command lead',
      'action lead',
      'form admin',
    ]);
  });

  it('a granted lead sets the daily team post and sees no refusal', async () => {
    const core = buildTestCore(database().db);
    await ask(core, 'lead add <@U0GRANTED>', admin);
    const answer = await ask(core, 'team-post off', granted);
    expect(answer.summary).toBe('Team post off.');
    expect(JSON.stringify(answer.blocks)).not.toMatch(/Only /);
  });

  it('every refusal of a real command, button and form uses the one wording, and changes nothing', async () => {
    const core = buildTestCore(database().db);
    // Every example in every command's help that its declaration keeps from members.
    const guarded = features
      .flatMap((f) => f.commands ?? [])
      .flatMap((command) =>
        command.examples.flatMap((example) => {
          const [, ...rest] = tokenize(example);
          const parsed = command.parse(rest);
          return parsed.ok && parsed.precondition !== 'everyone'
            ? [{ example, precondition: parsed.precondition }]
            : [];
        }),
      );
    expect(new Set(guarded.map((g) => tokenize(g.example)[0]))).toEqual(
      new Set(['admin', 'lead', 'stats', 'team-post', 'routines', 'invite']),
    );
    for (const { example, precondition } of guarded) {
      const answer = await ask(core, example, member);
      expect(answer.summary, example).toBe(refusalText(precondition as Exclude<Precondition, 'everyone'>));
      expect(answer.summary, example).toBe(refusals[precondition as Exclude<Precondition, 'everyone'>]);
      expect(answer.actions, example).toEqual([]);
      expect(answer.form, example).toBeUndefined();
    }

    const buttons: { actionId: string; value: string; precondition: keyof typeof refusals }[] = [
      { actionId: 'stats.csv', value: encodeActionValue({ t: null, w: 4 }), precondition: 'lead' },
      { actionId: 'admin.forget.confirm', value: encodeActionValue({ u: 'U0ADMIN' }), precondition: 'admin' },
    ];
    for (const { actionId, value, precondition } of buttons)
      expect((await ask(core, { kind: 'action', actionId, value }, member)).summary, actionId).toBe(
        refusals[precondition],
      );

    const guardedForms = features
      .flatMap((f) => f.forms ?? [])
      .filter((f) => (f.precondition ?? 'everyone') !== 'everyone');
    expect(guardedForms.map((f) => f.formId).sort()).toEqual(['team-routines.add', 'team-routines.import']);
    for (const form of guardedForms)
      expect((await ask(core, { kind: 'submit', formId: form.formId, values: {} }, member)).summary).toBe(
        refusals[form.precondition as keyof typeof refusals],
      );

    expect(await database().db.select().from(leadGrants)).toEqual([]);
    expect(await database().db.select().from(teamRoutines)).toEqual([]);
    expect(await database().db.select().from(auditLog)).toEqual([]);
  });
});
