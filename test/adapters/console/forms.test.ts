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
    expect(without.slice(without.indexOf('(form cancelled)'))).toBe(
      withPrefix.slice(withPrefix.indexOf('(form cancelled)')),
    );
  });

  it('a choice that happens to be a valid answer stays an answer', async () => {
    const out = await typeIntoConsole(database.db, ['routines add', 'team-reset', 'Team reset', 'stretch']);
    expect(out).not.toContain('(form cancelled)');
    expect(out).toContain('What it is for (one line)');
  });

  it('in a free-text field it asks first: typed again the command runs, Enter keeps it as the answer', async () => {
    const again = await typeIntoConsole(database.db, ['routines import', 'routines list', 'routines list']);
    expect(again).toContain(
      'That looks like the command `routines list`: type it again to run it, or press Enter to use it as your answer.',
    );
    expect(again).toContain('(form cancelled)');
    expect(again).toContain('This workspace has no routines of its own yet.');

    const kept = await typeIntoConsole(database.db, ['routines import', 'routines import /x.yaml', '']);
    expect(kept).toContain('That looks like the command `routines import /x.yaml`');
    expect(kept).not.toContain('(form cancelled)');
    // Used as the answer: the core judged it as YAML.
    expect(kept).toContain('Nothing was imported');
  });
});

describe('console forms: errors', () => {
  it('checks each settings answer as it is given and asks that field again, by its label', async () => {
    const out = await typeIntoConsole(database.db, [
      'settings edit',
      '1',
      'Mars/Olympus',
      'Europe/London',
      '',
      '25:00',
      '08:30',
      '',
      '5',
      '45',
      '',
      '',
      '',
      '',
    ]);
    const after = (marker: string) => out.slice(out.indexOf(marker) + marker.length);
    expect(after('✗ that is not a timezone I know')).toMatch(/^[^\n]*\nTimezone/);
    expect(after('✗ use 24-hour HH:MM, from 00:00 to 23:59')).toMatch(/^\nStart of working day/);
    expect(after('✗ type a number from 10 to 480')).toMatch(/^\nMinutes between nudges/);
    expect(out).toContain('== Saved. Your Backcare settings ==');
    expect(out).not.toMatch(/everyMinutes|channelId|highlighted/);
  });

  it('errors found on submit are named by label, all at once, and only those fields are asked again', async () => {
    const out = await typeIntoConsole(database.db, ['hours edit', 'fri 9 to 5', '99', '6', 'fri 09:00-13:00', '']);
    expect(out).toContain('✗ type a number from 1 to 48');
    expect(out).toContain(
      'Some settings need another look:\n  ✗ Different hours on some days: `fri 9 to 5` is not like "fri 09:00-13:00" or "sat off"',
    );
    expect(out).toContain('== Saved. Your hours ==');
    expect(out).not.toMatch(/maxPerDay|highlighted/);
  });

  it('a pain of 11 is refused at once, before the weeks are asked', async () => {
    const out = await typeIntoConsole(database.db, ['triage', '7', 'none', 'none', '11']);
    const refused = out.indexOf('✗ type a number from 0 to 10');
    expect(refused).toBeGreaterThan(0);
    expect(out.indexOf('How many weeks')).toBe(-1);
    expect(out.slice(refused)).toContain('How strong is the pain right now');
  });

  it('a required answer with nothing to keep is not offered as "now: none"; Enter asks again', async () => {
    const out = await typeIntoConsole(database.db, ['routines add', '']);
    expect(out).not.toContain('now: none');
    expect(out).toContain('✗ this one needs an answer');
  });
});
