import { describe, expect, it, vi } from 'vitest';
import { keepWarmingUp, warmUpAckPath } from '../../../adapters/slack/warm-up.js';
import type { Db } from '../../../src/db/client.js';
import { buildTestCore } from '../../support/core.js';
import { captureLogger } from '../../support/log.js';

/** Any use of the database during the warm-up fails the test: it must do no I/O. */
const noDatabase = new Proxy({} as Db, {
  get(_target, property) {
    throw new Error(`the warm-up touched the database (${String(property)})`);
  },
});

describe('Slack ack path warm-up at start', () => {
  it('runs the triage modal and the settings check on Slack-shaped payloads, valid and not, and nothing else', () => {
    const logs = captureLogger();
    const onHandled = vi.fn();
    const core = buildTestCore(noDatabase, { log: logs.log, deps: { onHandled } });
    const instantReply = vi.spyOn(core, 'instantReply');
    const checkSubmit = vi.spyOn(core, 'checkSubmit');
    const handle = vi.spyOn(core, 'handle');
    const warmed = warmUpAckPath(core, { rounds: 4, maxMs: 60_000 });
    expect(warmed.rounds).toBe(4);
    expect(handle).not.toHaveBeenCalled();
    // Rehearsals: not in the request log nor in the metrics' command counts.
    expect(onHandled).not.toHaveBeenCalled();
    expect(logs.lines().filter((l) => l.event === 'request.handled')).toEqual([]);
    // `/backcare triage` opens its first modal without I/O, as the real command does.
    const forms = instantReply.mock.results.map((r) => (r.value as { form?: { formId: string } } | null)?.form?.formId);
    expect(forms).toContain('triage.screen');
    // The settings submission is the form's real shape: accepted as it is, refused with the wrong field.
    const found = checkSubmit.mock.results.map((r) => r.value as Record<string, string>);
    expect(found).toHaveLength(4);
    expect(found.filter((errors) => Object.keys(errors).length === 0)).toHaveLength(2);
    expect(found.filter((errors) => Object.keys(errors).join() === 'everyMinutes')).toHaveLength(2);
  });

  it('stops at its time bound, so a slow machine does not start much later', () => {
    const core = buildTestCore(noDatabase);
    let clock = 0;
    const warmed = warmUpAckPath(core, { rounds: 1000, maxMs: 80, now: () => (clock += 10) });
    expect(warmed.rounds).toBeLessThan(10);
    expect(warmed.rounds).toBeGreaterThan(0);
  });

  describe('once the app has started', () => {
    it('runs its rounds in slices, each only once no burst is waiting for its acks', async () => {
      const core = buildTestCore(noDatabase);
      const checkSubmit = vi.spyOn(core, 'checkSubmit');
      const handle = vi.spyOn(core, 'handle');
      // A burst under way: the receiver's quiet() stays pending until its acks are out.
      let acked: () => void = () => undefined;
      let quietCalls = 0;
      let burst: Promise<void> | null = new Promise<void>((resolve) => (acked = resolve));
      const quiet = () => {
        quietCalls += 1;
        return burst ?? Promise.resolve();
      };
      const warming = keepWarmingUp(core, { quiet, rounds: 40, sliceMs: 0 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(quietCalls).toBe(1);
      expect(checkSubmit).not.toHaveBeenCalled();
      burst = null;
      acked();
      await expect(warming.done).resolves.toBe(40);
      // sliceMs 0: one round per slice, each slice after its own quiet().
      expect(quietCalls).toBe(40);
      expect(checkSubmit).toHaveBeenCalledTimes(40);
      expect(handle).not.toHaveBeenCalled();
    });

    it('ends at stop, before its rounds are done (a stopping adapter)', async () => {
      const core = buildTestCore(noDatabase);
      let slices = 0;
      const warming = keepWarmingUp(core, {
        quiet: () => {
          slices += 1;
          if (slices === 3) warming.stop();
          return Promise.resolve();
        },
        rounds: 1000,
        sliceMs: 0,
      });
      await expect(warming.done).resolves.toBe(2);
    });
  });
});
