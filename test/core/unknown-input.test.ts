import { describe, expect, it } from 'vitest';
import { replyText } from '../../src/core/reply.js';
import type { Db } from '../../src/db/client.js';
import { ask, buildTestCore } from '../support/core.js';

// Argument errors are answered while routing, before any database work: no database is needed here.
const core = buildTestCore({} as Db);

describe('unknown input gets one short, specific line', () => {
  it('an unknown word is one line with a pointer to help, not the whole help; `clear` is not offered `lead`', async () => {
    const answer = await ask(core, 'clear');
    expect(replyText(answer)).toBe("I don't know `clear`. `/backcare help` lists every command.");
    expect(answer.blocks).toHaveLength(1);
    expect(replyText(await ask(core, 'setings'))).toBe(
      "I don't know `setings`. Did you mean `/backcare settings`? `/backcare help` lists every command.",
    );
  });

  it('breathe names the argument that is wrong', async () => {
    expect((await ask(core, 'breathe box box')).summary).toMatch(/^give one breathing pattern, not two/);
    expect((await ask(core, 'breathe box 2.5')).summary).toMatch(
      /^minutes must be a whole number from 1 to 10 \(`2\.5` is not\)/,
    );
    expect((await ask(core, 'breathe 2 3')).summary).toMatch(/^give the minutes once/);
    expect((await ask(core, 'breathe zen')).summary).toMatch(/^I don't know the breathing pattern `zen`/);
  });
});
