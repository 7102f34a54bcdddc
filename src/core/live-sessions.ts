import type { Logger } from '../config/logger.js';
import type { Frame, Sequence } from './reply.js';
import { playSequence, type SequenceOutcome } from './sequence-player.js';

export type LiveOutcome = SequenceOutcome | 'failed';

/** What an adapter supplies to play one sequence on its platform. */
export interface LiveSessionCallbacks {
  /** Shows a frame: edit the message, rewrite the terminal line. A throw ends the session as 'failed'. */
  show(frame: Frame, index: number): Promise<void> | void;
  /** Per-second countdown inside a frame, for adapters that can redraw cheaply (see PlayOptions.tick). */
  tick?(frame: Frame, index: number, remainingMs: number): Promise<void> | void;
  /** Sends the sequence's `onComplete` to the core, exactly as a button press would be sent. */
  dispatch?(action: { actionId: string; value: string }): Promise<void> | void;
  /** Told how it ended, after any dispatch (e.g. to remove the Stop button from a chat message). */
  onEnd?(outcome: LiveOutcome): Promise<void> | void;
}

export interface LiveSession {
  readonly sessionId: string;
  /** Resolves once the session is over and its completion (if any) was dispatched; never rejects. */
  readonly done: Promise<LiveOutcome>;
  stop(): void;
}

export interface LiveSessionsOptions {
  /** Multiplies frame durations (BACKCARE_TIME_SCALE). */
  timeScale?: number;
  /** Countdown tick interval in unscaled ms; only used when the callbacks have `tick`. */
  tickMs?: number;
  log?: Logger;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

interface Entry {
  controller: AbortController;
  session: LiveSession;
}

/**
 * The sessions playing right now, keyed by the sequence's sessionId (one per person). Platform-neutral: every
 * adapter plays sequences through it so the rules are the same everywhere: a new sequence for the same
 * sessionId stops the old one before its next frame; stop() cancels every pending update; a sequence that
 * plays to its end dispatches its onComplete.
 */
export class LiveSessions {
  readonly #entries = new Map<string, Entry>();
  readonly #options: LiveSessionsOptions;

  constructor(options: LiveSessionsOptions = {}) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(sessionId: string): boolean {
    return this.#entries.has(sessionId);
  }

  play(sequence: Sequence, callbacks: LiveSessionCallbacks): LiveSession {
    this.stop(sequence.sessionId);
    const controller = new AbortController();
    const { log } = this.#options;
    const run = async (): Promise<LiveOutcome> => {
      let outcome: LiveOutcome;
      try {
        outcome = await playSequence(sequence, {
          show: callbacks.show,
          ...(callbacks.tick ? { tick: callbacks.tick, tickMs: this.#options.tickMs ?? 1000 } : {}),
          signal: controller.signal,
          ...(this.#options.timeScale !== undefined ? { timeScale: this.#options.timeScale } : {}),
          ...(this.#options.setTimer ? { setTimer: this.#options.setTimer } : {}),
          ...(this.#options.clearTimer ? { clearTimer: this.#options.clearTimer } : {}),
        });
      } catch (error) {
        log?.warn(
          { event: 'live_session.show_failed', sessionId: sequence.sessionId, err: error },
          'live session could not show a frame',
        );
        outcome = 'failed';
      }
      // Leave the registry before dispatching, so the completion reply may itself start a new sequence.
      if (this.#entries.get(sequence.sessionId)?.controller === controller) this.#entries.delete(sequence.sessionId);
      if (outcome === 'completed' && sequence.onComplete && callbacks.dispatch) {
        try {
          await callbacks.dispatch(sequence.onComplete);
        } catch (error) {
          log?.error(
            { event: 'live_session.dispatch_failed', sessionId: sequence.sessionId, err: error },
            'live session completion failed',
          );
        }
      }
      try {
        await callbacks.onEnd?.(outcome);
      } catch (error) {
        log?.warn(
          { event: 'live_session.end_failed', sessionId: sequence.sessionId, err: error },
          'live session end hook failed',
        );
      }
      return outcome;
    };
    const session: LiveSession = {
      sessionId: sequence.sessionId,
      done: run(),
      stop: () => controller.abort(),
    };
    this.#entries.set(sequence.sessionId, { controller, session });
    return session;
  }

  /** Cancels what is pending for this session; true if something was playing. */
  stop(sessionId: string): boolean {
    const entry = this.#entries.get(sessionId);
    if (!entry) return false;
    this.#entries.delete(sessionId);
    entry.controller.abort();
    return true;
  }

  /** Waits until nothing is playing (including sessions started by completions). */
  async idle(): Promise<void> {
    while (this.#entries.size > 0) {
      await Promise.all([...this.#entries.values()].map((e) => e.session.done));
    }
  }

  /** Stops everything (shutdown) and waits for the sessions to wind down. */
  async stopAll(): Promise<void> {
    const sessions = [...this.#entries.values()].map((e) => e.session);
    for (const id of [...this.#entries.keys()]) this.stop(id);
    await Promise.all(sessions.map((s) => s.done));
  }
}
