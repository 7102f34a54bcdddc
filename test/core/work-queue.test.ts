import { describe, expect, it, vi } from 'vitest';
import { createWorkQueue } from '../../src/core/work-queue.js';

/** A task that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, task: () => opened };
}

describe('work queue', () => {
  it('never runs more than its concurrency at once, and runs everything in the end', async () => {
    const queue = createWorkQueue({ concurrency: 3 });
    let active = 0;
    let peak = 0;
    const done = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        queue.run('stats', async () => {
          active += 1;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 1));
          active -= 1;
          return i;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(done).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(queue.running).toBe(0);
  });

  it('kinds take turns: a help asked after 200 stats starts with the next free slot, not after them', async () => {
    const queue = createWorkQueue({ concurrency: 2 });
    const order: string[] = [];
    const gates = Array.from({ length: 200 }, () => gate());
    const stats = gates.map((g, i) =>
      queue.run('stats', async () => {
        order.push(`stats${i}`);
        await g.task();
      }),
    );
    const help = queue.run('help', async () => {
      order.push('help');
    });
    expect(queue.waiting()).toEqual(
      new Map([
        ['stats', 198],
        ['help', 1],
      ]),
    );
    gates[0]!.open();
    await help;
    expect(order).toEqual(['stats0', 'stats1', 'help']);
    for (const g of gates) g.open();
    await Promise.all(stats);
  });

  it('reports how long each task waited for its slot, by kind', async () => {
    let clock = 0;
    const waits: [string, number][] = [];
    const queue = createWorkQueue({ concurrency: 1, now: () => clock, onStart: (kind, ms) => waits.push([kind, ms]) });
    const first = gate();
    const a = queue.run('stats', first.task);
    const b = queue.run('help', async () => undefined);
    clock = 250;
    first.open();
    await Promise.all([a, b]);
    expect(waits).toEqual([
      ['stats', 0],
      ['help', 250],
    ]);
  });

  it('a failing task rejects its own caller and frees its slot', async () => {
    const queue = createWorkQueue({ concurrency: 1 });
    const failing = queue.run('x', () => {
      throw new Error('boom');
    });
    const after = queue.run('x', async () => 'ran');
    await expect(failing).rejects.toThrow('boom');
    await expect(after).resolves.toBe('ran');
    await queue.idle();
    expect(queue.running).toBe(0);
  });

  it('refuses a concurrency below 1', () => {
    expect(() => createWorkQueue({ concurrency: 0 })).toThrow(/at least 1/);
  });

  it('work that waits on a rate limit lends its slot: the next tasks start while it waits, and it takes one back after', async () => {
    const queue = createWorkQueue({ concurrency: 1 });
    const limit = gate();
    const after = gate();
    const order: string[] = [];
    const waiting = queue.run('stats', async () => {
      order.push('stats starts');
      await queue.whileWaiting(() => limit.task());
      order.push('stats goes on');
      await after.task();
      order.push('stats done');
    });
    const help = queue.run('help', async () => order.push('help'));
    const other = queue.run('help', async () => order.push('help again'));
    await help;
    await other;
    expect(order).toEqual(['stats starts', 'help', 'help again']);
    limit.open();
    await vi.waitFor(() => expect(order.at(-1)).toBe('stats goes on'));
    // Back from its wait, the task holds a slot again: the next one waits for it.
    const later = queue.run('help', async () => order.push('help later'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order.at(-1)).toBe('stats goes on');
    expect(queue.running).toBe(1);
    after.open();
    await waiting;
    await later;
    expect(order.slice(-2)).toEqual(['stats done', 'help later']);
  });
});
