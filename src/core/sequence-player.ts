import type { Frame, Sequence } from './reply.js';

export type SequenceOutcome = 'completed' | 'stopped';

export interface PlayOptions {
  /** Shows one frame (edits the message, rewrites the terminal line…). */
  show(frame: Frame, index: number): Promise<void> | void;
  /** Multiplies every frame's duration (1 = real time; tests and demos use less). */
  timeScale?: number;
  signal?: AbortSignal;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/**
 * Plays a sequence frame by frame, waiting each frame's duration. Aborting the signal cancels the pending
 * wait at once and resolves 'stopped'; nothing is shown after that.
 */
export async function playSequence(sequence: Pick<Sequence, 'frames'>, options: PlayOptions): Promise<SequenceOutcome> {
  const scale = options.timeScale ?? 1;
  const setTimer = options.setTimer ?? ((cb, ms) => setTimeout(cb, ms));
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  for (const [index, frame] of sequence.frames.entries()) {
    if (options.signal?.aborted) return 'stopped';
    await options.show(frame, index);
    const stopped = await new Promise<boolean>((resolve) => {
      if (options.signal?.aborted) return resolve(true);
      const onAbort = () => {
        clearTimer(handle);
        resolve(true);
      };
      const handle = setTimer(() => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve(false);
      }, frame.ms * scale);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    if (stopped) return 'stopped';
  }
  return 'completed';
}
