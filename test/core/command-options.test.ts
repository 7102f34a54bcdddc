import { describe, expect, it } from 'vitest';
import {
  checkOptionValue,
  commandTextFrom,
  FREE_TEXT_OPTION,
  resolveOptions,
  type ResolvedOption,
} from '../../src/core/command-options.js';
import { features } from '../../src/core/features/index.js';
import { tokenize } from '../../src/core/router.js';
import { testLibrary } from '../support/core.js';

const commands = features.flatMap((f) => f.commands ?? []);

/** Values a picker could hand over for one declared option: every choice, both ends of a range. */
function samples(option: ResolvedOption): (string | number)[] {
  switch (option.type) {
    case 'string':
      return option.choices?.length ? option.choices.map((c) => c.value) : [];
    case 'integer':
      return [option.min, option.max];
    case 'person':
      return ['U0SAM'];
    default:
      return [];
  }
}

describe('declared options', () => {
  it('every value a declaration allows is read by the command’s own text parser', () => {
    let checked = 0;
    for (const command of commands) {
      const options = resolveOptions(command.options, testLibrary());
      const required = Object.fromEntries(
        options.filter((o) => o.required).map((o) => [o.name, samples(o)[0]!] as const),
      );
      for (const option of options)
        for (const value of samples(option)) {
          // An option alone may be half a sentence (`lead add` wants a person): then with some value of each other option.
          const combos = options
            .filter((o) => o !== option && samples(o).length > 0)
            .reduce<Record<string, string | number>[]>(
              (acc, o) => acc.flatMap((combo) => samples(o).map((v) => ({ ...combo, [o.name]: v }))),
              [{}],
            );
          const tries = [required, ...combos].map((others) => {
            const text = commandTextFrom(command.name, options, { ...others, [option.name]: value });
            return { text, parsed: command.parse(tokenize(text).slice(1)) };
          });
          const { text, parsed } = tries.find((t) => t.parsed.ok) ?? tries[0]!;
          expect(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.error}`).toBe(true);
          checked++;
        }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('a command that declares nothing takes free text; one that declares [] takes nothing', () => {
    expect(resolveOptions(undefined, undefined)).toEqual([FREE_TEXT_OPTION]);
    expect(resolveOptions([], undefined)).toEqual([]);
    expect(commandTextFrom('hours', [FREE_TEXT_OPTION], { args: 'set 09:00-17:00' })).toBe('hours set 09:00-17:00');
  });

  it('checks a value against its type, choices and range', () => {
    const minutes: ResolvedOption = { type: 'integer', name: 'minutes', description: '', min: 1, max: 10 };
    expect(checkOptionValue(minutes, 10)).toBe(10);
    expect(checkOptionValue(minutes, 11)).toBeNull();
    expect(checkOptionValue(minutes, 2.5)).toBeNull();
    expect(checkOptionValue(minutes, '3')).toBeNull();
    const pattern: ResolvedOption = { type: 'string', name: 'p', description: '', choices: [{ value: 'box' }] };
    expect(checkOptionValue(pattern, 'box')).toBe('box');
    expect(checkOptionValue(pattern, 'hyper')).toBeNull();
    expect(checkOptionValue({ type: 'person', name: 'who', description: '' }, 'U0 SAM')).toBeNull();
  });

  it('writes people as mentions, quotes words with spaces, and leaves the timezone out of the text', () => {
    const options: ResolvedOption[] = [
      { type: 'string', name: 'a', description: '' },
      { type: 'person', name: 'who', description: '' },
      { type: 'timezone', name: 'tz', description: '' },
    ];
    expect(commandTextFrom('x', options, { who: 'U0SAM', a: 'two words', tz: 'Europe/London' })).toBe(
      'x "two words" <@U0SAM>',
    );
  });
});
