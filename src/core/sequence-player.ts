import type { Frame, Sequence } from './reply.js';

export type SequenceOutcome = 'completed' | 'stopped';

export interface PlayOptions {
  /** Shows one frame (edits the message, rewrites the terminal line…). */
  show(frame: Frame, index: number): Promise<void> | void;
  /**
   * Optional countdown inside a frame: called every `tickMs` (scaled) with the time left in the frame.
   * Adapters that can redraw cheaply (the console) use it; chat platforms should not, to spare rate limits.
   */
  tick?(frame: Frame, index: number, remainingMs: number): Promise<void> | void;
  tickMs?: number;
  /** Multiplies every frame's duration (1 = real time; tests and demos use less). */
  timeScale?: number;
  signal?: AbortSignal;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /**
   * Carry on where another player left off: start at frame `index`; with `remainingMs` (real ms, already
   * scaled) that frame is already on screen, so it is not shown again and only its rest is waited out.
   */
  resume?: { index: number; remainingMs?: number };
}

/**
 * Plays a sequence frame by frame, waiting each frame's duration. Aborting the signal cancels the pending
 * wait at once and resolves 'stopped'; nothing is shown after that.
 */
export async function playSequence(sequence: Pick<Sequence, 'frames'>, options: PlayOptions): Promise<SequenceOutcome> {
  const scale = options.timeScale ?? 1;
  const setTimer = options.setTimer ?? ((cb, ms) => setTimeout(cb, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const tickMs = options.tick && options.tickMs && options.tickMs > 0 ? options.tickMs : 0;
  const from = options.resume?.index ?? 0;
  for (const [index, frame] of sequence.frames.entries()) {
    if (index < from) continue;
    if (options.signal?.aborted) return 'stopped';
    const rest = index === from ? options.resume?.remainingMs : undefined;
    if (rest === undefined) await options.show(frame, index);
    const stopped = await new Promise<boolean>((resolve) => {
      if (options.signal?.aborted) return resolve(true);
      let tickHandle: unknown;
      let elapsed = 0;
      // Ticks are chained one at a time so a long step does not schedule hundreds of timers up front.
      const scheduleTick = () => {
        if (!tickMs || rest !== undefined || elapsed + tickMs >= frame.ms) return;
        tickHandle = setTimer(() => {
          elapsed += tickMs;
          if (options.signal?.aborted) return;
          // A countdown redraw that fails must not break the pacing; the next frame shows anyway.
          void (async () => options.tick?.(frame, index, frame.ms - elapsed))().catch(() => undefined);
          scheduleTick();
        }, tickMs * scale);
      };
      const onAbort = () => {
        clearTimer(handle);
        if (tickHandle !== undefined) clearTimer(tickHandle);
        resolve(true);
      };
      const handle = setTimer(
        () => {
          if (tickHandle !== undefined) clearTimer(tickHandle);
          options.signal?.removeEventListener('abort', onAbort);
          resolve(false);
        },
        rest ?? frame.ms * scale,
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      scheduleTick();
    });
    if (stopped) return 'stopped';
  }
  return 'completed';
}
