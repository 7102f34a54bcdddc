import { expect, it } from 'vitest';
import { replyText } from '../../../../src/core/reply.js';
import { activityEvents } from '../../../../src/db/schema.js';
import { ask, buildTestCore, button, testClock } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';

describeEachDatabase('when a guided session counts as completed', (database) => {
  const events = () => database().db.select().from(activityEvents).orderBy(activityEvents.id);

  it('Done pressed before half of the session is played ends it early: not completed, and the reply says so', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const started = await ask(core, 'stretch');
    const done = await ask(core, { kind: 'action', ...button(started, 'guided.done') });
    expect(done.summary).toBe('Ended after 0 s: not counted as done.');
    expect(replyText(done)).not.toMatch(/you finished|well done/i);
    expect(done.replaceOriginal).toBe(true);
    expect(await events()).toMatchObject([
      { outcome: 'stopped', source: 'stretch', routineId: expect.any(String), durationSeconds: 0 },
    ]);

    // Just short of half is still early; the person's own figures and streak do not count either.
    clock.advance(1000);
    const second = await ask(core, 'stretch');
    const planned = second.sequence!.frames.reduce((sum, f) => sum + f.ms, 0) / 1000;
    clock.advance((Math.ceil(planned / 2) - 2) * 1000);
    expect((await ask(core, { kind: 'action', ...button(second, 'guided.done') })).summary).toMatch(
      /^Ended after .*: not counted as done\.$/,
    );
    expect((await events()).map((e) => e.outcome)).toEqual(['stopped', 'stopped']);
    const me = await ask(core, 'me');
    const fields = me.blocks.flatMap((b) => (b.type === 'fields' ? b.fields : []));
    expect(fields).toEqual(
      expect.arrayContaining([
        { label: 'Streak', value: 'none yet: one break on a working day starts one' },
        { label: 'This week', value: '0 nudges done, 0 sessions' },
      ]),
    );
  });
});
