import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/client.js';
import { openTestDatabase, truncateAll } from '../../support/db.js';
import { typeIntoConsole } from './console-core.js';

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase('pglite');
});
afterAll(() => database.close());
beforeEach(() => truncateAll(database));

describe('console forms: a command typed without /backcare', () => {
  it('the form says so, and `help` without the prefix cancels the form and shows the help', async () => {
    const out = await typeIntoConsole(database.db, ['settings edit', 'help', 'me']);
    expect(out).toContain('A command (such as help, with or without /backcare) leaves the form.');
    expect(out).toContain('(form cancelled)');
    expect(out).toContain('== Backcare: look after your upper back at the desk ==');
    // The next line is a command again, not the next settings answer.
    expect(out).toContain('== What Backcare stores about you ==');
  });

  it('cancels the same way with or without the prefix', async () => {
    const withPrefix = await typeIntoConsole(database.db, ['settings edit', '/backcare privacy']);
    const without = await typeIntoConsole(database.db, ['settings edit', 'privacy']);
    expect(without).toContain('(form cancelled)');
    expect(without.slice(without.indexOf('(form cancelled)'))).toBe(withPrefix.slice(withPrefix.indexOf('(form cancelled)')));
  });

  it('a choice that happens to be a valid answer stays an answer', async () => {
    const out = await typeIntoConsole(database.db, ['routines add', 'team-reset', 'Team reset', 'stretch']);
    expect(out).not.toContain('(form cancelled)');
    expect(out).toContain('What it is for (one line)');
  });

  it('in a free-text field it asks first: typed again the command runs, Enter keeps it as the answer', async () => {
    const again = await typeIntoConsole(database.db, ['routines import', 'routines list', 'routines list']);
    expect(again).toContain('That looks like the command `routines list`: type it again to run it, or press Enter to use it as your answer.');
    expect(again).toContain('(form cancelled)');
    expect(again).toContain('This workspace has no routines of its own yet.');

    const kept = await typeIntoConsole(database.db, ['routines import', 'routines import /x.yaml', '']);
    expect(kept).toContain('That looks like the command `routines import /x.yaml`');
    expect(kept).not.toContain('(form cancelled)');
    // Used as the answer: the core judged it as YAML.
    expect(kept).toContain('Nothing was imported');
  });
});
