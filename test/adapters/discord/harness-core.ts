import { features } from '../../../src/core/features/index.js';
import { createCore, type Core } from '../../../src/core/router.js';
import type { Db } from '../../../src/db/client.js';
import { testLibrary } from '../../support/core.js';
import { silentLogger } from '../../support/log.js';

/** A core for tests that only read its command registry and the routine library (no query ever runs). */
export function coreWithoutDb(): { core: Core } {
  return {
    core: createCore(
      { db: {} as Db, log: silentLogger(), now: () => new Date(), privacyFloor: 5, library: testLibrary() },
      features,
    ),
  };
}
