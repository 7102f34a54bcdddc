import type { Logger } from '../config/logger.js';
import { unlimitedBudget, type LiveBudget } from './live-budget.js';
import type { LiveSessionState } from './live-session-state.js';
import type { Frame, Sequence } from './reply.js';
import { playSequence, type SequenceOutcome } from './sequence-player.js';

export type LiveOutcome = SequenceOutcome | 'failed';

/** How an adapter sorts an edit that threw (Slack's and Discord's errors differ; the engine's rules do not). */
export type EditFailure =
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** Retrying cannot help (the message or the access is gone): the session ends as 'failed'. */
  | { kind: 'permanent'; reason?: string }
  /** This edit is lost; the next frame tries again. */
  | { kind: 'transient'; reason?: string };

type Completion = NonNullable<Sequence['onComplete']>;

/** What an adapter supplies to play one sequence on its platform: its message and how to edit it. */
export interface LiveSurface<Ref = unknown, Final = unknown> {
  /** Posts the first frame when the session has no message yet, and says where it is (free of the budget). */
  open?(frame: Frame, session: LiveSessionState<Ref>): Promise<Ref> | Ref;
  /** The adapter's edit: shows a frame, or the static version, on the session's message; may say where it moved. */
  edit(frame: Frame, index: number, session: LiveSessionState<Ref>): Promise<Ref | void> | Ref | void;
  /** Per-second countdown inside a frame, for surfaces that redraw for free (see PlayOptions.tick). */
  tick?(frame: Frame, index: number, remainingMs: number): Promise<void> | void;
  /**
   * Called once when the last frame has played: sends `onComplete` to the core as a button press would, and
   * returns the message to end with (nothing: leave the message as it is).
   */
  complete?(
    onComplete: Completion | undefined,
    session: LiveSessionState<Ref>,
  ): Promise<Final | null | void> | Final | null | void;
  /** Shows the final message (through the budget's `takeFinal`, retried up to `finalAttempts`). */
  finish?(final: Final, session: LiveSessionState<Ref>): Promise<void>;
  /** Sorts a failed edit; by default every failure is permanent. */
  classify?(error: unknown): EditFailure;
  /** Told how it ended, after the completion (e.g. to end the terminal's live line). */
  onEnd?(outcome: LiveOutcome): Promise<void> | void;
}

export interface LiveStart<Ref> {
  user?: string | undefined;
  scope?: string | undefined;
  /** An existing message to play on (its first frame is an edit, not a post). */
  message?: Ref | undefined;
  /** 'static': the adapter chose the written-out version from the start. */
  mode?: 'live' | 'static';
  /** The adapter already shows the first frame (or the static version): the engine does not show it again. */
  shown?: boolean;
}

export interface LiveSession<Ref = unknown> {
  readonly sessionId: string;
  readonly state: Readonly<LiveSessionState<Ref>>;
  /** Resolves once the session is over and its completion (if any) was shown; never rejects. */
  readonly done: Promise<LiveOutcome>;
  stop(): void;
}

export interface LiveStats {
  /** Frames edited in live. */
  frameUpdates: number;
  /** Frames not shown: no budget, a failed edit, or replaced by a newer frame while an edit was in flight. */
  skippedFrames: number;
  staticStarts: number;
  staticFallbacks: number;
  finals: number;
  rateLimited: number;
}

export interface LiveSessionsOptions {
  /** Multiplies frame durations (BACKCARE_TIME_SCALE). */
  timeScale?: number | undefined;
  /** Countdown tick interval in unscaled ms; only used when the surface has `tick`. */
  tickMs?: number;
  budget?: LiveBudget;
  /** Tries for the final message; it also waits for budget and obeys Retry-After between tries. */
  finalAttempts?: number;
  /** Names the platform in logs. */
  platform?: string;
  log?: Logger | undefined;
  now?: (() => number) | undefined;
  setTimer?: ((callback: () => void, ms: number) => unknown) | undefined;
  clearTimer?: ((handle: unknown) => void) | undefined;
}

interface Entry<Ref> {
  state: LiveSessionState<Ref>;
  controller: AbortController;
  /** A permanent edit failure: the session ends as 'failed'. */
  failed: boolean;
  session: LiveSession<Ref>;
}

/**
 * Only the newest frame matters: one edit in flight per session; a frame arriving meanwhile waits, and a newer
 * one replaces it. The pacing never waits for the platform.
 */
class LatestEdit {
  #inFlight: Promise<void> | null = null;
  #pending: (() => Promise<void>) | null = null;

  constructor(private readonly onReplaced: () => void) {}

  push(job: () => Promise<void>): void {
    if (this.#inFlight) {
      if (this.#pending) this.onReplaced();
      this.#pending = job;
      return;
    }
    this.#inFlight = job().then(() => {
      this.#inFlight = null;
      const next = this.#pending;
      this.#pending = null;
      if (next) this.push(next);
    });
  }

  async drain(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }
}

/**
 * The one live-session engine: plays a sequence frame by frame through a surface's `edit`, under a budget. The
 * rules are the same on every platform: one session per sessionId (a new sequence for it stops the old one
 * before its next frame); stop() cancels every pending update; a frame the budget refuses is skipped, never
 * queued; a budget that cannot keep up switches the session to its static version; a sequence that plays to
 * its end runs its completion and shows the final message, which waits for budget rather than being dropped.
 * Each session's state is a plain value (LiveSessionState).
 */
export class LiveSessions<Ref = unknown, Final = unknown> {
  readonly stats: LiveStats = {
    frameUpdates: 0,
    skippedFrames: 0,
    staticStarts: 0,
    staticFallbacks: 0,
    finals: 0,
    rateLimited: 0,
  };
  /** Sessions still playing frames, by sessionId: what a new sequence or a Stop replaces. */
  readonly #playing = new Map<string, Entry<Ref>>();
  /** Every session not yet over, completions included. */
  readonly #running = new Set<Entry<Ref>>();
  readonly #options: LiveSessionsOptions;
  readonly #budget: LiveBudget;
  readonly #now: () => number;

  constructor(options: LiveSessionsOptions = {}) {
    this.#options = options;
    this.#budget = options.budget ?? unlimitedBudget;
    this.#now = options.now ?? Date.now;
  }

  /** Sessions not yet over (playing or completing). */
  get size(): number {
    return this.#running.size;
  }

  has(sessionId: string): boolean {
    return this.#playing.has(sessionId);
  }

  /** Sessions not yet over whose edits count against this scope's budget. */
  count(scope: string | undefined): number {
    let n = 0;
    for (const entry of this.#running) if (entry.state.scope === scope) n += 1;
    return n;
  }

  /** The states of the sessions still playing frames, for lookups by message or person. */
  find(match: (state: Readonly<LiveSessionState<Ref>>) => boolean): LiveSession<Ref>[] {
    return [...this.#playing.values()].filter((e) => match(e.state)).map((e) => e.session);
  }

  play(sequence: Sequence, surface: LiveSurface<Ref, Final>, start: LiveStart<Ref> = {}): LiveSession<Ref> {
    this.stop(sequence.sessionId);
    const mode = start.mode ?? 'live';
    const state: LiveSessionState<Ref> = {
      sessionId: sequence.sessionId,
      user: start.user,
      scope: start.scope,
      sequence,
      message: start.message,
      step: -1,
      nextFrameAt: this.#now(),
      mode,
      staticShown: mode === 'static' && start.shown === true,
    };
    if (mode === 'static') this.stats.staticStarts += 1;
    const controller = new AbortController();
    const entry = { state, controller, failed: false } as Entry<Ref>;
    this.#playing.set(sequence.sessionId, entry);
    this.#running.add(entry);
    entry.session = {
      sessionId: sequence.sessionId,
      state,
      done: this.#run(entry, surface, start.shown === true),
      stop: () => controller.abort(),
    };
    return entry.session;
  }

  /** Cancels what is pending for this session; true if something was playing. */
  stop(sessionId: string): boolean {
    const entry = this.#playing.get(sessionId);
    if (!entry) return false;
    this.#playing.delete(sessionId);
    entry.controller.abort();
    return true;
  }

  /** Stops the playing sessions that match (a press on their message); returns them to await their end. */
  stopWhere(match: (state: Readonly<LiveSessionState<Ref>>) => boolean): LiveSession<Ref>[] {
    const sessions = this.find(match);
    for (const session of sessions) this.stop(session.sessionId);
    return sessions;
  }

  /** Waits until nothing is playing (including sessions started by completions). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running].map((e) => e.session.done));
  }

  /** Stops everything, completions waiting for budget included (shutdown), and waits for them to wind down. */
  async stopAll(): Promise<void> {
    const entries = [...this.#running];
    this.#playing.clear();
    for (const entry of entries) entry.controller.abort();
    await Promise.all(entries.map((e) => e.session.done));
  }

  async #run(entry: Entry<Ref>, surface: LiveSurface<Ref, Final>, firstShown: boolean): Promise<LiveOutcome> {
    const { state, controller } = entry;
    const edits = new LatestEdit(() => (this.stats.skippedFrames += 1));
    const { timeScale, setTimer, clearTimer } = this.#options;
    let outcome: LiveOutcome;
    try {
      const played = await playSequence(state.sequence, {
        show: (frame, index) => this.#frame(entry, surface, edits, frame, index, firstShown),
        ...(surface.tick ? { tick: surface.tick, tickMs: this.#options.tickMs ?? 1000 } : {}),
        signal: controller.signal,
        ...(timeScale !== undefined ? { timeScale } : {}),
        ...(setTimer ? { setTimer } : {}),
        ...(clearTimer ? { clearTimer } : {}),
      });
      outcome = entry.failed ? 'failed' : played;
    } catch (error) {
      this.#warn('live_session.show_failed', state, error, 'live session could not show a frame');
      outcome = 'failed';
    }
    // A late frame must not land on top of what ends the session (a Stop's answer, the final message).
    await edits.drain();
    state.nextFrameAt = null;
    // Leave the registry before completing, so the completion may itself start a new sequence for the person.
    if (this.#playing.get(state.sessionId) === entry) this.#playing.delete(state.sessionId);
    if (outcome === 'completed') outcome = await this.#complete(entry, surface);
    try {
      await surface.onEnd?.(outcome);
    } catch (error) {
      this.#warn('live_session.end_failed', state, error, 'live session end hook failed');
    }
    this.#running.delete(entry);
    return outcome;
  }

  async #frame(
    entry: Entry<Ref>,
    surface: LiveSurface<Ref, Final>,
    edits: LatestEdit,
    frame: Frame,
    index: number,
    firstShown: boolean,
  ): Promise<void> {
    const { state } = entry;
    state.step = index;
    state.nextFrameAt = this.#now() + frame.ms * (this.#options.timeScale ?? 1);
    if ((index === 0 && firstShown) || state.staticShown) return;
    if (state.message === undefined && surface.open) {
      // Posting is not an edit: it spends no budget, and a failure ends the session.
      state.message = await surface.open(state.mode === 'static' ? this.#staticFrame(state, frame) : frame, state);
      if (state.mode === 'static') state.staticShown = true;
      return;
    }
    const peers = this.count(state.scope);
    if (state.mode === 'live' && (await this.#budget.prefersStatic?.(state, peers))) {
      state.mode = 'static';
      this.stats.staticFallbacks += 1;
    }
    if (!(await this.#budget.takeFrame(state, peers))) {
      this.stats.skippedFrames += 1;
      return;
    }
    const live = state.mode === 'live';
    const shown = live ? frame : this.#staticFrame(state, frame);
    // Claimed now so the next frame does not queue the static version a second time; given back if it fails.
    if (!live) state.staticShown = true;
    edits.push(async () => {
      if (entry.controller.signal.aborted) return;
      try {
        const moved = await surface.edit(shown, index, state);
        if (moved !== undefined) state.message = moved;
        if (live) this.stats.frameUpdates += 1;
      } catch (error) {
        if (!live) state.staticShown = false;
        await this.#editFailed(entry, surface, error);
      }
    });
  }

  #staticFrame(state: LiveSessionState<Ref>, frame: Frame): Frame {
    return { ms: frame.ms, blocks: state.sequence.staticBlocks };
  }

  async #editFailed(entry: Entry<Ref>, surface: LiveSurface<Ref, Final>, error: unknown): Promise<void> {
    const failure = surface.classify?.(error) ?? { kind: 'permanent' };
    if (failure.kind === 'rate_limited') {
      this.stats.rateLimited += 1;
      this.#options.log?.warn(
        { event: 'live_session.rate_limited', platform: this.#options.platform, retryAfterMs: failure.retryAfterMs },
        'live session edit rate limited',
      );
      await this.#budget.pause(entry.state, failure.retryAfterMs);
      return;
    }
    this.#warn('live_session.edit_failed', entry.state, error, 'live session edit failed');
    if (failure.kind === 'transient') {
      this.stats.skippedFrames += 1;
      return;
    }
    entry.failed = true;
    entry.controller.abort();
  }

  /** Runs the completion and shows the final message; 'completed' only once that message is shown. */
  async #complete(entry: Entry<Ref>, surface: LiveSurface<Ref, Final>): Promise<LiveOutcome> {
    const { state } = entry;
    let final: Final | null | void;
    try {
      final = await surface.complete?.(state.sequence.onComplete, state);
    } catch (error) {
      this.#options.log?.error(
        {
          event: 'live_session.complete_failed',
          platform: this.#options.platform,
          sessionId: state.sessionId,
          err: error,
        },
        'live session completion failed',
      );
      return 'failed';
    }
    if (final === null || final === undefined || !surface.finish) return 'completed';
    return (await this.#deliverFinal(entry, surface, surface.finish.bind(surface), final)) ? 'completed' : 'failed';
  }

  /** The final message always gets through if it can: it waits for budget, obeys Retry-After, backs off. */
  async #deliverFinal(
    entry: Entry<Ref>,
    surface: LiveSurface<Ref, Final>,
    finish: (final: Final, session: LiveSessionState<Ref>) => Promise<void>,
    final: Final,
  ): Promise<boolean> {
    const { state, controller } = entry;
    const attempts = this.#options.finalAttempts ?? 1;
    for (let attempt = 0; attempt < attempts && !controller.signal.aborted; attempt += 1) {
      const wait = await this.#budget.takeFinal(state);
      if (wait > 0) {
        await this.#sleep(wait, controller.signal);
        attempt -= 1; // waiting for budget is not a failed attempt
        continue;
      }
      try {
        await finish(final, state);
        this.stats.finals += 1;
        return true;
      } catch (error) {
        const failure = surface.classify?.(error) ?? { kind: 'permanent' };
        this.#warn('live_session.final_failed', state, error, 'live session final message failed');
        if (failure.kind === 'permanent') break;
        if (failure.kind === 'rate_limited') {
          this.stats.rateLimited += 1;
          await this.#budget.pause(state, failure.retryAfterMs);
        }
        if (attempt + 1 < attempts)
          await this.#sleep(
            failure.kind === 'rate_limited' ? failure.retryAfterMs : 1000 * 2 ** attempt,
            controller.signal,
          );
      }
    }
    this.#options.log?.warn(
      { event: 'live_session.final_lost', platform: this.#options.platform, sessionId: state.sessionId },
      'could not show the final message of a live session',
    );
    return false;
  }

  /** A wait that shutdown cuts short. */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    const setTimer = this.#options.setTimer ?? ((cb: () => void, t: number) => setTimeout(cb, t));
    const clearTimer = this.#options.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => {
        clearTimer(handle);
        resolve();
      };
      const handle = setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #warn(event: string, state: LiveSessionState<Ref>, error: unknown, message: string): void {
    this.#options.log?.warn(
      { event, platform: this.#options.platform, sessionId: state.sessionId, err: error },
      message,
    );
  }
}
