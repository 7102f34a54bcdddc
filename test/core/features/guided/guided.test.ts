import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { breathingPatterns } from '../../../../src/core/pacing.js';
import { decodeActionValue, encodeActionValue } from '../../../../src/core/command.js';
import { sessionValueSchema } from '../../../../src/core/features/guided/session.js';
import { ActionRefs } from '../../../../adapters/discord/custom-id.js';
import { renderActions } from '../../../../adapters/discord/render.js';
import { blockText, replyText as replyTextOf, type Reply } from '../../../../src/core/reply.js';
import { activityEvents, processedEvents } from '../../../../src/db/schema.js';
import { ask, buildTestCore, button, testActor, testClock, testLibrary } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';

const library = testLibrary();

function sessionRoutine(reply: Reply): string {
  const stop = button(reply, 'guided.stop');
  const session = sessionValueSchema.safeParse(decodeActionValue(stop.value, new Date(0)));
  return session.success ? session.data.r : 'undefined';
}

function completion(reply: Reply): { actionId: string; value: string } {
  expect(reply.sequence?.onComplete).toBeDefined();
  return reply.sequence!.onComplete!;
}

describeEachDatabase('guided sessions', (database) => {
  const events = () => database().db.select().from(activityEvents).orderBy(activityEvents.id);

  it('breathe box 1: exact phase frames, a Stop button, and a completed event with "How do you feel?" at the end', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const started = await ask(core, '/backcare breathe box 1');
    const seq = started.sequence!;
    expect(seq.frames).toHaveLength(4 * 4);
    expect(seq.frames.map((f) => f.ms)).toEqual(Array(4).fill([4000, 4000, 4000, 4000]).flat());
    expect(blockText(seq.frames[0]!.blocks[0]!)).toBe('*Breathe in…* 4');
    expect(blockText(seq.frames[5]!.blocks[1]!)).toMatch(/breath 2 of 4/);
    expect(started.actions.map((a) => a.actionId)).toEqual(['guided.stop']);
    expect(seq.actions).toEqual(started.actions);
    expect(seq.sessionId).toBe('guided:console:local:you');
    expect(blockText(seq.staticBlocks[0]!)).toContain('Breathe in for 4 s, then Hold for 4 s');
    expect(started.blocks.some((b) => b.type === 'context' && /not medical advice/.test(b.text))).toBe(true);
    expect(await events()).toHaveLength(0);

    clock.advance(64_000);
    const end = await ask(core, { kind: 'action', ...completion(started) });
    expect(end.summary).toMatch(/How do you feel\?/);
    expect(end.actions.map((a) => (a.type === 'button' ? a.label : ''))).toEqual(['Better', 'About the same', 'Worse']);
    const rows = await events();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      kind: 'session',
      outcome: 'completed',
      source: 'breathe',
      routineId: 'box-breathing',
      durationSeconds: 64,
    });
    expect(rows[0]!.occurredAt.getTime()).toBe(clock.now().getTime());
  });

  it('defaults to 2 minutes of diaphragmatic breathing and takes the pattern and minutes in either order', async () => {
    const core = buildTestCore(database().db);
    const plain = await ask(core, 'breathe');
    expect(plain.sequence!.frames).toHaveLength(12 * 2); // 10 s cycles, 120 s
    expect(blockText(plain.sequence!.frames[0]!.blocks[0]!)).toMatch(/belly rises/);
    const swapped = await ask(core, 'breathe 2 box');
    expect(swapped.sequence!.frames.map((f) => f.ms).slice(0, 4)).toEqual([4000, 4000, 4000, 4000]);
    expect(swapped.sequence!.frames).toHaveLength(Math.round(120 / 16) * 4);
    const slow = await ask(core, 'breathe slow 10');
    expect(slow.sequence!.frames).toHaveLength(60 * 2);
  });

  it('breathe without minutes plays as long as the routine list says for that pattern', async () => {
    const core = buildTestCore(database().db);
    const listed = replyTextOf(await ask(core, 'routine list'));
    for (const pattern of ['diaphragmatic', 'box', 'coherent', '4-7-8']) {
      const started = await ask(core, `breathe ${pattern}`);
      const routine = library.get(sessionRoutine(started))!;
      const minutes = Number(new RegExp(`\`${routine.id}\`: [^\\n]*\\((\\d+) min\\)`).exec(listed)?.[1]);
      const played = started.sequence!.frames.reduce((s, f) => s + f.ms, 0) / 1000;
      expect(Math.max(1, Math.round(played / 60)), pattern).toBe(minutes);
    }
  });

  it('4-7-8 plays at most 4 rounds, and says so when more was asked for', async () => {
    const core = buildTestCore(database().db);
    const long = await ask(core, 'breathe 4-7-8 10');
    expect(long.sequence!.frames).toHaveLength(4 * 3);
    expect(replyTextOf(long)).toMatch(/4-7-8 breathing is limited to 4 rounds/);
    const few = await ask(core, 'breathe 4-7-8 1');
    expect(few.sequence!.frames).toHaveLength(3 * 3);
    expect(replyTextOf(few)).not.toMatch(/limited to/);
  });

  it('rejects bad breathe arguments with a friendly message and the usage', async () => {
    const core = buildTestCore(database().db);
    expect((await ask(core, 'breathe box 11')).summary).toMatch(
      /minutes must be a whole number from 1 to 10\. Usage: `\/backcare breathe/,
    );
    expect((await ask(core, 'breathe 0')).summary).toMatch(/from 1 to 10/);
    expect((await ask(core, 'breathe zen')).summary).toMatch(
      /I don't know the breathing pattern `zen`; choose box, 4-7-8/,
    );
    expect((await ask(core, 'breathe box 2 3')).summary).toMatch(/at most/);
    expect(await events()).toHaveLength(0);
  });

  it('Stop records one stopped event with the time actually spent, and nothing more after it', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const started = await ask(core, '/backcare breathe box 2');
    clock.advance(12_500);
    const stopped = await ask(core, { kind: 'action', ...button(started, 'guided.stop') });
    expect(stopped.summary).toMatch(/^Stopped/);
    expect(stopped.replaceOriginal).toBe(true);
    // A second press, and a completion racing the stop, change nothing.
    await ask(core, { kind: 'action', ...button(started, 'guided.stop') });
    await ask(core, { kind: 'action', ...completion(started) });
    const rows = await events();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'stopped', source: 'breathe', durationSeconds: 13 });
    expect(await database().db.select().from(processedEvents)).toHaveLength(1);
    expect((await database().db.select().from(processedEvents))[0]!.key).not.toContain('you');
  });

  it('stretch shows timed steps with Done, Another one and Stop; Done records completed', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const started = await ask(core, '/backcare stretch');
    const id = sessionRoutine(started);
    const routine = library.get(id)!;
    expect(routine.kind).toBe('stretch');
    expect(started.actions.map((a) => (a.type === 'button' ? a.label : ''))).toEqual(['Done', 'Another one', 'Stop']);
    expect(started.sequence!.frames).toHaveLength(routine.steps.length);
    routine.steps.forEach((step, i) => {
      expect(blockText(started.sequence!.frames[i]!.blocks[0]!)).toContain(step.text);
      if (step.seconds) expect(started.sequence!.frames[i]!.ms).toBe(step.seconds * 1000);
    });
    const planned = started.sequence!.frames.reduce((sum, f) => sum + f.ms, 0) / 1000;
    // Done after half of the planned time counts as completed, with the time actually spent.
    const half = Math.ceil(planned / 2);
    clock.advance(half * 1000);
    const done = await ask(core, { kind: 'action', ...button(started, 'guided.done') });
    expect(done.summary).toMatch(/How do you feel/);
    expect(await events()).toMatchObject([
      { outcome: 'completed', source: 'stretch', routineId: id, durationSeconds: half },
    ]);
  });

  it('never picks the same stretch as last time', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    let last = '';
    for (let i = 0; i < 8; i++) {
      const started = await ask(core, 'stretch');
      const id = sessionRoutine(started);
      expect(id).not.toBe(last);
      last = id;
      clock.advance(120_000);
      await ask(core, { kind: 'action', ...completion(started) });
    }
    expect(await events()).toHaveLength(8);
  });

  it('stretch and roll honour the area; roll only offers rolling and trigger points', async () => {
    const core = buildTestCore(database().db);
    for (let i = 0; i < 5; i++) {
      expect(library.get(sessionRoutine(await ask(core, 'stretch chest')))!.targets).toContain('chest');
      const rolled = library.get(sessionRoutine(await ask(core, 'roll between the shoulder blades')))!;
      expect(['foam_roll', 'trigger_point']).toContain(rolled.kind);
      expect(rolled.targets).toContain('rhomboids');
      expect(rolled.cautions.some((c) => /never roll directly over the spine/i.test(c))).toBe(true);
    }
    expect((await ask(core, 'roll chest')).summary).toMatch(
      /I have no foam rolling or trigger points routine at the desk for the chest yet/,
    );
    expect((await ask(core, 'stretch elbow')).summary).toMatch(/I don't know the area `elbow`/);
  });

  it('Another one records the first as skipped and starts a different routine of the same sort', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const first = await ask(core, 'roll');
    clock.advance(5_000);
    const second = await ask(core, { kind: 'action', ...button(first, 'guided.another') });
    expect(second.replaceOriginal).toBe(true);
    expect(second.sequence!.sessionId).toBe(first.sequence!.sessionId);
    const firstId = sessionRoutine(first);
    const secondId = sessionRoutine(second);
    expect(secondId).not.toBe(firstId);
    expect(['foam_roll', 'trigger_point']).toContain(library.get(secondId)!.kind);
    expect(await events()).toMatchObject([
      { outcome: 'skipped', source: 'roll', routineId: firstId, durationSeconds: 5 },
    ]);
  });

  it('desk first: stretch, roll and "Another one" after stretch neck never offer floor work; floor asks for it', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const floorWork = [
      'cat-cow',
      'thread-the-needle',
      'plank',
      'glute-bridge',
      'foam-roll-upper-back',
      'foam-roll-shoulder-blades',
    ];
    for (let i = 0; i < 15; i++) {
      const neck = await ask(core, 'stretch neck');
      expect(floorWork).not.toContain(sessionRoutine(neck));
      clock.advance(5_000);
      const next = await ask(core, { kind: 'action', ...button(neck, 'guided.another') });
      if (next.sequence) {
        expect(floorWork, `another after ${sessionRoutine(neck)}`).not.toContain(sessionRoutine(next));
        expect(library.get(sessionRoutine(next))!.place).not.toBe('floor');
        clock.advance(5_000);
        await ask(core, { kind: 'action', ...button(next, 'guided.stop') });
      }
      expect(floorWork).not.toContain(sessionRoutine(await ask(core, 'stretch')));
      expect(floorWork).not.toContain(sessionRoutine(await ask(core, 'roll')));
      clock.advance(60_000);
    }
    expect(library.get(sessionRoutine(await ask(core, 'stretch floor')))!.place).toBe('floor');
    expect(library.get(sessionRoutine(await ask(core, 'roll floor')))!.equipment).toContain('foam_roller');
    expect(library.get(sessionRoutine(await ask(core, 'stretch floor upper-back')))!.place).toBe('floor');
  });

  it('strengthen and habits find the strengthening and habit routines, and help lists them with examples', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    for (let i = 0; i < 4; i++) {
      const strength = library.get(sessionRoutine(await ask(core, 'strengthen')))!;
      expect(strength.kind).toBe('strength');
      expect(strength.place).not.toBe('floor');
      expect(['plank', 'glute-bridge']).toContain(sessionRoutine(await ask(core, 'strengthen floor')));
    }
    expect(sessionRoutine(await ask(core, 'strengthen shoulder-blades'))).toMatch(/^(wall-angels|towel-rows)$/);
    expect(library.get(sessionRoutine(await ask(core, 'habits desk')))!.kind).toBe('posture');
    expect(sessionRoutine(await ask(core, 'habits sleep'))).toBe('sleep-position-pillow');
    expect(library.get(sessionRoutine(await ask(core, 'habits water')))!.topic).toBe('hydration');
    expect(library.get(sessionRoutine(await ask(core, 'habits heat')))!.topic).toBe('heat');
    expect(['habit', 'posture']).toContain(library.get(sessionRoutine(await ask(core, 'habits')))!.kind);
    expect((await ask(core, 'habits yoga')).summary).toMatch(/I don't know the habit topic `yoga`; choose desk/);
    const help = replyTextOf(await ask(core, 'help'));
    expect(help).toContain('/backcare strengthen [area] [floor]');
    expect(help).toMatch(/planks and bridges/);
    expect(help).toContain('/backcare habits [desk|heat|water|sleep|breaks]');
    expect(help).toMatch(/sleep position/);
    clock.advance(60_000);
    const started = await ask(core, 'strengthen');
    clock.advance(120_000);
    await ask(core, { kind: 'action', ...completion(started) });
    expect((await events()).at(-1)).toMatchObject({ source: 'strengthen', outcome: 'completed' });
  });

  it('relax picks the asked-for variant', async () => {
    const core = buildTestCore(database().db);
    for (const [word, variant] of [
      ['pmr', 'pmr'],
      ['body-scan', 'body-scan'],
      ['body scan', 'body-scan'],
      ['visualize', 'visualise'],
    ] as const) {
      const routine = library.get(sessionRoutine(await ask(core, `relax ${word}`)))!;
      expect(routine.kind).toBe('relaxation');
      expect(routine.variant).toBe(variant);
    }
    expect((await ask(core, 'relax yoga')).summary).toMatch(/choose pmr, body-scan or visualise/);
  });

  it('routine list shows every routine by kind, within Slack limits', async () => {
    const core = buildTestCore(database().db);
    const list = await ask(core, 'routine list');
    const all = list.blocks.map(blockText).join('\n');
    for (const r of library.all()) expect(all).toContain(`\`${r.id}\``);
    expect(list.blocks.length).toBeLessThanOrEqual(50);
    for (const b of list.blocks) expect(blockText(b).length).toBeLessThanOrEqual(3000);
  });

  it('routine <id> runs that routine; a typo gets a suggestion', async () => {
    const core = buildTestCore(database().db);
    const run = await ask(core, 'routine doorway-chest-stretch');
    expect(sessionRoutine(run)).toBe('doorway-chest-stretch');
    const breathing = await ask(core, 'routine four-seven-eight');
    expect(breathing.sequence!.frames.map((f) => f.ms).slice(0, 3)).toEqual([4000, 7000, 8000]);
    expect((await ask(core, 'routine doorway-chest-strech')).summary).toMatch(
      /Did you mean `\/backcare routine doorway-chest-stretch`/,
    );
    expect((await ask(core, 'routine 99')).summary).toMatch(/from 5 to 30/);
  });

  it('routine 10 builds a varied programme that fits the ten minutes and ends with breathing', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const programme = await ask(core, 'routine 10');
    const seconds = programme.sequence!.frames.reduce((s, f) => s + f.ms, 0) / 1000;
    expect(seconds).toBeLessThanOrEqual(600);
    expect(seconds).toBeGreaterThan(540);
    const text = programme.blocks.map(blockText).join('\n');
    expect(text).toMatch(/Tip: Warm up with heat/);
    expect(sessionRoutine(programme)).toBe('programme-10m');
    const last = programme.sequence!.frames.at(-1)!;
    expect(blockText(last.blocks[0]!)).toMatch(/Breathe (in|out)/);
    clock.advance(seconds * 1000);
    await ask(core, { kind: 'action', ...completion(programme) });
    expect(await events()).toMatchObject([
      { outcome: 'completed', source: 'routine', routineId: 'programme-10m', durationSeconds: Math.round(seconds) },
    ]);
  });

  it('a long programme shows every caution of every routine in it, however many there are', async () => {
    const core = buildTestCore(database().db);
    const byTitle = new Map(library.all().map((r) => [r.title, r]));
    let checked = 0;
    for (let i = 0; i < 12; i++) {
      const programme = await ask(core, `routine ${i % 2 === 0 ? 30 : 20}`);
      const text = replyTextOf(programme);
      // The static version names every part; each named routine's cautions must be in the reply.
      const titles = programme
        .sequence!.staticBlocks.map(blockText)
        .map((t) => /^\*(.+)\*$/.exec(t)?.[1])
        .filter((t): t is string => !!t);
      for (const title of titles) {
        for (const c of byTitle.get(title)?.cautions ?? []) {
          expect(text, title).toContain(c);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(12 * 6);
  });

  it('"Worse" answers with emergency advice first and stores nothing', async () => {
    const core = buildTestCore(database().db);
    const started = await ask(core, 'breathe');
    const end = await ask(core, { kind: 'action', ...completion(started) });
    const worse = await ask(core, { kind: 'action', ...button(end, 'guided.feel', 'Worse') });
    expect(worse.blocks[0]).toMatchObject({ type: 'caution' });
    expect(blockText(worse.blocks[0]!)).toMatch(/emergency services/);
    expect(worse.blocks.map(blockText).join(' ')).toMatch(/not medical advice/);
    expect(await events()).toHaveLength(1);
  });

  it('a new session replaces the one still playing, which is recorded as stopped', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const first = await ask(core, 'stretch');
    clock.advance(20_000);
    const second = await ask(core, 'breathe');
    expect(second.sequence!.sessionId).toBe(first.sequence!.sessionId);
    expect(await events()).toMatchObject([
      { outcome: 'stopped', source: 'stretch', routineId: sessionRoutine(first), durationSeconds: 20 },
    ]);
    // The first one's own buttons (or a late completion) change nothing now.
    await ask(core, { kind: 'action', ...completion(first) });
    clock.advance(120_000);
    await ask(core, { kind: 'action', ...completion(second) });
    expect((await events()).map((e) => [e.source, e.outcome])).toEqual([
      ['stretch', 'stopped'],
      ['breathe', 'completed'],
    ]);
    // Once ended, a new session has nothing to stop.
    await ask(core, 'relax');
    expect(await events()).toHaveLength(2);
  });

  it("keeps each person's sessions apart", async () => {
    const core = buildTestCore(database().db);
    const mine = await ask(core, 'breathe box 1');
    const theirs = await ask(core, 'breathe box 1', testActor({ userExternalId: 'colleague' }));
    expect(mine.sequence!.sessionId).not.toBe(theirs.sequence!.sessionId);
    await ask(core, { kind: 'action', ...completion(mine) });
    await ask(core, { kind: 'action', ...completion(theirs) }, testActor({ userExternalId: 'colleague' }));
    expect(await events()).toHaveLength(2);
  });

  it('without a routine library every guided command says so instead of failing', async () => {
    const core = buildTestCore(database().db, { deps: { library: undefined } });
    for (const command of ['breathe', 'stretch', 'roll', 'relax', 'routine', 'routine list']) {
      expect((await ask(core, command)).summary, command).toMatch(/routine library is not loaded/);
    }
  });

  it('every button fits Slack (label 75, value 2000) and Discord (label 80, custom id 100), for every routine', async () => {
    const core = buildTestCore(database().db);
    // In a server every session button carries its value in the custom id itself, none only in one process's
    // memory (an `r|` ref), so Done and Stop still work after a restart.
    const fitsDiscord = (a: { type: 'button'; actionId: string; label: string; value: string }) => {
      const { rows } = renderActions([a], { ctx: {}, refs: new ActionRefs() });
      return rows
        .flatMap((r) => r.components)
        .every((c) => 'custom_id' in c && c.custom_id.length <= 100 && !c.custom_id.startsWith('r|'));
    };
    const replies = [
      ...(await Promise.all(library.all().map((r) => ask(core, `routine ${r.id}`)))),
      await ask(core, 'routine 30'),
      await ask(core, 'breathe 4-7-8 10'),
    ];
    for (const r of replies) {
      expect(r.sequence, r.summary).toBeDefined();
      expect(r.blocks.length).toBeLessThanOrEqual(50);
      for (const b of r.blocks) expect(blockText(b).length).toBeLessThanOrEqual(3000);
      for (const a of [...r.actions, ...r.sequence!.actions]) {
        if (a.type !== 'button') continue;
        expect(a.label.length).toBeLessThanOrEqual(75);
        expect(a.value.length, a.value).toBeLessThanOrEqual(2000);
        expect(fitsDiscord(a), a.value).toBe(true);
      }
      const end = await ask(core, { kind: 'action', ...completion(r) });
      for (const a of end.actions) if (a.type === 'button') expect(fitsDiscord(a), a.value).toBe(true);
    }
    // The longest id the schema allows still fits.
    const longest = Math.max(...library.all().map((r) => r.id.length));
    expect(longest).toBeLessThanOrEqual(28);
  });

  it('rejects forged session values', async () => {
    const core = buildTestCore(database().db);
    const forged = await ask(core, {
      kind: 'action',
      actionId: 'guided.complete',
      value: JSON.stringify({ s: 'breathe', r: 'x'.repeat(80), t: 1, d: 1 }),
    });
    expect(forged.summary).toMatch(/expired or is no longer valid/);
    // Signed, but not a session: an unknown source letter, a routine id too long, a value that is not packed.
    for (const v of ['zabc.1.doorway', `o1.1.${'x'.repeat(40)}`, 'nonsense']) {
      const signed = await ask(core, { kind: 'action', actionId: 'guided.complete', value: encodeActionValue({ v }) });
      expect(signed.summary, v).toMatch(/expired or is no longer valid/);
    }
    expect(await database().db.select().from(activityEvents).where(eq(activityEvents.kind, 'session'))).toHaveLength(0);
  });
});

it('every breathing pattern is offered by name', () => {
  expect(Object.keys(breathingPatterns).sort()).toEqual(['4-7-8', 'box', 'coherent', 'diaphragmatic']);
});
