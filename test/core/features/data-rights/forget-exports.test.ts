import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../../../src/core/reply.js';
import { users } from '../../../../src/db/schema.js';
import { purgeExportFiles } from '../../../../src/ops/retention.js';
import { ask, buildTestCore, button, testActor, testClock } from '../../../support/core.js';
import { alice, bob } from './people.js';
import { describeEachDatabase } from '../../../support/db.js';

const root = mkdtempSync(path.join(tmpdir(), 'backcare-forget-exports-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const admin = testActor({ platform: 'slack', workspaceExternalId: 'T1', userExternalId: 'UADMIN', isAdmin: true });

const fileOf = (result: Reply): string => {
  const block = result.blocks.find((b) => b.type === 'file');
  if (!block || block.type !== 'file') throw new Error(`no file block in "${result.summary}"`);
  return block.path;
};

describeEachDatabase('export files go with the person', (database, driver) => {
  const clock = testClock(new Date('2026-03-03T12:00:00Z'));
  let n = 0;
  /** A fresh export directory per test, as the bot's `exports/` under its data directory. */
  const setup = () => {
    const exportDir = path.join(root, `${driver}-${(n += 1)}`, 'exports');
    return { exportDir, core: buildTestCore(database().db, { now: clock.now, deps: { exportDir } }) };
  };

  it('me export, then forget-me: the file is gone, and someone else’s export stays', async () => {
    const { exportDir, core } = setup();
    // Something stored, so there is data to export.
    await ask(core, 'settings on', alice);
    await ask(core, 'settings on', bob);
    const mine = fileOf(await ask(core, 'me export', alice));
    const theirs = fileOf(await ask(core, 'me export', bob));
    const [me] = (await database().db.select().from(users)).filter((u) => u.platformUserId === 'UALICE');
    // Found by the internal user id; no name or platform id in the path.
    expect(path.relative(exportDir, mine)).toMatch(new RegExp(`^user-${me!.id}/[0-9a-f-]{36}\\.json$`));
    expect(mine).not.toMatch(/ALICE|Alice/i);
    expect(existsSync(mine)).toBe(true);

    const asked = await ask(core, 'forget-me', alice);
    const done = await ask(core, { kind: 'action', ...button(asked, 'forget.confirm') }, alice);
    expect(done.summary).toMatch(
      /^Done: everything Backcare stored about you has been deleted\. Any data export files you made went too\./,
    );
    expect(existsSync(mine)).toBe(false);
    expect(existsSync(path.dirname(mine))).toBe(false);
    expect(existsSync(theirs)).toBe(true);
  });

  it('admin forget deletes the person’s export files too', async () => {
    const { core } = setup();
    await ask(core, 'settings on', alice);
    const first = fileOf(await ask(core, 'me export', alice));
    const second = fileOf(await ask(core, 'me export', alice));
    expect(path.dirname(first)).toBe(path.dirname(second));
    const asked = await ask(core, 'admin forget <@UALICE>', admin);
    const done = await ask(core, { kind: 'action', ...button(asked, 'admin.forget.confirm') }, admin);
    expect(done.summary).toMatch(/^Done: .* has been deleted\. Any data export files of theirs went too\./);
    expect([existsSync(first), existsSync(second)]).toEqual([false, false]);
  });
});

describe('the daily clean-up of export files', () => {
  it('removes old files in the per-person directories and the directories left empty, and keeps fresh ones', async () => {
    const dir = path.join(root, 'purge');
    const now = new Date('2026-06-15T03:00:00Z');
    const old = new Date(now.getTime() - 25 * 3_600_000);
    mkdirSync(path.join(dir, 'user-1'), { recursive: true });
    mkdirSync(path.join(dir, 'user-2'), { recursive: true });
    mkdirSync(path.join(dir, 'something-else'), { recursive: true });
    for (const [file, at] of [
      ['user-1/old.json', old],
      ['user-2/old.json', old],
      ['user-2/fresh.json', now],
      ['legacy.json', old],
      ['something-else/old.json', old],
    ] as const) {
      writeFileSync(path.join(dir, file), '{}');
      utimesSync(path.join(dir, file), at, at);
    }
    expect(await purgeExportFiles(dir, now)).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(['something-else', 'user-2']);
    expect(readdirSync(path.join(dir, 'user-2'))).toEqual(['fresh.json']);
  });
});
