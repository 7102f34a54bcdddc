import { expect, it } from 'vitest';
import { tokenize } from '../../src/core/router.js';
import { replyText } from '../../src/core/reply.js';
import { ask, buildTestCore, testActor } from '../support/core.js';
import { describeEachDatabase } from '../support/db.js';
import { captureLogger } from '../support/log.js';

/** Names every plain object inherits: typed as an argument, they must never select anything. */
const inherited = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];

describeEachDatabase('object property names typed as arguments', (database) => {
  it('every command, with each of them in every argument position, answers in words: no crash, no "undefined"', async () => {
    const capture = captureLogger('warn');
    const core = buildTestCore(database().db, { log: capture.log });
    // The console's local user is an admin, so admin-only commands get past their rights check too.
    const actor = testActor({ isAdmin: true });
    const inputs = new Set<string>();
    for (const command of core.commands) {
      const shapes = [[], [''], ['', ''], ['', '', '']].map((rest) => [command.name, ...rest]);
      // Each example, with one argument at a time replaced: `stretch chest` → `stretch constructor`, `breathe box constructor`…
      for (const example of command.examples) shapes.push(tokenize(example));
      for (const shape of shapes) {
        for (let position = 1; position < shape.length; position += 1) {
          for (const word of inherited) {
            const tokens = [...shape];
            tokens[position] = word;
            for (let i = 1; i < tokens.length; i += 1) if (tokens[i] === '') tokens[i] = word;
            inputs.add(tokens.join(' '));
          }
        }
      }
      for (const word of inherited) inputs.add(`${word} ${command.name}`);
    }
    for (const word of inherited) inputs.add(word);
    expect(inputs.size).toBeGreaterThan(200);

    const wrong: string[] = [];
    for (const input of inputs) {
      const answer = await ask(core, input, actor);
      const shown = `${answer.summary}\n${replyText(answer)}`;
      // Nothing is selected by such a name: no session starts.
      if (answer.sequence) wrong.push(`${input} → started a session`);
      if (
        answer.summary.trim() === '' ||
        /undefined|\[object |something went wrong|having trouble|function |native code/i.test(shown)
      ) {
        wrong.push(`${input} → ${answer.summary}`);
      }
    }
    expect(wrong).toEqual([]);
    const failures = capture.lines().filter((l) => l.event === 'request.failed' || l.event === 'request.parse_failed');
    expect(failures).toEqual([]);
  });
});
