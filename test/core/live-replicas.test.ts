import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { openDatabase, queryRows, type Db } from '../../src/db/client.js';
import { postgresListener } from '../../src/db/listen.js';
import { createLiveSessionStore, type Liveness } from '../../src/core/live-session-store.js';
import { INTERRUPTED_BLOCKS, LiveSessions, type LiveSurface } from '../../src/core/live-sessions.js';
import { text, type Block, type Sequence } from '../../src/core/reply.js';
import { cloneMigratedPostgres, describeEachDatabase, testDrivers } from '../support/db.js';
import { killable } from '../support/killable-store.js';

/** Two engines on one database stand in for two replicas; each edit is recorded with who made it and when. */
interface Ref {
  id: string;
}
interface Edit {
  by: string;
  label: string;
  at: number;
}

function sequence(sessionId: string, frames: number, ms: number): Sequence {
  return {
    sessionId,
    frames: Array.from({ length: frames }, (_, i) => ({ blocks: [text(`${sessionId}:f${i}`)], ms })),
    staticBlocks: [text('static')],
    onComplete: { actionId: 'guided.complete', value: sessionId },
    actions: [],
  };
}

const labelOf = (blocks: Block[]) => (blocks[0] as { text: string }).text;

function surfaceFor(by: string, edits: Edit[], completions: string[]): LiveSurface<Ref, string> {
  return {
    open: (frame, state) => {
      edits.push({ by, label: `post ${labelOf(frame.blocks)}`, at: Date.now() });
      return { id: `msg-${state.sessionId}` };
    },
    edit: (frame) => void edits.push({ by, label: labelOf(frame.blocks), at: Date.now() }),
    complete: (onComplete) => {
      completions.push(`${by}:${onComplete?.value}`);
      return `final:${onComplete?.value}`;
    },
    finish: async (final) => void edits.push({ by, label: final, at: Date.now() }),
    interrupted: async (blocks) => void edits.push({ by, label: labelOf(blocks), at: Date.now() }),
  };
}

function replica(
  db: Db,
  name: string,
  options: { staleAfterMs?: number; listenUrl?: string; liveness?: Liveness; leaseGraceMs?: number } = {},
) {
  const store = killable(
    createLiveSessionStore({
      db,
      platform: 'test',
      owner: name,
      listen: options.listenUrl ? postgresListener(options.listenUrl, createLogger({ level: 'silent' })) : undefined,
      liveness: options.liveness,
    }),
  );
  const engine = new LiveSessions<Ref, string>({
    store,
    messageKey: (ref) => ref.id,
    leaseGraceMs: options.leaseGraceMs ?? 300,
    staleAfterMs: options.staleAfterMs ?? 10_000,
  });
  return { store, engine };
}

const rowsOf = (db: Db) =>
  queryRows<{ session_id: string; owner: string | null; stop_requested: boolean }>(
    db,
    sql`select session_id, owner, stop_requested from live_sessions order by session_id`,
  );

/** Every edit of a message by one replica comes before every edit of it by the other: never two editors at once. */
function expectOneEditorAtATime(edits: Edit[]): void {
  const byReplica = new Map<string, Edit[]>();
  for (const e of edits) byReplica.set(e.by, [...(byReplica.get(e.by) ?? []), e]);
  const spans = [...byReplica.values()].map((list) => [list[0]!.at, list.at(-1)!.at] as const);
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i += 1) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
}

describeEachDatabase('live sessions shared by replicas', (database) => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it('another replica takes over after the owner vanishes (no release, the lease runs out) and carries on', async () => {
    const { db } = database();
    const a = replica(db, 'A');
    const b = replica(db, 'B');
    const edits: Edit[] = [];
    const completions: string[] = [];
    const session = a.engine.play(sequence('s1', 8, 250), surfaceFor('A', edits, completions));
    await vi.waitFor(() => expect(edits.filter((e) => e.by === 'A').length).toBeGreaterThanOrEqual(3), {
      timeout: 1500,
    });
    a.store.kill();
    stops.push(await b.engine.share(() => surfaceFor('B', edits, completions), 50));
    await vi.waitFor(() => expect(completions).toEqual(['B:s1']), { timeout: 8000 });
    await vi.waitFor(async () => expect(await rowsOf(db)).toEqual([]));
    expect(await session.done).not.toBe('completed');
    expect(b.engine.stats.takenOver).toBe(1);
    // B picked up where A's last saved frame left off and showed the rest in order, ending with the final message.
    const labels = edits.map((e) => e.label);
    const lastOfA = edits.filter((e) => e.by === 'A').at(-1)!.label;
    const fromB = edits.filter((e) => e.by === 'B').map((e) => e.label);
    expect(fromB.at(-1)).toBe('final:s1');
    const shownB = fromB.filter((l) => l !== 'final:s1').map((l) => Number(l.split(':f')[1]));
    expect(shownB.at(-1)).toBe(7);
    // At most the frame A showed on a lease it could no longer renew (unsaved) is shown again; nothing earlier.
    expect(shownB[0]).toBeGreaterThanOrEqual(Number(lastOfA.split(':f')[1]));
    expect(shownB).toEqual([...shownB].sort((x, y) => x - y));
    expect(labels.filter((l) => l === 'final:s1')).toHaveLength(1);
    expectOneEditorAtATime(edits);
  });

  it('Stop pressed on another replica stops the owner, which edits nothing after it, and the row goes', async () => {
    const { db } = database();
    const a = replica(db, 'A');
    const b = replica(db, 'B');
    const edits: Edit[] = [];
    const completions: string[] = [];
    const session = a.engine.play(sequence('s1', 20, 200), surfaceFor('A', edits, completions));
    await vi.waitFor(() => expect(edits.length).toBeGreaterThanOrEqual(2));
    // B has nothing of it in memory: the stop goes through the database, and B waits for A to have stopped.
    const stopped = await b.engine.stopMessage({ id: 'msg-s1' }, () => false);
    const answeredAt = Date.now();
    expect(stopped).toBe(true);
    expect(await session.done).toBe('stopped');
    expect(a.engine.stats.remoteStops).toBe(1);
    expect(edits.every((e) => e.at <= answeredAt)).toBe(true);
    expect(completions).toEqual([]);
    expect(await rowsOf(db)).toEqual([]);
  });

  it('hand-over at shutdown: the lease is released and the other replica continues from the current step', async () => {
    const { db } = database();
    const a = replica(db, 'A');
    const b = replica(db, 'B');
    const edits: Edit[] = [];
    const completions: string[] = [];
    const session = a.engine.play(sequence('s1', 6, 400), surfaceFor('A', edits, completions));
    await vi.waitFor(() => expect(edits.length).toBeGreaterThanOrEqual(3), { timeout: 1800 });
    await a.engine.handOver();
    expect(await session.done).toBe('handed_over');
    expect(a.engine.stats.handedOver).toBe(1);
    const [row] = await rowsOf(db);
    expect(row).toMatchObject({ session_id: 's1', owner: null });
    const lastOfA = Number(edits.at(-1)!.label.split(':f')[1]);
    // Claimable at once: no waiting for a lease to run out.
    expect(await b.engine.takeOver(() => surfaceFor('B', edits, completions))).toBe(1);
    await b.engine.idle();
    const fromB = edits.filter((e) => e.by === 'B').map((e) => e.label);
    // The frame on screen was not shown again; the next ones follow, then the final message, once.
    expect(fromB).toEqual([...Array.from({ length: 5 - lastOfA }, (_, i) => `s1:f${lastOfA + 1 + i}`), 'final:s1']);
    expect(completions).toEqual(['B:s1']);
    expect(await rowsOf(db)).toEqual([]);
    expectOneEditorAtATime(edits);
  });

  it('a session started after the hand-over (work queued before SIGTERM) is handed over too, not played here', async () => {
    const { db } = database();
    const a = replica(db, 'A');
    const b = replica(db, 'B');
    const edits: Edit[] = [];
    const completions: string[] = [];
    await a.engine.handOver();
    const late = a.engine.play(sequence('s2', 3, 200), surfaceFor('A', edits, completions));
    expect(await late.done).toBe('handed_over');
    expect(edits).toEqual([]);
    expect(await rowsOf(db)).toMatchObject([{ session_id: 's2', owner: null }]);
    // The other replica posts it from the start and plays it through.
    expect(await b.engine.takeOver(() => surfaceFor('B', edits, completions))).toBe(1);
    await b.engine.idle();
    expect(edits.map((e) => `${e.by} ${e.label}`)).toEqual(['B post s2:f0', 'B s2:f1', 'B s2:f2', 'B final:s2']);
    expect(completions).toEqual(['B:s2']);
  });

  describe('with liveness locks (what each replica holds on PostgreSQL)', () => {
    /** Replicas 1 and 2 with leases long enough that only liveness can explain anything happening in time. */
    function pair() {
      const { db } = database();
      const alive = new Set([1, 2]);
      const liveness = (id: number): Liveness => ({ id, isAlive: async (holder) => alive.has(holder) });
      const a = replica(db, 'A', { liveness: liveness(1), leaseGraceMs: 60_000 });
      const b = replica(db, 'B', { liveness: liveness(2), leaseGraceMs: 60_000 });
      const edits: Edit[] = [];
      const completions: string[] = [];
      void a.engine.play(sequence('s1', 4, 300), surfaceFor('A', edits, completions));
      // A process that is gone edits nothing more: its engine goes quiet, its store answers nothing, its lock is gone.
      const killA = async () => {
        a.store.kill();
        await a.engine.stopAll();
        alive.delete(1);
      };
      return { db, a, b, edits, completions, killA };
    }

    it('while its player runs, nobody else takes the session', async () => {
      const { b, edits } = pair();
      await vi.waitFor(() => expect(edits.length).toBeGreaterThanOrEqual(1));
      expect(await b.engine.takeOver(() => surfaceFor('B', [], []))).toBe(0);
    });

    it('a Stop on a session whose player died ends it at once instead of waiting for that player', async () => {
      const { db, b, edits, killA } = pair();
      await vi.waitFor(() => expect(edits.length).toBeGreaterThanOrEqual(1));
      await killA();
      expect(await b.store.requestStop('msg-s1', 1500)).toBe('ended');
      expect(await rowsOf(db)).toEqual([]);
    });

    it('a session whose player died is taken over at the next sweep, not when its lease runs out', async () => {
      const { b, edits, completions, killA } = pair();
      await vi.waitFor(() => expect(edits.length).toBeGreaterThanOrEqual(2));
      await killA();
      expect(await b.engine.takeOver(() => surfaceFor('B', edits, completions))).toBe(1);
      await b.engine.idle();
      expect(completions).toEqual(['B:s1']);
      expectOneEditorAtATime(edits);
    });
  });

  it('a session whose frame was due too long ago is ended with a clear message instead of resumed', async () => {
    const { db } = database();
    const a = replica(db, 'A');
    const b = replica(db, 'B', { staleAfterMs: 200 });
    const edits: Edit[] = [];
    const completions: string[] = [];
    void a.engine.play(sequence('s1', 10, 100), surfaceFor('A', edits, completions));
    await vi.waitFor(() => expect(edits.length).toBeGreaterThanOrEqual(2));
    a.store.kill();
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(await b.engine.takeOver(() => surfaceFor('B', edits, completions))).toBe(1);
    expect(edits.filter((e) => e.by === 'B').map((e) => e.label)).toEqual([labelOf(INTERRUPTED_BLOCKS)]);
    expect(b.engine.stats.interrupted).toBe(1);
    expect(b.engine.size).toBe(0);
    expect(completions).toEqual([]);
    expect(await rowsOf(db)).toEqual([]);
  });

  it('never two owners: replicas sweeping at once each claim a different share, every session exactly once', async () => {
    const { db } = database();
    const a = replica(db, 'A');
    const edits: Edit[] = [];
    const completions: string[] = [];
    for (let i = 0; i < 12; i += 1) void a.engine.play(sequence(`s${i}`, 4, 300), surfaceFor('A', edits, completions));
    await vi.waitFor(async () => expect((await rowsOf(db)).every((r) => r.owner === 'A')).toBe(true));
    await a.engine.handOver();
    const others = ['B', 'C', 'D'].map((name) => replica(db, name));
    const claimed = await Promise.all(
      others.map((r, i) => r.engine.takeOver(() => surfaceFor(['B', 'C', 'D'][i]!, edits, completions), 12)),
    );
    expect(claimed.reduce((x, y) => x + y, 0)).toBe(12);
    await Promise.all(others.map((r) => r.engine.idle()));
    expect(completions.map((c) => c.split(':')[1]).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `s${i}`).sort(),
    );
    // Per session, one editor at a time.
    for (let i = 0; i < 12; i += 1)
      expectOneEditorAtATime(edits.filter((e) => e.label.startsWith(`s${i}:`) || e.label === `final:s${i}`));
  });

  it('a Stop pressed while nobody holds the session ends it at once; the next holder does not play it', async () => {
    const { db } = database();
    const a = replica(db, 'A');
    const b = replica(db, 'B');
    const edits: Edit[] = [];
    const completions: string[] = [];
    void a.engine.play(sequence('s1', 10, 300), surfaceFor('A', edits, completions));
    await vi.waitFor(() => expect(edits.length).toBeGreaterThanOrEqual(1));
    await a.engine.handOver();
    expect(await b.engine.stopMessage({ id: 'msg-s1' }, () => false)).toBe(true);
    expect(await rowsOf(db)).toEqual([]);
    expect(await b.engine.takeOver(() => surfaceFor('B', edits, completions))).toBe(0);
    expect(edits.every((e) => e.by === 'A')).toBe(true);
  });

  it('a stored session that does not parse is dropped, not played', async () => {
    const { db } = database();
    await db.execute(
      sql`insert into live_sessions (session_id, platform, sequence, state, lease_until)
          values ('bad', 'test', '{"frames": "nope"}'::jsonb, '{}'::jsonb, now() - interval '1 minute')`,
    );
    const b = replica(db, 'B');
    const restore = vi.fn(() => surfaceFor('B', [], []));
    expect(await b.engine.takeOver(restore)).toBe(0);
    expect(restore).not.toHaveBeenCalled();
    expect(await rowsOf(db)).toEqual([]);
  });
});

describe.runIf(testDrivers.includes('postgres'))('Stop through another replica over LISTEN/NOTIFY [postgres]', () => {
  it('reaches the owner within a second, long before its next frame', async () => {
    const scratch = await cloneMigratedPostgres();
    const database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 4 });
    try {
      const a = replica(database.db, 'A', { listenUrl: scratch.url });
      const b = replica(database.db, 'B');
      const stop = await a.engine.share(() => null, 60_000);
      const edits: Edit[] = [];
      const session = a.engine.play(sequence('s1', 3, 20_000), surfaceFor('A', edits, []));
      await vi.waitFor(async () => expect(await rowsOf(database.db)).toHaveLength(1));
      await vi.waitFor(() => expect(edits).toHaveLength(1));
      const pressed = Date.now();
      expect(await b.engine.stopMessage({ id: 'msg-s1' }, () => false)).toBe(true);
      expect(await session.done).toBe('stopped');
      // Its next frame was 20 s away: only the notification can have stopped it this soon.
      expect(Date.now() - pressed).toBeLessThan(5000);
      expect(a.engine.stats.remoteStops).toBe(1);
      expect(await rowsOf(database.db)).toEqual([]);
      await stop();
    } finally {
      await database.close();
      await scratch.drop();
    }
  });
});
