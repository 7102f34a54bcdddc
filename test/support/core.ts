import type { Logger } from '../../src/config/logger.js';
import type { CoreDeps } from '../../src/core/command.js';
import { features } from '../../src/core/features/index.js';
import type { Reply } from '../../src/core/reply.js';
import type { Actor, CoreInput } from '../../src/core/request.js';
import { createCore, type Core } from '../../src/core/router.js';
import type { Db } from '../../src/db/client.js';
import { silentLogger } from './log.js';
import { nextDailyAt, nextSlot } from '../../src/jobs/slots.js';
import { loadRoutineLibrary } from '../../src/core/content/loader.js';
import type { RoutineLibrary } from '../../src/core/content/library.js';

/** A mutable clock tests can move. */
export function testClock(start = new Date('2026-03-02T10:00:00Z')): {
  now: () => Date;
  set(d: Date): void;
  advance(ms: number): void;
} {
  let current = start;
  return {
    now: () => current,
    set: (d) => (current = d),
    advance: (ms) => (current = new Date(current.getTime() + ms)),
  };
}

export function testActor(overrides: Partial<Actor> = {}): Actor {
  return {
    platform: 'console',
    workspaceExternalId: 'local',
    userExternalId: 'you',
    displayName: 'you',
    timezone: 'Europe/London',
    isAdmin: true,
    ...overrides,
  };
}

let sharedLibrary: RoutineLibrary | undefined;
/** The real routine library from content/, loaded once per test file. */
export function testLibrary(): RoutineLibrary {
  sharedLibrary ??= loadRoutineLibrary();
  return sharedLibrary;
}

/** A core with the real routine library; pass `deps: { library: undefined }` to test without one. */
export function buildTestCore(
  db: Db,
  options: { now?: () => Date; log?: Logger; deps?: Partial<CoreDeps> } = {},
): Core {
  return createCore(
    {
      db,
      log: options.log ?? silentLogger(),
      now: options.now ?? (() => new Date()),
      privacyFloor: 5,
      nextSlot,
      nextDailyAt,
      library: testLibrary(),
      ...options.deps,
    },
    features,
  );
}

/** Sends one input as `actor` and returns the reply. */
export function ask(core: Core, input: CoreInput | string, actor: Actor = testActor()): Promise<Reply> {
  return core.handle({ actor, input: typeof input === 'string' ? { kind: 'command', text: input } : input });
}

/** The action on a reply with this id (and label, if several share it); fails the test if absent. */
export function button(reply: Reply, actionId: string, label?: string): { actionId: string; value: string } {
  const found = reply.actions.find(
    (a) => a.actionId === actionId && (label === undefined || (a.type === 'button' && a.label === label)),
  );
  if (!found || found.type !== 'button') throw new Error(`no button ${actionId} in reply "${reply.summary}"`);
  return { actionId: found.actionId, value: found.value };
}
