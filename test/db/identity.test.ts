import { expect, it, vi } from 'vitest';
import { createBatcher } from '../../src/db/batcher.js';
import type { Database } from '../../src/db/client.js';
import { preferencesWriter } from '../../src/db/preferences.js';
import { preferences, users, workspaces } from '../../src/db/schema.js';
import {
  ensureIdentities,
  ensureUser,
  ensureWorkspace,
  findUser,
  findWorkspace,
  identityOf,
} from '../../src/db/users.js';
import { defaultPreferences } from '../../src/core/preferences.js';
import { describeEachDatabase } from '../support/db.js';

/** Counts the statements sent to the driver (the pg pool or PGlite): each one is a round trip. */
function countRoundTrips(database: Database) {
  const client = (database.db as unknown as { $client: { query: (...args: unknown[]) => unknown } }).$client;
  return vi.spyOn(client, 'query');
}

const key = (user: string, team = 'T1') => ({
  platform: 'slack',
  externalId: team,
  name: 'Team',
  platformUserId: user,
});

describeEachDatabase('identity in one round trip', (database) => {
  it('creates the workspace and the person in one statement, with the rows ensureWorkspace/ensureUser find', async () => {
    const { db } = database();
    const trips = countRoundTrips(database());
    const [identity] = await ensureIdentities(db, [{ ...key('U1'), displayName: 'Ada' }]);
    expect(trips).toHaveBeenCalledTimes(1);
    trips.mockRestore();
    const workspace = await findWorkspace(db, { platform: 'slack', externalId: 'T1' });
    expect(identity?.workspace).toEqual(workspace);
    expect(identity?.user).toEqual(await findUser(db, workspace!.id, 'U1'));
    expect(identity?.user.displayName).toBe('Ada');
  });

  it('returns the same ids as before for people who exist, in one round trip, writing nothing', async () => {
    const { db } = database();
    const workspace = await ensureWorkspace(db, { platform: 'slack', externalId: 'T1', name: 'Team' });
    const ada = await ensureUser(db, workspace.id, 'U1', 'Ada');
    const bob = await ensureUser(db, workspace.id, 'U2');
    const trips = countRoundTrips(database());
    const found = await ensureIdentities(db, [key('U2'), key('U1'), key('U2')]);
    expect(trips).toHaveBeenCalledTimes(1);
    trips.mockRestore();
    expect(found.map((f) => f.user)).toEqual([bob, ada, bob]);
    expect(found.every((f) => f.workspace.id === workspace.id)).toBe(true);
    // Nothing inserted, so no identity value spent: the next new person gets the next id.
    const carl = await ensureUser(db, workspace.id, 'U3');
    expect(carl.id).toBe(bob.id + 1);
  });

  it('mixes new and known people and workspaces in one statement, each named once', async () => {
    const { db } = database();
    const known = await ensureIdentities(db, [key('U1')]);
    const mixed = await ensureIdentities(db, [key('U1'), key('U9'), key('U9'), key('U1', 'T2'), key('U5', 'T2')]);
    expect(mixed[0]).toEqual(known[0]);
    expect(mixed[1]!.user.id).toBe(mixed[2]!.user.id);
    expect(mixed[3]!.workspace.id).toBe(mixed[4]!.workspace.id);
    expect(mixed[3]!.workspace.id).not.toBe(known[0]!.workspace.id);
    expect(await db.select().from(workspaces)).toHaveLength(2);
    expect(await db.select().from(users)).toHaveLength(4);
  });

  it('concurrent requests share statements: 60 people at once cost a few round trips, not 60', async () => {
    const { db } = database();
    const trips = countRoundTrips(database());
    const all = await Promise.all(Array.from({ length: 60 }, (_, i) => identityOf(db)(key(`U${i}`))));
    expect(trips.mock.calls.length).toBeLessThanOrEqual(3);
    trips.mockRestore();
    expect(new Set(all.map((a) => a.user.id)).size).toBe(60);
    expect(await db.select().from(users)).toHaveLength(60);
  });

  it('concurrent preference saves go out together; a person saving twice keeps the later one', async () => {
    const { db } = database();
    const [a, b] = await ensureIdentities(db, [key('U1'), key('U2')]);
    const now = new Date('2026-03-02T10:00:00Z');
    const write = preferencesWriter(db);
    const trips = countRoundTrips(database());
    await Promise.all([
      write({ userId: a!.user.id, prefs: { ...defaultPreferences('UTC'), everyMinutes: 30 }, nextDueAt: null, now }),
      write({ userId: b!.user.id, prefs: defaultPreferences('UTC'), nextDueAt: null, now }),
      write({ userId: a!.user.id, prefs: { ...defaultPreferences('UTC'), everyMinutes: 90 }, nextDueAt: null, now }),
    ]);
    expect(trips).toHaveBeenCalledTimes(1);
    trips.mockRestore();
    const rows = await db.select().from(preferences);
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.userId === a!.user.id)?.everyMinutes).toBe(90);
  });

  it('a row that breaks the batch fails alone; the others are saved', async () => {
    const { db } = database();
    const [a] = await ensureIdentities(db, [key('U1')]);
    const now = new Date('2026-03-02T10:00:00Z');
    const write = preferencesWriter(db);
    const results = await Promise.allSettled([
      write({ userId: a!.user.id, prefs: defaultPreferences('UTC'), nextDueAt: null, now }),
      // No such user: the foreign key refuses this row, and only this one.
      write({ userId: 999_999, prefs: defaultPreferences('UTC'), nextDueAt: null, now }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(await db.select().from(preferences)).toHaveLength(1);
  });
});

it('the batcher groups callers of one moment and keeps each result with its caller', async () => {
  const groups: number[][] = [];
  const double = createBatcher<number, number>({
    run: async (items) => {
      groups.push([...items]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return items.map((i) => i * 2);
    },
    maxBatch: 4,
    maxInFlight: 1,
  });
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => double(i)));
  expect(results).toEqual([2, 4, 6, 8, 10, 12]);
  expect(groups).toEqual([
    [1, 2, 3, 4],
    [5, 6],
  ]);
});
