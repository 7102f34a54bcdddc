import { SEND_WINDOW_MS } from '../core/sender.js';

/** A slot found later than this (the bot was down, or the queue ran behind) is recorded as missed, not sent. */
export const LATE_LIMIT_MS = SEND_WINDOW_MS;
