import type { Logger } from '../config/logger.js';
import { within } from './runtime.js';

/** A repeat of the same signal within this window is a duplicate delivery (npm forwarding), not a second request. */
const REPEAT_SIGNAL_MS = 2_000;

export interface SignalHandlerOptions {
  stop: () => Promise<void>;
  log: Logger;
  /** How long in-flight replies and claimed deliveries get to finish. */
  graceMs: number;
  exit: (code: number) => void;
  now?: () => number;
}

/**
 * SIGTERM/SIGINT: stop taking work, drain within the grace period, exit 0 when clean. Under `npm start` a Ctrl-C,
 * `kill -- -PGID` or a systemd stop reaches npm and node at once and npm forwards it too, so the same signal twice
 * within milliseconds is one request; a deliberate second signal later (or a different one) means "now".
 */
export function createSignalHandler(options: SignalHandlerOptions): (signal: NodeJS.Signals) => void {
  const { log, exit } = options;
  const now = options.now ?? Date.now;
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  return (signal) => {
    if (first) {
      if (signal === first.signal && now() - first.at < REPEAT_SIGNAL_MS) {
        log.debug({ event: 'shutdown.repeat_ignored', signal }, 'same signal again right away: already shutting down');
        return;
      }
      log.warn({ event: 'shutdown.forced', signal }, 'second signal: exiting without waiting');
      exit(1);
      return;
    }
    first = { signal, at: now() };
    log.info({ event: 'shutdown', signal }, 'shutting down: no new work, finishing in-flight replies and deliveries');
    // Bounded: a stuck platform call must not keep a container from stopping (orchestrators SIGKILL after ~30 s).
    void within(options.stop(), options.graceMs).then((clean) => {
      if (clean) log.info({ event: 'shutdown.done' }, 'stopped cleanly');
      else log.error({ event: 'shutdown.timeout', ms: options.graceMs }, 'shutdown took too long; exiting anyway');
      exit(clean ? 0 : 1);
    });
  };
}
