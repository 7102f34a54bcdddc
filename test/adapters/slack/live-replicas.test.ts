import { expect, it, vi } from 'vitest';
import { createSlackLiveSessions, type LiveMessageApi } from '../../../adapters/slack/live.js';
import type { SlackMessage } from '../../../adapters/slack/render.js';
import { createLiveSessionStore } from '../../../src/core/live-session-store.js';
import type { Db } from '../../../src/db/client.js';
import { reply, text, type Actor, type CoreInput, type Sequence } from '../../../src/core/ports.js';
import { describeEachDatabase } from '../../support/db.js';
import { silentLogger } from '../../support/log.js';

/** Every chat.update of the one DM message, with the replica that made it. */
interface Update {
  by: string;
  ts: string;
  text: string;
}

const actor: Actor = { platform: 'slack', workspaceExternalId: 'T0TEAM', userExternalId: 'U1' };

function breathing(frames: number, ms: number): Sequence {
  return {
    sessionId: 'guided:slack:T0TEAM:U1',
    frames: Array.from({ length: frames }, (_, i) => ({ ms, blocks: [text(`phase ${i}`)] })),
    staticBlocks: [text('written out')],
    actions: [{ type: 'button', actionId: 'guided.stop', label: 'Stop', value: '{}', style: 'danger' }],
    onComplete: { actionId: 'guided.complete', value: 'v1' },
  };
}

const textOf = (message: SlackMessage) =>
  JSON.stringify(message.blocks).match(/phase \d+|Well done|interrupted/)?.[0] ?? message.text;

function apiFor(by: string, updates: Update[]): LiveMessageApi {
  return {
    post: async () => ({ channel: 'D0USER', ts: '1700000000.1' }),
    update: async (_channel, ts, message) => void updates.push({ by, ts, text: textOf(message) }),
  };
}

/** One Slack replica: its live sessions on the shared database; the core answers the completion. */
function slackReplica(db: Db, by: string, updates: Update[], handled: string[]) {
  return createSlackLiveSessions({
    log: silentLogger(),
    // Phases of a few hundred ms would otherwise exceed a real workspace's budget and go static.
    updatesPerMinute: 10_000,
    shared: {
      store: createLiveSessionStore({ db, platform: 'slack', owner: by }),
      apiFor: async (workspace) => (workspace === 'T0TEAM' ? apiFor(by, updates) : null),
      handle: async (who: Actor, input: CoreInput) => {
        handled.push(`${by}:${who.userExternalId}:${input.kind === 'action' ? input.value : ''}`);
        return reply('Well done', [text('Well done')]);
      },
      sweepMs: 50,
    },
  });
}

/** Replicas A and B on one database, and a breathing session of `phases` started on A. */
function twoReplicasPlaying(db: Db, phases: number, phaseMs: number) {
  const updates: Update[] = [];
  const handled: string[] = [];
  const a = slackReplica(db, 'A', updates, handled);
  const b = slackReplica(db, 'B', updates, handled);
  const done = a.start({
    workspace: 'T0TEAM',
    user: 'U1',
    sequence: breathing(phases, phaseMs),
    api: apiFor('A', updates),
    finish: async () => ({ text: 'unused', blocks: [] }),
    context: { actor, summary: 'Box breathing' },
  }).done;
  return { updates, handled, a, b, done };
}

describeEachDatabase('Slack live sessions on two replicas', (database) => {
  it('a restart hands the session over: the other replica edits the same message from the next phase and finishes it', async () => {
    const { updates, handled, a, b, done } = twoReplicasPlaying(database().db, 6, 300);
    await vi.waitFor(() => expect(updates.length).toBeGreaterThanOrEqual(2), { timeout: 1400 });
    await a.handOver();
    expect(await done).toBe('handed_over');
    const lastOfA = Number(updates.at(-1)!.text.split(' ')[1]);
    const stopSharing = await b.share();
    await vi.waitFor(() => expect(handled).toEqual(['B:U1:v1']), { timeout: 8000 });
    await vi.waitFor(() => expect(updates.at(-1)?.text).toBe('Well done'));
    await stopSharing();
    const fromB = updates.filter((u) => u.by === 'B');
    expect(fromB.map((u) => u.text)).toEqual([
      ...Array.from({ length: 5 - lastOfA }, (_, i) => `phase ${lastOfA + 1 + i}`),
      'Well done',
    ]);
    // The same message throughout, and A edited nothing once B had started.
    expect(new Set(updates.map((u) => u.ts))).toEqual(new Set(['1700000000.1']));
    expect(updates.findLastIndex((u) => u.by === 'A')).toBeLessThan(updates.findIndex((u) => u.by === 'B'));
    expect(b.stats.takenOver).toBe(1);
  });

  it('Stop pressed on the replica that does not play the session stops the one that does', async () => {
    const { updates, handled, b, done } = twoReplicasPlaying(database().db, 30, 200);
    await vi.waitFor(() => expect(updates.length).toBeGreaterThanOrEqual(1));
    expect(await b.stopByMessage('D0USER', '1700000000.1')).toBe(true);
    const shown = updates.length;
    expect(await done).toBe('stopped');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(updates).toHaveLength(shown);
    expect(handled).toEqual([]);
    expect(await b.stopByMessage('D0USER', '1700000000.1')).toBe(false);
  });
});
