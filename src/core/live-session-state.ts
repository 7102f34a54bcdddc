import type { Sequence } from './reply.js';

/**
 * Everything about one live session as a plain value (JSON when the message reference is): who, where, what
 * plays, how far it got and when the next frame is due. The engine keeps it current as the session plays, so
 * a store that outlives the process can hold it.
 */
export interface LiveSessionState<Ref = unknown> {
  readonly sessionId: string;
  /** The person it plays for, in the adapter's ids. */
  user?: string | undefined;
  /** Where its edits are counted (a workspace, a guild): the budget's key. */
  scope?: string | undefined;
  /** The routine's frames, static version, buttons and completion (the packed session value is in them). */
  readonly sequence: Sequence;
  /** Where the live message is, as the adapter encodes it; unset until the first frame was posted. */
  message?: Ref | undefined;
  /**
   * What the adapter needs to rebuild the session on another replica (who to answer as, what to end with),
   * as a plain value; the adapter validates it when it takes a session over.
   */
  context?: unknown;
  /** The frame playing now (-1 before the first). */
  step: number;
  /** When the next frame is due (epoch ms); null once the last frame has played. */
  nextFrameAt: number | null;
  /** 'static': the whole routine written out instead of frame by frame (the budget could not keep up). */
  mode: 'live' | 'static';
  /** The static version is on the message: nothing more to edit until the end. */
  staticShown: boolean;
}
