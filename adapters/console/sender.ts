import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Reply } from '../../src/core/ports.js';
import type { NudgeDelivery, ReconcileResult, SendResult, Sender } from '../../src/core/ports.js';

/** What the console adapter offers the scheduler: show a message while the person may be typing. */
export interface ConsoleSurface {
  push(message: Reply): Promise<void>;
}

/**
 * The console's Sender: a nudge is printed in the terminal. Its "platform" is a small log of delivered
 * ids (a file when a data directory is given), which `reconcile` reads after a crash.
 */
export function createConsoleSender(surface: ConsoleSurface, options: { logFile?: string } = {}): Sender {
  const delivered = new Set<number>();
  if (options.logFile && existsSync(options.logFile)) {
    for (const line of readFileSync(options.logFile, 'utf8').split('\n')) {
      const id = Number(line.trim());
      if (Number.isInteger(id) && id > 0) delivered.add(id);
    }
  }
  const ref = (id: number) => `console:${id}`;
  return {
    platform: 'console',
    async send(delivery: NudgeDelivery): Promise<SendResult> {
      // Shown only once even if the scheduler asks twice.
      if (!delivered.has(delivery.deliveryId)) {
        await surface.push(delivery.message);
        delivered.add(delivery.deliveryId);
        if (options.logFile) {
          mkdirSync(path.dirname(options.logFile), { recursive: true });
          appendFileSync(options.logFile, `${delivery.deliveryId}\n`);
        }
      }
      return { status: 'sent', messageRef: ref(delivery.deliveryId) };
    },
    async reconcile(delivery: NudgeDelivery): Promise<ReconcileResult> {
      return delivered.has(delivery.deliveryId)
        ? { found: true, messageRef: ref(delivery.deliveryId) }
        : { found: false };
    },
  };
}
