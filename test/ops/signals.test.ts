import { expect, it } from 'vitest';
import { createSignalHandler } from '../../src/ops/signals.js';
import { captureLogger } from '../support/log.js';

function setup() {
  const logs = captureLogger();
  let clock = 0;
  let finish!: () => void;
  const stopping = new Promise<void>((resolve) => (finish = resolve));
  const exits: number[] = [];
  const handle = createSignalHandler({
    stop: () => stopping,
    log: logs.log,
    graceMs: 5_000,
    exit: (code) => exits.push(code),
    now: () => clock,
  });
  return { logs, handle, exits, finish, advance: (ms: number) => (clock += ms) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

it('the same signal delivered twice at once (npm forwarding it to node) is one request: the drain finishes and the exit is 0', async () => {
  const s = setup();
  s.handle('SIGTERM');
  s.advance(19);
  s.handle('SIGTERM');
  await settle();
  expect(s.exits).toEqual([]);
  s.finish();
  await settle();
  expect(s.exits).toEqual([0]);
  expect(s.logs.lines().map((l) => l.event)).toEqual(['shutdown', 'shutdown.repeat_ignored', 'shutdown.done']);
});

it('a deliberate second signal later, or a different one, means now: exit 1 without waiting', async () => {
  const later = setup();
  later.handle('SIGINT');
  later.advance(3_000);
  later.handle('SIGINT');
  expect(later.exits).toEqual([1]);
  const other = setup();
  other.handle('SIGTERM');
  other.advance(5);
  other.handle('SIGINT');
  expect(other.exits).toEqual([1]);
});
