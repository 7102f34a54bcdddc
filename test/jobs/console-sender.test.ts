import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsoleSender } from '../../adapters/console/sender.js';
import { buildNudgeMessage, fallbackRoutineSource } from '../../src/core/nudge-message.js';
import type { Reply } from '../../src/core/reply.js';
import type { NudgeDelivery } from '../../src/core/sender.js';

const delivery = (deliveryId: number): NudgeDelivery => ({
  deliveryId,
  slotAt: new Date('2026-03-02T10:00:00Z'),
  workspace: { id: 1, platform: 'console', externalId: 'local' },
  user: { id: 1, platformUserId: 'you', dmChannelId: null },
  destination: { kind: 'dm' },
  message: buildNudgeMessage(
    fallbackRoutineSource.get('nudge-shoulder-rolls')!,
    deliveryId,
    new Date('2026-03-02T10:00:00Z'),
  ),
});

describe('console sender', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a nudge in the terminal once, even if asked twice, and finds it again after a restart via its log', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'backcare-console-'));
    const logFile = path.join(dir, 'console-nudges.log');
    const shown: Reply[] = [];
    const sender = createConsoleSender({ push: async (m) => void shown.push(m) }, { logFile });
    expect(await sender.reconcile(delivery(7))).toEqual({ found: false });
    expect(await sender.send(delivery(7))).toEqual({ status: 'sent', messageRef: 'console:7' });
    expect(await sender.send(delivery(7))).toEqual({ status: 'sent', messageRef: 'console:7' });
    expect(shown).toHaveLength(1);
    expect(shown[0]!.summary).toMatch(/Desk break/);

    const restarted = createConsoleSender({ push: async () => undefined }, { logFile });
    expect(await restarted.reconcile(delivery(7))).toEqual({ found: true, messageRef: 'console:7' });
    expect(await restarted.reconcile(delivery(8))).toEqual({ found: false });
  });

  it('reports a closed terminal as an error (the scheduler then reconciles before retrying)', async () => {
    const sender = createConsoleSender({ push: async () => Promise.reject(new Error('the console has closed')) });
    await expect(sender.send(delivery(1))).rejects.toThrow(/closed/);
    expect(await sender.reconcile(delivery(1))).toEqual({ found: false });
  });
});
