import type { Logger } from '../config/logger.js';
import { unlimitedBudget, type LiveBudget } from './live-budget.js';
import type { LiveSessionState } from './live-session-state.js';
import type { ClaimedSession, LiveSessionStore, RenewResult } from './live-session-store.js';
import { text, type Block, type Frame, type Sequence } from './reply.js';
import { playSequence, type PlayOptions, type SequenceOutcome } from './sequence-player.js';

/** 'handed_over': this replica let go of it (shutdown, or another replica holds it now); it carries on elsewhere. */
export type LiveOutcome = SequenceOutcome | 'failed' | 'handed_over';

/** What a session that was taken over too late ends with, instead of a stale frame left on screen. */
export const INTERRUPTED_BLOCKS: Block[] = [
  text(
    '*This session was interrupted* (Backcare was restarting) and could not carry on where it left off. Start a new one any time with `/backcare help`.',
  ),
];

/** An edit is only sent this long (at most half the grace) before the lease we know of runs out (skew, a slow request). */
const LEASE_MARGIN_MS = 1000;
/** How long a press on another replica waits for the session's player to stop. */
const REMOTE_STOP_WAIT_MS = 1500;

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
  /** A session taken over too late to carry on: shows `blocks` on its message instead (no buttons). */
  interrupted?(blocks: Block[], session: LiveSessionState<Ref>): Promise<void>;
}

/** Rebuilds the surface of a session another replica started, from its stored state; null: it cannot be played. */
export type RestoreSurface<Ref, Final> = (state: LiveSessionState<Ref>) => LiveSurface<Ref, Final> | null;

export interface LiveStart<Ref> {
  user?: string | undefined;
  scope?: string | undefined;
  /** An existing message to play on (its first frame is an edit, not a post). */
  message?: Ref | undefined;
  /** 'static': the adapter chose the written-out version from the start. */
  mode?: 'live' | 'static';
  /** The adapter already shows the first frame (or the static version): the engine does not show it again. */
  shown?: boolean;
  /** Stored with the session so another replica can rebuild its surface (see RestoreSurface). */
  context?: unknown;
}

export interface LiveSession<Ref = unknown> {
  readonly sessionId: string;
  readonly state: Readonly<LiveSessionState<Ref>>;
  /** Resolves once the session is over and its completion (if any) was shown; never rejects. */
  readonly done: Promise<LiveOutcome>;
  /**
   * Resolves once its first frame was dealt with (posted, edited, shown by the adapter or skipped) or it is over:
   * what a caller bounding concurrent starts waits for, rather than the whole session.
   */
  readonly started: Promise<void>;
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
  /** Sessions this replica took over from the store and played on. */
  takenOver: number;
  /** Sessions released to another replica (shutdown). */
  handedOver: number;
  /** Sessions taken over too late, ended with INTERRUPTED_BLOCKS. */
  interrupted: number;
  /** Stops requested on another replica that ended a session here. */
  remoteStops: number;
}

export interface LiveSessionsOptions<Ref = unknown> {
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
  /** Keeps sessions in the database so they outlive this process (replicas, deploys); memory only without it. */
  store?: LiveSessionStore | undefined;
  /** Names a session's message, so a press that reaches another replica finds the session (with `store`). */
  messageKey?: ((ref: Ref) => string) | undefined;
  /** A lease runs this long past the next frame's due time (real ms): how soon a dead player's session moves. */
  leaseGraceMs?: number | undefined;
  /** A session whose frame was due longer ago than this (real ms) is not resumed but ended with a message. */
  staleAfterMs?: number | undefined;
}

interface Entry<Ref> {
  state: LiveSessionState<Ref>;
  controller: AbortController;
  /** A permanent edit failure: the session ends as 'failed'. */
  failed: boolean;
  session: LiveSession<Ref>;
  /** The store's lease: only its holder edits the message. */
  lease?: string | undefined;
  /** Until when the lease is known to be ours (epoch ms). */
  leaseUntil: number;
  /** It ends here without its completion: released to another replica, or another one holds it now. */
  leaving?: 'hand_over' | 'lost';
  /** Its completion ran and its final message (if any) was shown: nothing is left for another replica. */
  finished?: boolean;
  /** Resolves `session.started`. */
  markStarted: () => void;
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
    takenOver: 0,
    handedOver: 0,
    interrupted: 0,
    remoteStops: 0,
  };
  /** Sessions still playing frames, by sessionId: what a new sequence or a Stop replaces. */
  readonly #playing = new Map<string, Entry<Ref>>();
  /** Every session not yet over, completions included. */
  readonly #running = new Set<Entry<Ref>>();
  readonly #options: LiveSessionsOptions<Ref>;
  /** Set by handOver (shutdown): a session started after it (work queued before the signal) is handed over too. */
  #handingOver = false;
  readonly #budget: LiveBudget;
  readonly #now: () => number;

  constructor(options: LiveSessionsOptions<Ref> = {}) {
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
      ...(start.context !== undefined ? { context: start.context } : {}),
    };
    if (mode === 'static') this.stats.staticStarts += 1;
    return this.#register(state, surface, { firstShown: start.shown === true });
  }

  /** Plays on a session claimed from the store (another replica started it), from where it got to. */
  resume(claimed: ClaimedSession, surface: LiveSurface<Ref, Final>): LiveSession<Ref> {
    const state = claimed.state as LiveSessionState<Ref>;
    this.stop(state.sessionId);
    this.stats.takenOver += 1;
    return this.#register(state, surface, { firstShown: false, lease: claimed.lease });
  }

  #register(
    state: LiveSessionState<Ref>,
    surface: LiveSurface<Ref, Final>,
    how: { firstShown: boolean; lease?: string },
  ): LiveSession<Ref> {
    const controller = new AbortController();
    const entry = { state, controller, failed: false, lease: how.lease, leaseUntil: this.#now() } as Entry<Ref>;
    this.#playing.set(state.sessionId, entry);
    this.#running.add(entry);
    if (this.#handingOver) {
      if (this.#options.store) entry.leaving = 'hand_over';
      controller.abort();
    }
    const started = new Promise<void>((resolve) => (entry.markStarted = resolve));
    entry.session = {
      sessionId: state.sessionId,
      state,
      started,
      done: this.#run(entry, surface, how.firstShown, how.lease !== undefined).finally(entry.markStarted),
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

  /**
   * A press on a session's message: stops it here, or (with a store) on whichever replica plays it. Resolves
   * once it has stopped (or, elsewhere, after a bounded wait), so the press's answer is not overwritten.
   */
  async stopMessage(ref: Ref, match: (state: Readonly<LiveSessionState<Ref>>) => boolean): Promise<boolean> {
    const local = this.stopWhere(match);
    if (local.length > 0) {
      await Promise.all(local.map((s) => s.done));
      return true;
    }
    const key = this.#options.messageKey?.(ref);
    if (!this.#options.store || key === undefined) return false;
    try {
      return (await this.#options.store.requestStop(key, REMOTE_STOP_WAIT_MS)) !== 'none';
    } catch (error) {
      this.#options.log?.warn(
        { event: 'live_session.remote_stop_failed', platform: this.#options.platform, err: error },
        'could not ask another replica to stop a live session',
      );
      return false;
    }
  }

  /** Stops a session playing here because a stop was requested on another replica (completions included). */
  stopRequested(sessionId: string): boolean {
    let found = false;
    for (const entry of this.#running) {
      if (entry.state.sessionId !== sessionId || entry.controller.signal.aborted) continue;
      if (this.#playing.get(sessionId) === entry) this.#playing.delete(sessionId);
      this.stats.remoteStops += 1;
      entry.controller.abort();
      found = true;
    }
    return found;
  }

  /**
   * One sweep for orphaned sessions (their player died or handed them over): claims them, then resumes each
   * from its stored step, or ends it with INTERRUPTED_BLOCKS when its frame was due too long ago, or drops it
   * when a Stop was pressed meanwhile (that press's answer is already on the message). Returns how many it claimed.
   */
  async takeOver(restore: RestoreSurface<Ref, Final>, limit = 20): Promise<number> {
    const store = this.#options.store;
    if (!store) return 0;
    const claimed = await store.claimExpired(limit, this.#now() + this.#grace());
    for (const session of claimed) {
      const state = session.state as LiveSessionState<Ref>;
      const surface = session.stopRequested ? null : restore(state);
      const due = state.nextFrameAt ?? session.savedAt;
      if (surface && this.#now() - due <= (this.#options.staleAfterMs ?? 60_000)) {
        this.resume(session, surface);
        continue;
      }
      if (surface) await this.#interrupt(state, surface);
      else if (!session.stopRequested)
        this.#options.log?.warn(
          { event: 'live_session.unrestorable', platform: this.#options.platform, sessionId: state.sessionId },
          'a live session taken over could not be rebuilt; it is dropped',
        );
      await store.end(state.sessionId, session.lease);
    }
    return claimed.length;
  }

  async #interrupt(state: LiveSessionState<Ref>, surface: LiveSurface<Ref, Final>): Promise<void> {
    this.stats.interrupted += 1;
    this.#options.log?.info(
      { event: 'live_session.interrupted', platform: this.#options.platform, sessionId: state.sessionId },
      'live session taken over too late: ended with a message',
    );
    if (state.message === undefined) return;
    try {
      await surface.interrupted?.(INTERRUPTED_BLOCKS, state);
    } catch (error) {
      this.#warn('live_session.interrupt_failed', state, error, 'could not show that a live session was interrupted');
    }
  }

  /**
   * Shares this replica's sessions with the others: hears stops requested elsewhere (LISTEN, where the driver
   * has it) and takes over orphaned sessions every `everyMs`. Returns how to stop doing both.
   */
  async share(restore: RestoreSurface<Ref, Final>, everyMs = 1000): Promise<() => Promise<void>> {
    const store = this.#options.store;
    if (!store) return async () => undefined;
    const unlisten = await store
      .onStopRequested((id) => void this.stopRequested(id))
      .catch((error: unknown) => {
        this.#options.log?.warn(
          { event: 'live_session.listen_failed', platform: this.#options.platform, err: error },
          'not listening for stops from other replicas; they are seen at the next frame',
        );
        return async () => undefined;
      });
    let sweeping: Promise<unknown> | null = null;
    const timer = setInterval(() => {
      sweeping ??= this.takeOver(restore)
        .catch((error: unknown) =>
          this.#options.log?.warn(
            { event: 'live_session.take_over_failed', platform: this.#options.platform, err: error },
            'live session take-over sweep failed',
          ),
        )
        .finally(() => (sweeping = null));
    }, everyMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await sweeping;
      await unlisten();
    };
  }

  /**
   * Shutdown with a store: every session here is paused, its state saved and its lease released, so another
   * replica carries on from the current step. Without a store there is nowhere to hand over to: stopAll.
   */
  async handOver(): Promise<void> {
    this.#handingOver = true;
    if (!this.#options.store) return this.stopAll();
    const entries = [...this.#running];
    this.#playing.clear();
    for (const entry of entries) {
      entry.leaving ??= 'hand_over';
      entry.controller.abort();
    }
    await Promise.all(entries.map((e) => e.session.done));
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

  async #run(
    entry: Entry<Ref>,
    surface: LiveSurface<Ref, Final>,
    firstShown: boolean,
    resumed: boolean,
  ): Promise<LiveOutcome> {
    const { state, controller } = entry;
    const edits = new LatestEdit(() => (this.stats.skippedFrames += 1));
    const { timeScale, setTimer, clearTimer } = this.#options;
    // A resumed session first extends the claim's lease over the frame on screen, then carries on after it.
    if (resumed) await this.#hold(entry);
    else await this.#open(entry);
    const from = resumed ? this.#resumePoint(state) : undefined;
    let outcome: LiveOutcome;
    try {
      const played =
        from === 'end'
          ? controller.signal.aborted
            ? 'stopped'
            : 'completed'
          : await playSequence(state.sequence, {
              show: (frame, index) =>
                this.#frame(entry, surface, edits, frame, index, firstShown).finally(entry.markStarted),
              ...(surface.tick ? { tick: surface.tick, tickMs: this.#options.tickMs ?? 1000 } : {}),
              signal: controller.signal,
              ...(timeScale !== undefined ? { timeScale } : {}),
              ...(setTimer ? { setTimer } : {}),
              ...(clearTimer ? { clearTimer } : {}),
              ...(from ? { resume: from } : {}),
            });
      outcome = entry.failed ? 'failed' : played;
    } catch (error) {
      this.#warn('live_session.show_failed', state, error, 'live session could not show a frame');
      outcome = 'failed';
    }
    // A late frame must not land on top of what ends the session (a Stop's answer, the final message).
    await edits.drain();
    // Leave the registry before completing, so the completion may itself start a new sequence for the person.
    if (this.#playing.get(state.sessionId) === entry) this.#playing.delete(state.sessionId);
    // Handed over or lost: the step and its due time stay as they are, for whoever plays it next.
    if (!entry.leaving) {
      state.nextFrameAt = null;
      if (outcome === 'completed') outcome = await this.#complete(entry, surface);
    }
    outcome = await this.#settle(entry, outcome);
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
    // The heartbeat: every frame renews the lease (and hears a Stop pressed elsewhere), shown or not.
    if (!(await this.#hold(entry))) return;
    if ((index === 0 && firstShown) || state.staticShown) return;
    if (state.message === undefined && surface.open) {
      // Posting is not an edit: it spends no budget, and a failure ends the session.
      state.message = await surface.open(state.mode === 'static' ? this.#staticFrame(state, frame) : frame, state);
      if (state.mode === 'static') state.staticShown = true;
      // Saved at once: a press on the new message may reach another replica before the next frame.
      await this.#hold(entry);
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
      if (entry.controller.signal.aborted || !this.#leaseHolds(entry)) return;
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
    // A Stop pressed elsewhere, or another replica holding it now, wins over the completion.
    if (!(await this.#hold(entry))) return 'stopped';
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
    if (final === null || final === undefined || !surface.finish) {
      entry.finished = true;
      return 'completed';
    }
    const shown = await this.#deliverFinal(entry, surface, surface.finish.bind(surface), final);
    entry.finished = shown;
    return shown ? 'completed' : 'failed';
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
      // Waiting for budget may outlast the lease: renew it (and hear a Stop) before the edit.
      if (!(await this.#hold(entry))) break;
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

  #grace(): number {
    return this.#options.leaseGraceMs ?? 5000;
  }

  #key(state: LiveSessionState<Ref>): string | null {
    return state.message !== undefined && this.#options.messageKey ? this.#options.messageKey(state.message) : null;
  }

  /** Where a resumed session carries on: the rest of the frame on screen, the next frame, or its completion. */
  #resumePoint(state: LiveSessionState<Ref>): 'end' | NonNullable<PlayOptions['resume']> {
    if (state.nextFrameAt === null) return 'end';
    const now = this.#now();
    if (state.step >= 0 && state.nextFrameAt > now) return { index: state.step, remainingMs: state.nextFrameAt - now };
    const next = state.step + 1;
    return next >= state.sequence.frames.length ? 'end' : { index: next };
  }

  /** Stores a new session; if the store fails it still plays, from memory only (nobody could take it over). */
  async #open(entry: Entry<Ref>): Promise<void> {
    const store = this.#options.store;
    if (!store) return;
    const until = this.#now() + this.#grace();
    try {
      entry.lease = await store.open(entry.state, this.#key(entry.state), until);
      entry.leaseUntil = until;
    } catch (error) {
      this.#warn('live_session.store_failed', entry.state, error, 'live session not stored; it plays from memory');
    }
  }

  /**
   * Renews the lease before showing anything. False: this replica may not edit now (a Stop was pressed
   * elsewhere, another replica holds the session, or the store cannot say and the known lease ran out).
   */
  async #hold(entry: Entry<Ref>): Promise<boolean> {
    const store = this.#options.store;
    if (!store || entry.lease === undefined || entry.leaving) return !entry.leaving;
    const { state } = entry;
    const until = Math.max(state.nextFrameAt ?? 0, this.#now()) + this.#grace();
    let result: RenewResult;
    try {
      result = await store.renew(state, entry.lease, this.#key(state), until);
    } catch (error) {
      this.#warn('live_session.renew_failed', state, error, 'live session lease not renewed');
      return this.#leaseHolds(entry);
    }
    if (result === 'ok') {
      entry.leaseUntil = until;
      return true;
    }
    if (result === 'lost') entry.leaving = 'lost';
    // The notification may have stopped it already: one stop, counted once.
    else if (!entry.controller.signal.aborted) this.stats.remoteStops += 1;
    entry.controller.abort();
    return false;
  }

  /** Whether the lease we last renewed still covers an edit now (always, without a store). */
  #leaseHolds(entry: Entry<Ref>): boolean {
    if (!this.#options.store || entry.lease === undefined) return true;
    return this.#now() < entry.leaseUntil - Math.min(LEASE_MARGIN_MS, this.#grace() / 2);
  }

  /** The store's side of the end: the row goes, or (hand-over) the state is saved and the lease released. */
  async #settle(entry: Entry<Ref>, outcome: LiveOutcome): Promise<LiveOutcome> {
    const store = this.#options.store;
    if (entry.leaving === 'lost') return 'handed_over';
    if (!store || entry.lease === undefined) return entry.leaving ? 'handed_over' : outcome;
    const { state } = entry;
    try {
      if (entry.leaving === 'hand_over' && !entry.finished) {
        await store.release(state, entry.lease, this.#key(state));
        this.stats.handedOver += 1;
        return 'handed_over';
      }
      await store.end(state.sessionId, entry.lease);
    } catch (error) {
      this.#warn('live_session.store_failed', state, error, 'live session end not stored');
    }
    return outcome;
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
