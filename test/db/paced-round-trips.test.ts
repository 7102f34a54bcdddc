import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { workspaces } from '../../src/db/schema.js';
import { describeEachDatabase } from '../support/db.js';

const settled = async (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

/** A pause the test ends by hand, counting how often a round trip asked for it. */
function manualPause() {
  const pause = {
    asked: 0,
    release: () => undefined as void,
    wait: (): Promise<void> => {
      pause.asked += 1;
      return new Promise<void>((resolve) => (pause.release = resolve));
    },
  };
  return pause;
}

describeEachDatabase('database round trips paced by a burst', (database) => {
  it('a statement waits for the pause; ping does not; none waits once pacing is off', async () => {
    const { db } = database();
    const pause = manualPause();
    database().paceRoundTrips(pause.wait);
    try {
      const reading = queryRows<{ n: number }>(db, sql`select 1::int as n`);
      expect(await settled(reading, 100)).toBe(false);
      // A readiness probe must not wait for a burst, nor a read an ack waits for (the unpaced handle).
      expect(await settled(database().ping(), 2000)).toBe(true);
      expect(await settled(queryRows(database().unpaced, sql`select 1`), 2000)).toBe(true);
      pause.release();
      expect(await reading).toEqual([{ n: 1 }]);
    } finally {
      database().paceRoundTrips(null);
    }
    expect(await settled(queryRows(db, sql`select 1`), 2000)).toBe(true);
  });

  it('a transaction waits before it starts, never between its statements (its locks would be held)', async () => {
    const { db } = database();
    const pause = manualPause();
    database().paceRoundTrips(pause.wait);
    try {
      let inside = 0;
      const writing = db.transaction(async (tx) => {
        await tx.insert(workspaces).values({ platform: 'slack', externalId: 'T1', name: 'One' });
        inside += 1;
        await tx.insert(workspaces).values({ platform: 'slack', externalId: 'T2', name: 'Two' });
        inside += 1;
      });
      expect(await settled(writing, 100)).toBe(false);
      expect(inside).toBe(0);
      const askedBefore = pause.asked;
      pause.release();
      await writing;
      expect(inside).toBe(2);
      // Only the start asked: the statements inside went straight to the open transaction.
      expect(pause.asked).toBe(askedBefore);
    } finally {
      database().paceRoundTrips(null);
    }
    const names = await db.select({ name: workspaces.name }).from(workspaces);
    expect(names.map((w) => w.name).sort()).toEqual(['One', 'Two']);
  });
});
