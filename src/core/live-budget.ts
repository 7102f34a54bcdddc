import type { LiveSessionState } from './live-session-state.js';

/**
 * How often a live session may edit its message. The engine asks before every frame and before the final
 * message; platforms plug in their own (Slack: a per-workspace chat.update window with a reserve for final
 * messages; Discord: one edit window). Methods may be async so a budget shared across processes (kept in the
 * database) can be plugged in without changing the engine.
 */
export interface LiveBudget {
  /** Whether this session should stop showing frames and show its static version instead (checked first). */
  prefersStatic?(session: LiveSessionState, peers: number): boolean | Promise<boolean>;
  /** Takes one edit for this frame, or says no: the frame is skipped (the next one replaces it anyway). */
  takeFrame(session: LiveSessionState, peers: number): boolean | Promise<boolean>;
  /** Takes one edit for the final message and returns 0, or returns how many ms to wait before asking again. */
  takeFinal(session: LiveSessionState): number | Promise<number>;
  /** The platform answered "too many requests": spend nothing more for this session's scope for `ms`. */
  pause(session: LiveSessionState, ms: number): void | Promise<void>;
}

/** For surfaces that redraw for free (a terminal). */
export const unlimitedBudget: LiveBudget = {
  takeFrame: () => true,
  takeFinal: () => 0,
  pause: () => undefined,
};
