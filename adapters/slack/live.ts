import type { Logger } from '../../src/config/logger.js';
import type { Sequence } from '../../src/core/reply.js';
import { playSequence, type SequenceOutcome } from '../../src/core/sequence-player.js';
import { renderBlocks, type SlackMessage } from './render.js';
import { classifySlackError } from './slack-api.js';

/**
 * Live guided sessions in Slack: one DM message per session, edited with chat.update per phase.
 * chat.update is rate tier 3 (about 50 calls a minute per workspace), and a session edits every few seconds,
 * so a workspace only fits a handful of live sessions at once. Each workspace gets a budget; sessions share
 * it fairly, skip phases when it is tight, fall back to the static version when it is very tight, and the
 * final message of every session is always delivered (it waits for budget instead of being skipped).
 */

const WINDOW_MS = 60_000;
/** Below this many updates a minute a session is not "live" any more: show the static version instead. */
const MIN_LIVE_UPDATES_PER_MINUTE = 4;
const FINAL_ATTEMPTS = 6;

/** Sliding one-minute window of chat.update calls per workspace, plus a pause after a 429. */
export class UpdateBudget {
  private readonly calls = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Part of the budget only final messages may use, so sessions can always finish. */
  get reserve(): number {
    return Math.max(1, Math.ceil(this.perMinute * 0.2));
  }

  private recent(workspace: string): number[] {
    const cutoff = this.now() - WINDOW_MS;
    const list = (this.calls.get(workspace) ?? []).filter((t) => t > cutoff);
    this.calls.set(workspace, list);
    return list;
  }

  used(workspace: string): number {
    return this.recent(workspace).length;
  }

  blocked(workspace: string): boolean {
    return (this.blockedUntil.get(workspace) ?? 0) > this.now();
  }

  /** Takes one call if the budget allows; frames leave the reserve alone, finals may use it. */
  tryTake(workspace: string, purpose: 'frame' | 'final'): boolean {
    if (this.blocked(workspace)) return false;
    const list = this.recent(workspace);
    const cap = purpose === 'final' ? this.perMinute : this.perMinute - this.reserve;
    if (list.length >= cap) return false;
    list.push(this.now());
    return true;
  }

  /** Milliseconds until a final call could be taken. */
  waitMs(workspace: string): number {
    const now = this.now();
    const blocked = Math.max(0, (this.blockedUntil.get(workspace) ?? 0) - now);
    const list = this.recent(workspace);
    const full = list.length >= this.perMinute ? list[list.length - this.perMinute]! + WINDOW_MS - now + 1 : 0;
    return Math.max(blocked, full, 0);
  }

  /** Slack said 429: nothing goes to this workspace until Retry-After has passed. */
  pause(workspace: string, ms: number): void {
    this.blockedUntil.set(workspace, Math.max(this.blockedUntil.get(workspace) ?? 0, this.now() + ms));
  }
}

export interface LiveMessageApi {
  post(message: SlackMessage): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
}

export interface LiveStart {
  workspace: string;
  user: string;
  sequence: Sequence;
  api: LiveMessageApi;
  /** Play on this message (a button on it asked for another round) instead of posting a new one. */
  existing?: { channel: string; ts: string } | undefined;
  /** The message the session ends with: the core's answer to `onComplete`, or the static version. */
  finish(): Promise<SlackMessage>;
}

export type LiveOutcome = SequenceOutcome | 'failed';

interface Session {
  workspace: string;
  key: string;
  controller: AbortController;
  channel?: string;
  ts?: string;
  mode: 'live' | 'static';
  updates: number[];
  done: Promise<LiveOutcome>;
}

export interface LiveSessionsOptions {
  log: Logger;
  updatesPerMinute?: number;
  timeScale?: number;
  /** Clock and timers: real ones by default; a simulation (live-figures.ts) passes virtual ones. */
  now?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface LiveStats {
  frameUpdates: number;
  skippedFrames: number;
  staticFallbacks: number;
  finals: number;
  rateLimited: number;
}

export class LiveSessions {
  readonly budget: UpdateBudget;
  readonly stats: LiveStats = { frameUpdates: 0, skippedFrames: 0, staticFallbacks: 0, finals: 0, rateLimited: 0 };
  private readonly sessions = new Map<string, Session>();
  /** Sessions already showing their static version: nothing more to update until the end. */
  private readonly staticShown = new WeakSet<Session>();
  private readonly now: () => number;

  constructor(private readonly options: LiveSessionsOptions) {
    this.now = options.now ?? Date.now;
    this.budget = new UpdateBudget(options.updatesPerMinute ?? 45, this.now);
  }

  private delay(ms: number): Promise<void> {
    const setTimer = this.options.setTimer ?? ((cb: () => void, t: number) => setTimeout(cb, t));
    return new Promise<void>((resolve) => void setTimer(resolve, ms));
  }

  active(workspace: string): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.workspace === workspace) n += 1;
    return n;
  }

  /** Fair share of the frame budget for each live session in the workspace, per minute. */
  private share(workspace: string): number {
    return (this.budget.perMinute - this.budget.reserve) / Math.max(1, this.active(workspace));
  }

  isLiveMessage(channel: string, ts: string): boolean {
    for (const session of this.sessions.values()) if (session.channel === channel && session.ts === ts) return true;
    return false;
  }

  /** Stops the session whose message carried a pressed button (Stop, or anything else on it). */
  stopByMessage(channel: string, ts: string): boolean {
    for (const session of this.sessions.values()) {
      if (session.channel === channel && session.ts === ts) {
        session.controller.abort();
        this.sessions.delete(session.key);
        return true;
      }
    }
    return false;
  }

  stopAll(): Promise<LiveOutcome[]> {
    const pending = [...this.sessions.values()];
    for (const s of pending) s.controller.abort();
    this.sessions.clear();
    return Promise.all(pending.map((s) => s.done));
  }

  /** Starts (or restarts: one live session per person) a session; resolves once its final message is shown. */
  start(request: LiveStart): Promise<LiveOutcome> {
    // The core's sessionId is stable per person: a new sequence replaces the one still playing.
    const key = request.sequence.sessionId;
    const previous = this.sessions.get(key);
    if (previous) previous.controller.abort();
    const session: Session = {
      workspace: request.workspace,
      key,
      controller: new AbortController(),
      mode: 'live',
      updates: [],
      done: Promise.resolve<LiveOutcome>('stopped'),
    };
    this.sessions.set(key, session);
    session.done = this.run(session, request).finally(() => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    });
    return session.done;
  }

  private async run(session: Session, request: LiveStart): Promise<LiveOutcome> {
    const { log } = this.options;
    const { sequence } = request;
    const frameMessage = (index: number): SlackMessage => ({
      text: 'Guided session in progress',
      blocks: renderBlocks(sequence.frames[index]?.blocks ?? sequence.staticBlocks, sequence.actions),
    });

    let outcome: SequenceOutcome;
    try {
      outcome = await playSequence(sequence, {
        signal: session.controller.signal,
        timeScale: this.options.timeScale ?? 1,
        ...(this.options.setTimer ? { setTimer: this.options.setTimer } : {}),
        ...(this.options.clearTimer ? { clearTimer: this.options.clearTimer } : {}),
        show: async (_frame, index) => {
          if (index === 0 && request.existing) {
            session.channel = request.existing.channel;
            session.ts = request.existing.ts;
            if (this.budget.tryTake(session.workspace, 'frame'))
              await request.api.update(session.channel, session.ts, frameMessage(0));
            return;
          }
          if (index === 0) {
            // Posting is not chat.update: it does not spend the update budget.
            const posted = await request.api.post(frameMessage(0));
            session.channel = posted.channel;
            session.ts = posted.ts;
            return;
          }
          await this.showFrame(session, request, index, frameMessage);
        },
      });
    } catch (error) {
      log.warn({ event: 'slack.live.failed', failure: classifySlackError(error) }, 'live session could not continue');
      this.sessions.delete(session.key);
      return 'failed';
    }
    if (outcome === 'stopped') return 'stopped';
    if (!session.channel || !session.ts) return 'failed';
    const final = await request.finish();
    const delivered = await this.deliverFinal(session, session.channel, session.ts, request.api, final);
    return delivered ? 'completed' : 'failed';
  }

  private async showFrame(
    session: Session,
    request: LiveStart,
    index: number,
    frameMessage: (i: number) => SlackMessage,
  ): Promise<void> {
    if (!session.channel || !session.ts || this.staticShown.has(session)) return;
    const share = this.share(session.workspace);
    // Showing fewer than half the phases would mislead more than it guides (a stale "breathe in"): go static.
    const wanted = wantedPerMinute(request.sequence, this.options.timeScale ?? 1);
    const wantsStatic = share < Math.max(MIN_LIVE_UPDATES_PER_MINUTE, wanted / 2);
    if (wantsStatic && session.mode === 'live') {
      session.mode = 'static';
      this.stats.staticFallbacks += 1;
    }
    const cutoff = this.now() - WINDOW_MS;
    session.updates = session.updates.filter((t) => t > cutoff);
    if (session.mode === 'live' && session.updates.length >= share) {
      this.stats.skippedFrames += 1;
      return;
    }
    if (!this.budget.tryTake(session.workspace, 'frame')) {
      this.stats.skippedFrames += 1;
      return;
    }
    const message =
      session.mode === 'static'
        ? {
            text: 'Guided session in progress',
            blocks: renderBlocks(request.sequence.staticBlocks, request.sequence.actions),
          }
        : frameMessage(index);
    try {
      await request.api.update(session.channel, session.ts, message);
      session.updates.push(this.now());
      if (session.mode === 'static') this.staticShown.add(session);
      else this.stats.frameUpdates += 1;
    } catch (error) {
      const failure = classifySlackError(error);
      if (failure.kind === 'rate_limited') {
        this.stats.rateLimited += 1;
        this.budget.pause(session.workspace, failure.retryAfterMs);
        this.options.log.warn(
          { event: 'slack.live.rate_limited', retryAfterMs: failure.retryAfterMs },
          'chat.update rate limited',
        );
        return;
      }
      if (failure.kind === 'permanent') throw error;
      this.stats.skippedFrames += 1;
    }
  }

  /** The last message always gets through: it waits for budget and obeys Retry-After. */
  private async deliverFinal(
    session: Session,
    channel: string,
    ts: string,
    api: LiveMessageApi,
    message: SlackMessage,
  ): Promise<boolean> {
    for (let attempt = 0; attempt < FINAL_ATTEMPTS; attempt += 1) {
      if (!this.budget.tryTake(session.workspace, 'final')) {
        await this.delay(Math.max(50, this.budget.waitMs(session.workspace)));
        attempt -= 1; // waiting for budget is not a failed attempt
        if (session.controller.signal.aborted) return false;
        continue;
      }
      try {
        await api.update(channel, ts, message);
        this.stats.finals += 1;
        return true;
      } catch (error) {
        const failure = classifySlackError(error);
        if (failure.kind === 'permanent') break;
        if (failure.kind === 'rate_limited') {
          this.stats.rateLimited += 1;
          this.budget.pause(session.workspace, failure.retryAfterMs);
        }
        await this.delay(failure.kind === 'rate_limited' ? failure.retryAfterMs : 1000 * 2 ** attempt);
      }
    }
    this.options.log.warn({ event: 'slack.live.final_failed' }, 'could not show the final message of a live session');
    return false;
  }
}

/** How many updates a minute the sequence would need to show every phase. */
function wantedPerMinute(sequence: Sequence, timeScale: number): number {
  const total = sequence.frames.reduce((sum, f) => sum + f.ms, 0) * timeScale;
  return total > 0 ? (sequence.frames.length * WINDOW_MS) / total : 0;
}
