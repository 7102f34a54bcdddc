import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Feature } from '../../../src/core/command.js';
import { createLogger } from '../../../src/config/logger.js';
import { createLiveSessionStore } from '../../../src/core/live-session-store.js';
import { createCore, type Core } from '../../../src/core/router.js';
import { openDatabase, queryRows, type Db } from '../../../src/db/client.js';
import { postgresListener } from '../../../src/db/listen.js';
import { cloneMigratedPostgres, describeEachDatabase, testDrivers } from '../../support/db.js';
import { APP_ID, buttonPress, messageWith, slashCommand, USER_ID } from '../../support/discord/payloads.js';
import type { RecordedRequest } from '../../support/discord/fake-api.js';
import { silentLogger } from '../../support/log.js';
import { startHarness, type ClientActions, type Harness } from './harness.js';
import { killable } from '../../support/killable-store.js';
import { demoSequenceFeature } from '../../support/demo-sequence.js';

/*
 * Two Discord adapters on one database stand in for two replicas, each with its own fake Discord API (both stand
 * for discord.com), so every request is known by the replica that made it. A guided session started on one
 * must be carried on, stopped or handed over by the other, editing the same reply through its interaction webhook.
 */

/** A breathing-like sequence: `phase i` frames, a Stop button, a completion that asks how you feel. */
const demo = (frames: number, frameMs: number) =>
  demoSequenceFeature(
    Array.from({ length: frames }, (_, i) => `phase ${i}`),
    frameMs,
  );

interface Replica {
  name: string;
  h: Harness;
  store: ReturnType<typeof killable>;
  /** Core actions this replica answered, e.g. 'demo.done'. */
  handled: string[];
}

async function replica(
  db: Db,
  name: string,
  feature: Feature,
  options: { listenUrl?: string; tokenLifetimeMs?: number } = {},
): Promise<Replica> {
  const handled: string[] = [];
  const base = createCore({ db, log: silentLogger(), now: () => new Date(), privacyFloor: 5 }, [feature]);
  const core: Core = {
    ...base,
    handle: (request) => {
      if (request.input.kind === 'action') handled.push(request.input.actionId);
      return base.handle(request);
    },
  };
  const store = killable(
    createLiveSessionStore({
      db,
      platform: 'discord',
      owner: name,
      listen: options.listenUrl ? postgresListener(options.listenUrl, createLogger({ level: 'silent' })) : undefined,
    }),
  );
  const h = await startHarness(db, {
    core,
    // Answered at once, never deferred: the press below names the reply by its interaction, as Discord does then.
    deferAfterMs: 10_000,
    liveStore: store,
    live: {
      leaseGraceMs: 300,
      sweepMs: 50,
      ...(options.tokenLifetimeMs !== undefined ? { tokenLifetimeMs: options.tokenLifetimeMs } : {}),
    },
  });
  return { name, h, store, handled };
}

/** Hands an INTERACTION_CREATE to discord.js without waiting for the session it starts to end. */
const dispatch = (h: Harness, payload: unknown) =>
  (h.adapter.client as unknown as { actions: ClientActions }).actions.InteractionCreate.handle(payload);

const originalPath = (token: string) => `/webhooks/${APP_ID}/${token}/messages/@original`;
/** What a request showed: `phase i`, the completion, a stop, or the pointer to the DM. */
const shown = (r: RecordedRequest) =>
  JSON.stringify(r.body).match(/phase \d+|How do you feel\?|Stopped|continues in your direct messages/)?.[0] ?? '?';
const editsOf = (r: Replica, token: string) =>
  r.h.api.requests.filter((q) => q.method === 'PATCH' && q.path === originalPath(token));

const rowsOf = (db: Db) =>
  queryRows<{ session_id: string; platform: string; owner: string | null; state: unknown }>(
    db,
    sql`select session_id, platform, owner, state from live_sessions order by session_id`,
  );
const storedToken = (state: unknown) =>
  (state as { message?: { webhook?: { interactionToken?: string } } }).message?.webhook?.interactionToken;

type Callback = { type: number; data?: { components?: { components: { label?: string; custom_id: string }[] }[] } };
const stopButtonOf = (first: Callback) =>
  (first.data?.components ?? []).flatMap((row) => row.components).find((c) => c.label === 'Stop')!;

describeEachDatabase('Discord live sessions on two replicas', (database) => {
  const open: Replica[] = [];
  const unshare: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of unshare.splice(0)) await stop();
    for (const r of open.splice(0)) await r.h.close();
  });
  const two = async (feature: Feature, b: { tokenLifetimeMs?: number } = {}) => {
    const pair = [await replica(database().db, 'A', feature), await replica(database().db, 'B', feature, b)] as const;
    open.push(...pair);
    return pair;
  };

  it('the owner dies (no release): the other replica takes over from the stored state, edits the same reply through its webhook and finishes it', async () => {
    const { db } = database();
    const [a, b] = await two(demo(8, 300));
    const payload = slashCommand('demo');
    dispatch(a.h, payload);
    await vi.waitFor(() => expect(editsOf(a, payload.token).length).toBeGreaterThanOrEqual(2), { timeout: 5000 });
    // What another replica needs is stored, the interaction token with it, only while the session plays.
    const [row] = await rowsOf(db);
    expect(row).toMatchObject({ session_id: `demo:${USER_ID}`, platform: 'discord', owner: 'A' });
    expect(storedToken(row!.state)).toBe(payload.token);

    a.store.kill();
    unshare.push(await b.h.adapter.live.share());
    await vi.waitFor(() => expect(editsOf(b, payload.token).map(shown)).toContain('How do you feel?'), {
      timeout: 10_000,
    });
    const fromA = editsOf(a, payload.token);
    const fromB = editsOf(b, payload.token);
    // B carried on from where A's last saved frame left off, in order, to the end, then the completion, once.
    const phasesB = fromB
      .map(shown)
      .filter((s) => s.startsWith('phase'))
      .map((s) => Number(s.split(' ')[1]));
    expect(phasesB.at(-1)).toBe(7);
    expect(phasesB).toEqual([...phasesB].sort((x, y) => x - y));
    expect(phasesB[0]).toBeGreaterThanOrEqual(Number(shown(fromA.at(-1)!).split(' ')[1]));
    expect(fromB.map(shown).filter((s) => s === 'How do you feel?')).toHaveLength(1);
    expect(fromA.map(shown)).not.toContain('How do you feel?');
    // Never two editors: every edit of A's came before B's first.
    expect(fromA.at(-1)!.at).toBeLessThanOrEqual(fromB[0]!.at);
    expect(a.handled).toEqual([]);
    expect(b.handled).toEqual(['demo.done']);
    expect(b.h.adapter.live.stats.takenOver).toBe(1);
    // The webhook edit is unauthenticated, as Discord's interaction webhooks are (the token is in the path).
    expect(b.h.api.requests.every((r) => !r.path.includes('/interactions/'))).toBe(true);
    await vi.waitFor(async () => expect(await rowsOf(db)).toEqual([]));
  });

  it('Stop pressed on the replica that does not play the session stops the one that does, before its answer', async () => {
    const { db } = database();
    const [a, b] = await two(demo(30, 200));
    const payload = slashCommand('demo');
    dispatch(a.h, payload);
    await vi.waitFor(() => expect(editsOf(a, payload.token).length).toBeGreaterThanOrEqual(1), { timeout: 5000 });
    const first = a.h.callbacks(payload.id)[0] as Callback;
    // The press carries the reply's interaction, as Discord sends it for a slash command's ephemeral reply.
    const stop = buttonPress(
      stopButtonOf(first).custom_id,
      { kind: 'guild' },
      messageWith(first.data?.components ?? [], { ephemeral: true, interactionId: payload.id }),
    );
    await b.h.emit(stop);
    const answeredAt = Date.now();
    expect(b.h.callbacks(stop.id)[0]).toMatchObject({ type: 7 });
    expect(JSON.stringify(b.h.callbacks(stop.id)[0])).toContain('Stopped');
    await a.h.adapter.idle();
    expect(a.h.adapter.live.stats.remoteStops).toBe(1);
    expect(editsOf(a, payload.token).every((r) => r.at <= answeredAt)).toBe(true);
    expect([...a.handled, ...b.handled]).toEqual(['demo.stop']);
    expect(await rowsOf(db)).toEqual([]);
  });

  it('shutdown hands the session over: the lease is released and the other replica continues from the next phase', async () => {
    const { db } = database();
    const [a, b] = await two(demo(6, 400));
    const payload = slashCommand('demo');
    dispatch(a.h, payload);
    await vi.waitFor(() => expect(editsOf(a, payload.token).length).toBeGreaterThanOrEqual(2), { timeout: 5000 });
    await a.h.adapter.stop();
    expect(a.h.adapter.live.stats.handedOver).toBe(1);
    const [row] = await rowsOf(db);
    expect(row).toMatchObject({ owner: null });
    const lastOfA = Number(shown(editsOf(a, payload.token).at(-1)!).split(' ')[1]);
    // Claimable at once: no waiting for a lease to run out.
    unshare.push(await b.h.adapter.live.share());
    await vi.waitFor(() => expect(b.handled).toEqual(['demo.done']), { timeout: 8000 });
    await b.h.adapter.idle();
    expect(editsOf(b, payload.token).map(shown)).toEqual([
      ...Array.from({ length: 5 - lastOfA }, (_, i) => `phase ${lastOfA + 1 + i}`),
      'How do you feel?',
    ]);
    expect(a.handled).toEqual([]);
    expect(await rowsOf(db)).toEqual([]);
  });

  it('a session taken over past the token lifetime moves to a DM, and the stored state no longer holds the token', async () => {
    const { db } = database();
    const [a, b] = await two(demo(10, 300), { tokenLifetimeMs: -1 });
    const payload = slashCommand('demo');
    dispatch(a.h, payload);
    await vi.waitFor(() => expect(editsOf(a, payload.token).length).toBeGreaterThanOrEqual(1), { timeout: 5000 });
    await a.h.adapter.stop();
    unshare.push(await b.h.adapter.live.share());
    await vi.waitFor(() => expect(b.h.adapter.live.stats.movedToDm).toBe(1), { timeout: 5000 });
    // (Counted when the DM is posted; the reply's note follows.)
    await vi.waitFor(() => expect(editsOf(b, payload.token).map(shown)).toEqual(['continues in your direct messages']));
    const dmEdits = () =>
      b.h.api.requests.filter((r) => r.method === 'PATCH' && /^\/channels\/\d+\/messages\/\d+$/.test(r.path));
    // Still playing, now in the DM: the row says where, and the token is gone from it.
    await vi.waitFor(async () => {
      const [row] = await rowsOf(db);
      expect((row?.state as { message?: { dm?: unknown } }).message?.dm).toBeDefined();
      expect(storedToken(row!.state)).toBeUndefined();
    });
    await vi.waitFor(() => expect(dmEdits().map(shown).at(-1)).toBe('How do you feel?'), { timeout: 8000 });
    expect(b.handled).toEqual(['demo.done']);
    await vi.waitFor(async () => expect(await rowsOf(db)).toEqual([]));
  });
});

describe.runIf(testDrivers.includes('postgres'))(
  'Discord: Stop through another replica over LISTEN/NOTIFY [postgres]',
  () => {
    it('reaches the replica playing the session within a second, long before its next frame', async () => {
      const scratch = await cloneMigratedPostgres();
      const database = await openDatabase({ driver: 'postgres', url: scratch.url, poolSize: 4 });
      const feature = demo(3, 20_000);
      const a = await replica(database.db, 'A', feature, { listenUrl: scratch.url });
      const b = await replica(database.db, 'B', feature);
      try {
        const stopListening = await a.h.adapter.live.share();
        const payload = slashCommand('demo');
        dispatch(a.h, payload);
        await vi.waitFor(async () => expect(await rowsOf(database.db)).toHaveLength(1), { timeout: 5000 });
        const first = a.h.callbacks(payload.id)[0] as Callback;
        const stop = buttonPress(
          stopButtonOf(first).custom_id,
          { kind: 'guild' },
          messageWith(first.data?.components ?? [], { ephemeral: true, interactionId: payload.id }),
        );
        const pressed = Date.now();
        await b.h.emit(stop);
        await a.h.adapter.idle();
        // Its next frame was 20 s away: only the notification can have stopped it this soon (loaded 2-core machine).
        expect(Date.now() - pressed).toBeLessThan(3000);
        expect(a.h.adapter.live.stats.remoteStops).toBe(1);
        expect(JSON.stringify(b.h.callbacks(stop.id)[0])).toContain('Stopped');
        expect(await rowsOf(database.db)).toEqual([]);
        await stopListening();
      } finally {
        await a.h.close();
        await b.h.close();
        await database.close();
        await scratch.drop();
      }
    });
  },
);
