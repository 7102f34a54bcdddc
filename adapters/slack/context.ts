import type { App } from '@slack/bolt';
import type { Logger } from '../../src/config/logger.js';
import type { Core, InstallationRecords, WorkspaceLifecycle } from '../../src/core/ports.js';
import type { SlackLiveSessions as LiveSessions } from './live.js';
import type { SlackPeople } from './people.js';
import type { SlackReplies } from './replies.js';

/** What the Bolt handlers share: the core, the adapter's caches and live sessions, and background work tracking. */
export interface SlackContext {
  app: App;
  core: Core;
  log: Logger;
  live: LiveSessions;
  people: SlackPeople;
  replies: SlackReplies;
  /**
   * Work after the ack, queued by kind (a command name, 'action', 'form', 'event': a bounded set, metric labels)
   * for a slot: logged if it fails, awaited by `idle()` and `stop()`. With `person` (`team:user`), after that
   * person's earlier work.
   */
  track: (kind: string, work: () => Promise<unknown>, person?: string) => void;
  /** Like `track`, for work whose result the caller needs: resolves or rejects with it. */
  queued: <T>(kind: string, work: () => Promise<T>) => Promise<T>;
  /** Work that must not wait for a queue slot (a modal whose trigger expires 3 s after the click): tracked, not queued. */
  urgent: (work: () => Promise<unknown>) => void;
  lifecycle: WorkspaceLifecycle;
  installations: InstallationRecords;
  /** Deadline for the core to answer a modal submission inside Slack's 3 s. */
  submitDeadlineMs?: number | undefined;
}
