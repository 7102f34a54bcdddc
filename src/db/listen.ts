import pg from 'pg';
import type { Logger } from '../config/logger.js';

/** Stops listening and closes the connection. */
export type Unlisten = () => Promise<void>;

export type Listen = (channel: string, onPayload: (payload: string) => void) => Promise<Unlisten>;

const RECONNECT_MS = 2000;

/**
 * PostgreSQL LISTEN on a connection of its own (a pooled one would be handed to queries). A lost connection is
 * reopened every couple of seconds; meanwhile nothing is heard, which is why every notification here has a
 * slower fallback (a live session's holder also sees a requested stop at its next frame).
 */
export function postgresListener(url: string, log: Logger): Listen {
  return async (channel, onPayload) => {
    let closed = false;
    let client: pg.Client | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const connect = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: url });
      next.on('notification', (message) => {
        if (message.channel === channel && message.payload !== undefined) onPayload(message.payload);
      });
      next.on('error', (error) => {
        if (client !== next || closed) return;
        log.warn({ event: 'db.listen_lost', channel, err: error }, 'LISTEN connection lost; reconnecting');
        client = undefined;
        void next.end().catch(() => undefined);
        schedule();
      });
      await next.connect();
      // A channel name is an identifier: quoted, never a parameter.
      await next.query(`listen "${channel.replace(/"/g, '""')}"`);
      client = next;
    };
    const schedule = () => {
      if (closed || retry) return;
      retry = setTimeout(() => {
        retry = undefined;
        connect().catch(() => schedule());
      }, RECONNECT_MS);
      retry.unref();
    };
    await connect();
    return async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    };
  };
}
