import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../../support/db.js';
import { ask, buildTestCore, button, testActor, testClock, testLibrary } from '../../../support/core.js';
import { nudgeKindOf } from '../../../../src/core/content/library.js';
import type { NudgeRoutineSource } from '../../../../src/core/nudge-message.js';
import { blockText, replyText } from '../../../../src/core/reply.js';
import { buildNudgeMessage, buildTeamPostMessage, NUDGE_ACTIONS } from '../../../../src/core/nudge-message.js';
import { activity, deliveries, prefsRow } from '../../../jobs/support/fixtures.js';

// The content library is what the scheduler and `nudge now` pick from: it must fit the source interface.
const librarySource: NudgeRoutineSource = testLibrary();
void librarySource;

describeEachDatabase('nudge buttons', (database) => {
  function setup() {
    const clock = testClock(new Date('2026-03-02T10:10:00Z'));
    const core = buildTestCore(database().db, { now: clock.now });
    return { core, clock };
  }

  async function optedInWithNudge(core: ReturnType<typeof setup>['core']) {
    await ask(core, '/backcare settings on');
    return ask(core, '/backcare nudge now');
  }

  it('`nudge now` shows a short routine with how long it takes and the four buttons, and records it', async () => {
    const { core } = setup();
    const nudge = await ask(core, '/backcare nudge now');
    expect(replyText(nudge)).toMatch(/Takes about \d+ minutes?/);
    expect(replyText(nudge)).toMatch(/not medical advice/);
    expect(nudge.actions.map((a) => (a.type === 'button' ? a.label : ''))).toEqual([
      'Done',
      'Snooze 30 min',
      'Skip',
      'Stop nudges',
    ]);
    expect((await deliveries(database().db)).map((d) => d.status)).toEqual(['sent']);
    expect((await activity(database().db)).map((a) => a.outcome)).toEqual(['delivered']);
  });

  it('rotates routines from the content library: never one of the last five, kinds alternating', async () => {
    const { core, clock } = setup();
    const library = testLibrary();
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      await ask(core, '/backcare nudge now');
      clock.advance(60_000);
    }
    for (const row of await deliveries(database().db)) ids.push(row.routine_id!);
    for (let i = 1; i < ids.length; i++) expect(ids.slice(Math.max(0, i - 5), i)).not.toContain(ids[i]);
    // Default kinds are stretch and breathing: they take turns.
    const kinds = ids.map((id) => nudgeKindOf(library.get(id)!));
    for (let i = 1; i < kinds.length; i++) expect(kinds[i]).not.toBe(kinds[i - 1]);
  });

  it('Done records the outcome once; a second press changes nothing', async () => {
    const { core } = setup();
    const nudge = await optedInWithNudge(core);
    const first = await ask(core, { kind: 'action', ...button(nudge, NUDGE_ACTIONS.done) });
    expect(replyText(first)).toMatch(/Nice work/);
    const again = await ask(core, { kind: 'action', ...button(nudge, NUDGE_ACTIONS.done) });
    expect(replyText(again)).toMatch(/already been answered/);
    expect((await activity(database().db)).map((a) => a.outcome)).toEqual(['delivered', 'done']);
    expect((await deliveries(database().db))[0]!.status).toBe('done');
  });

  it('Skip records skipped', async () => {
    const { core } = setup();
    const nudge = await optedInWithNudge(core);
    await ask(core, { kind: 'action', ...button(nudge, NUDGE_ACTIONS.skip) });
    expect((await activity(database().db)).map((a) => a.outcome)).toEqual(['delivered', 'skipped']);
  });

  it('Snooze brings the next nudge forward to 30 minutes from now', async () => {
    const { core } = setup();
    const nudge = await optedInWithNudge(core);
    const [row] = await deliveries(database().db);
    // Hourly 09:00–17:00 in Europe/London (GMT in March): the next regular slot is 11:00Z.
    expect((await prefsRow(database().db, row!.user_id)).next_due_at?.toISOString()).toBe('2026-03-02T11:00:00.000Z');
    const snoozed = await ask(core, { kind: 'action', ...button(nudge, NUDGE_ACTIONS.snooze) });
    expect(replyText(snoozed)).toMatch(/30 minutes/);
    expect((await prefsRow(database().db, row!.user_id)).next_due_at?.toISOString()).toBe('2026-03-02T10:40:00.000Z');
    expect((await activity(database().db)).map((a) => a.outcome)).toEqual(['delivered', 'snoozed']);
  });

  it('Stop turns nudges off, and Undo turns them back on (once)', async () => {
    const { core } = setup();
    const nudge = await optedInWithNudge(core);
    const stopped = await ask(core, { kind: 'action', ...button(nudge, NUDGE_ACTIONS.stop) });
    const userId = (await deliveries(database().db))[0]!.user_id;
    expect(await prefsRow(database().db, userId)).toMatchObject({ opted_in: false, next_due_at: null });
    const undo = button(stopped, NUDGE_ACTIONS.undoStop);
    expect(replyText(await ask(core, { kind: 'action', ...undo }))).toMatch(/back on/);
    expect(await prefsRow(database().db, userId)).toMatchObject({
      opted_in: true,
      next_due_at: new Date('2026-03-02T11:00:00Z'),
    });
    expect(replyText(await ask(core, { kind: 'action', ...undo }))).toMatch(/already been answered/);
  });

  it('someone else pressing a forwarded button changes nothing', async () => {
    const { core } = setup();
    const nudge = await optedInWithNudge(core);
    const other = testActor({ userExternalId: 'someone-else' });
    await ask(core, '/backcare help', other);
    await ask(core, { kind: 'action', ...button(nudge, NUDGE_ACTIONS.stop) }, other);
    expect((await deliveries(database().db))[0]!.status).toBe('sent');
  });
});

describe('what a nudge shows', () => {
  const base = {
    id: 'team-roll',
    title: 'Team roll',
    summary: 'A ball on the wall.',
    minutes: 2,
    steps: [{ text: 'Stand with your back to the wall.' }, { text: 'Lean into the ball.' }],
  };

  it('every caution of the routine, deduplicated, not only the first (a team rolling routine keeps its spine line)', () => {
    const cautions = [
      'Move slowly and only as far as is comfortable.',
      'Never roll directly over the spine: keep the ball on the muscles beside it.',
      'move slowly and only as far as is comfortable.',
    ];
    for (const message of [
      buildNudgeMessage({ ...base, cautions }, 1, new Date()),
      buildTeamPostMessage({ ...base, cautions }),
    ]) {
      const shown = message.blocks.filter((b) => b.type === 'caution').flatMap((b) => blockText(b).split('\n'));
      expect(shown).toEqual(cautions.slice(0, 2));
    }
  });

  it('when cautions are long, fewer steps are shown, never fewer cautions, and it fits a Discord embed', () => {
    const cautions = Array.from({ length: 12 }, (_, i) => `Caution ${i + 1}: ${'take care '.repeat(25)}`);
    const steps = Array.from({ length: 5 }, (_, i) => ({ text: `Step ${i + 1}: ${'move gently '.repeat(60)}` }));
    const message = buildNudgeMessage({ ...base, steps, cautions }, 1, new Date());
    const text = replyText(message);
    for (const c of cautions) expect(text).toContain(c);
    expect(text).not.toContain('Step 5:');
    expect(text).toMatch(/more steps?: `\/backcare routine team-roll` plays them all/);
    expect(text.length).toBeLessThanOrEqual(4096 - 200);
  });
});
