import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildHomeView } from '../../../adapters/slack/home.js';
import { renderBlocks, renderMessage, renderModal } from '../../../adapters/slack/render.js';
import { formFitProblems, type Form, type Reply } from '../../../src/core/reply.js';
import type { Actor, CoreInput } from '../../../src/core/request.js';
import type { Core } from '../../../src/core/router.js';
import type { Database } from '../../../src/db/client.js';
import { buildTestCore, testActor } from '../../support/core.js';
import { openTestDatabase } from '../../support/db.js';
import { messageProblems, modalProblems } from '../../support/slack/block-kit.js';
import { describe } from 'vitest';

/**
 * Walks every reply the core can produce, as Slack would show it: every registered command with no
 * arguments and with each of its documented examples, every routine in the content library, then every
 * button, select option, form submission and sequence completion reachable from those replies.
 * (A rendering walk, not a storage test: it runs on PGlite only.)
 */

const admin: Actor = testActor({
  platform: 'slack',
  workspaceExternalId: 'T0TESTTEAM',
  userExternalId: 'U0TESTADMIN',
  isAdmin: true,
  timezone: 'Europe/Paris',
});
const member: Actor = testActor({
  platform: 'slack',
  workspaceExternalId: 'T0TESTTEAM',
  userExternalId: 'U0TESTUSER',
  isAdmin: false,
  timezone: 'America/New_York',
});

interface Walk {
  replies: number;
  problems: string[];
  pressed: Set<string>;
  commands: Set<string>;
}

function check(reply: Reply, label: string, walk: Walk): void {
  walk.replies += 1;
  walk.problems.push(...messageProblems(renderMessage(reply), label));
  // Clipping keeps a modal valid but cuts meaning: every form text must fit every platform whole.
  if (reply.form) walk.problems.push(...formFitProblems(reply.form).map((p) => `${label}: ${p}`));
  if (reply.form)
    walk.problems.push(
      ...modalProblems(
        renderModal(reply.form, {
          profileTimezone: 'Europe/Paris',
          privateMetadata: JSON.stringify({ state: reply.form.state }),
        }) as unknown as Record<string, unknown>,
        `${label} modal`,
      ),
    );
  if (reply.sequence) {
    reply.sequence.frames.forEach((f, i) =>
      walk.problems.push(
        ...messageProblems(
          { text: reply.summary || 'x', blocks: renderBlocks([...reply.blocks, ...f.blocks], reply.sequence!.actions) },
          `${label} frame ${i}`,
        ),
      ),
    );
    walk.problems.push(
      ...messageProblems(
        { text: reply.summary || 'x', blocks: renderBlocks(reply.sequence.staticBlocks, reply.sequence.actions) },
        `${label} static`,
      ),
    );
  }
}

function initialValues(form: Form): Record<string, string | string[]> {
  return Object.fromEntries(
    form.fields.map((f) => [
      f.id,
      f.kind === 'multiselect'
        ? (f.initial ?? [])
        : f.kind === 'select'
          ? (f.initial ?? f.options[0]?.value ?? '')
          : (f.initial ?? ''),
    ]),
  );
}

async function visit(
  core: Core,
  actor: Actor,
  input: CoreInput,
  label: string,
  depth: number,
  walk: Walk,
): Promise<void> {
  const reply = await core.handle({ actor, input });
  check(reply, label, walk);
  if (depth >= 3) return;
  const next: { input: CoreInput; label: string; key: string }[] = [];
  const actions = [...reply.actions, ...(reply.sequence?.actions ?? [])];
  for (const action of actions) {
    if (action.type === 'button')
      next.push({
        input: { kind: 'action', actionId: action.actionId, value: action.value },
        label: `${label} > ${action.label}`,
        key: `${action.actionId}|${action.label}`,
      });
    else
      for (const o of action.options)
        next.push({
          input: { kind: 'action', actionId: action.actionId, value: o.value },
          label: `${label} > ${o.label}`,
          key: `${action.actionId}|${o.label}`,
        });
  }
  if (reply.sequence?.onComplete)
    next.push({
      input: { kind: 'action', ...reply.sequence.onComplete },
      label: `${label} > (completed)`,
      key: `complete|${reply.sequence.onComplete.actionId}|${label}`,
    });
  if (reply.form)
    next.push({
      input: {
        kind: 'submit',
        formId: reply.form.formId,
        values: initialValues(reply.form),
        ...(reply.form.state ? { state: reply.form.state } : {}),
      },
      label: `${label} > submit`,
      key: `submit|${reply.form.formId}`,
    });
  for (const step of next) {
    // Each distinct button is pressed once per actor: enough to reach every reply without walking forever.
    const key = `${actor.userExternalId}|${step.key}`;
    if (walk.pressed.has(key)) continue;
    walk.pressed.add(key);
    await visit(core, actor, step.input, step.label, depth + 1, walk);
  }
}

describe('every reply the core can produce fits Slack', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await database.close();
  });

  it('commands, examples, routines, buttons, forms and completions all stay within Block Kit limits', async () => {
    const core = buildTestCore(database.db, { now: () => new Date('2026-03-04T10:00:00Z') });
    const walk: Walk = { replies: 0, problems: [], pressed: new Set(), commands: new Set() };
    const inputs: string[] = ['', 'help', 'no-such-command', 'settings on'];
    for (const command of core.commands) {
      inputs.push(
        command.name,
        ...command.examples.map((e) => e.replace(/^\/backcare\s*/, '').replace(/@(\w+)/g, '<@U0$1>')),
      );
      walk.commands.add(command.name);
    }
    for (const routine of core.deps.library?.all() ?? []) inputs.push(`routine ${routine.id}`);
    for (const actor of [member, admin]) {
      for (const text of inputs)
        await visit(core, actor, { kind: 'command', text }, `${actor.userExternalId} /backcare ${text}`, 0, walk);
    }
    walk.problems.push(
      ...messageProblems({ text: 'home', blocks: (await buildHomeView(core, admin)).blocks }, 'home').filter(
        (p) => !p.includes('blocks > 50'),
      ),
    );
    expect(walk.problems).toEqual([]);
    // The walk really covered the registry (and the routines, when the library is loaded).
    expect(walk.commands.size).toBe(core.commands.length);
    expect(walk.replies).toBeGreaterThan(inputs.length * 2);
    expect(walk.pressed.size).toBeGreaterThan(5);
  });
});
