import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseMention } from '../../../../src/core/features/data-rights/data-rights.js';
import type { Reply } from '../../../../src/core/reply.js';
import { replyText } from '../../../../src/core/reply.js';
import { recordActivity } from '../../../../src/db/activity.js';
import { queryRows, type Db } from '../../../../src/db/client.js';
import { auditLog, inviteDms, leadGrants, nudgeDeliveries, triageRecords, users } from '../../../../src/db/schema.js';
import { ensureUser, ensureWorkspace } from '../../../../src/db/users.js';
import { ask, buildTestCore, button, testActor, testClock } from '../../../support/core.js';
import { alice, bob } from './people.js';
import { describeEachDatabase } from '../../../support/db.js';

const exportDir = mkdtempSync(path.join(tmpdir(), 'backcare-export-test-'));
afterAll(() => rmSync(exportDir, { recursive: true, force: true }));

const admin = testActor({
  platform: 'slack',
  workspaceExternalId: 'T1',
  userExternalId: 'UADMIN',
  displayName: 'Ada Admin',
  isAdmin: true,
});

/** Gives a person settings, nudges, activity, a kept triage outcome and a lead grant: one of everything. */
async function fillIn(
  db: Db,
  who: { workspaceExternalId: string; userExternalId: string; displayName?: string | undefined },
  marker: string,
) {
  const workspace = await ensureWorkspace(db, { platform: 'slack', externalId: who.workspaceExternalId });
  const user = await ensureUser(db, workspace.id, who.userExternalId, who.displayName);
  await db
    .update(users)
    .set({ dmChannelId: `D-${marker}` })
    .where(sql`${users.id} = ${user.id}`);
  await db.insert(nudgeDeliveries).values({
    userId: user.id,
    slotAt: new Date('2026-03-02T09:00:00Z'),
    status: 'sent',
    routineId: `routine-${marker}`,
    messageRef: `ref-${marker}`,
  });
  await recordActivity(
    db,
    { userId: user.id, workspaceId: workspace.id },
    { kind: 'session', outcome: 'completed', source: 'breathe', routineId: `session-${marker}` },
    new Date('2026-03-02T09:30:00Z'),
  );
  await db.insert(triageRecords).values({ userId: user.id, outcome: `outcome-${marker}` });
  await db
    .insert(leadGrants)
    .values({ workspaceId: workspace.id, platformUserId: who.userExternalId, grantedBy: 'UADMIN' });
  await db.insert(inviteDms).values({
    workspaceId: workspace.id,
    platformUserId: who.userExternalId,
    status: marker === 'alice' ? 'declined' : 'sent',
  });
  return { workspace, user };
}

function exportedFile(result: Reply): { file: string; filename: string } {
  const block = result.blocks.find((b) => b.type === 'file');
  if (!block || block.type !== 'file') throw new Error(`no file block in "${result.summary}"`);
  return { file: block.path, filename: block.filename };
}

const exportSchema = z.object({
  format: z.literal('backcare-export/1'),
  workspace: z.object({ platform: z.string(), externalId: z.string() }),
  user: z.object({
    platformUserId: z.string(),
    displayName: z.string().nullable(),
    dmChannelId: z.string().nullable(),
  }),
  tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  leadGrants: z.array(z.object({ grantedAt: z.string() })),
  invitations: z.array(z.object({ status: z.string(), at: z.string() })),
  audit: z.array(z.object({ action: z.string(), role: z.enum(['actor', 'subject']), details: z.unknown() })),
});

describeEachDatabase('data rights', (database) => {
  const clock = testClock(new Date('2026-03-03T12:00:00Z'));
  const core = () => buildTestCore(database().db, { now: clock.now, deps: { exportDir } });

  it('me export writes a JSON file with everything about the person and nothing about anyone else', async () => {
    const db = database().db;
    await ask(core(), 'settings on', alice);
    await ask(core(), 'settings on', bob);
    await fillIn(db, alice, 'alice');
    await fillIn(db, bob, 'bob');
    const { workspace } = await fillIn(db, admin, 'admin');
    // Audit trail: Alice viewed stats (her action); the admin granted Bob lead rights (about Bob).
    await db.insert(auditLog).values([
      { workspaceId: workspace.id, actor: 'UALICE', action: 'stats.view', subject: 'team', details: { weeks: 4 } },
      {
        workspaceId: workspace.id,
        actor: 'UADMIN',
        action: 'lead.add',
        subject: 'UBOBBY',
        details: { note: 'about bob' },
      },
    ]);

    const result = await ask(core(), 'me export', alice);
    expect(result.visibility).toBe('dm');
    const { file, filename } = exportedFile(result);
    expect(filename).toBe('backcare-export-2026-03-03.json');
    // In the person's own directory, named by their internal id; only this process's user can read either.
    expect(path.dirname(path.dirname(file))).toBe(exportDir);
    expect(path.basename(path.dirname(file))).toMatch(/^user-\d+$/);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(statSync(path.dirname(file)).mode & 0o077).toBe(0);
    const raw = readFileSync(file, 'utf8');
    const data = exportSchema.parse(JSON.parse(raw));

    expect(data.user).toMatchObject({ platformUserId: 'UALICE', displayName: 'Alice Example', dmChannelId: 'D-alice' });
    expect(data.workspace).toMatchObject({ platform: 'slack', externalId: 'T1' });
    expect(data.tables.preferences).toHaveLength(1);
    expect(data.tables.preferences![0]).toMatchObject({ opted_in: true });
    expect(data.tables.nudge_deliveries!.map((r) => r.routine_id)).toEqual(['routine-alice']);
    expect(data.tables.activity_events!.map((r) => r.routine_id)).toEqual(['session-alice']);
    expect(data.tables.triage_records!.map((r) => r.outcome)).toEqual(['outcome-alice']);
    expect(data.leadGrants).toHaveLength(1);
    expect(data.invitations.map((i) => i.status)).toEqual(['declined']);
    expect(data.audit).toEqual([
      expect.objectContaining({ action: 'stats.view', role: 'actor', details: { weeks: 4 } }),
    ]);

    // Nothing about Bob or the admin anywhere in the file.
    for (const other of ['bob', 'UBOBBY', 'Bob Other', 'admin', 'UADMIN', 'Ada Admin'])
      expect(raw).not.toContain(other);
  });

  it('covers every table that points at a person, so a new table cannot be forgotten', async () => {
    await fillIn(database().db, alice, 'alice');
    const fkTables = await queryRows<{ name: string }>(
      database().db,
      sql`select distinct cl.relname as name from pg_constraint c join pg_class cl on cl.oid = c.conrelid
          where c.contype = 'f' and c.confrelid = 'public.users'::regclass`,
    );
    const data = exportSchema.parse(
      JSON.parse(readFileSync(exportedFile(await ask(core(), 'me export', alice)).file, 'utf8')),
    );
    const exported = Object.keys(data.tables).map((k) => k.split('.')[0]);
    for (const { name } of fkTables) expect(exported).toContain(name);
    expect(fkTables.length).toBeGreaterThanOrEqual(4);
  });

  it('the audit entries where the person is only the subject do not reveal who acted or why', async () => {
    const { workspace } = await fillIn(database().db, alice, 'alice');
    await database()
      .db.insert(auditLog)
      .values({
        workspaceId: workspace.id,
        actor: 'UADMIN',
        action: 'lead.add',
        subject: 'UALICE',
        details: { by: 'UADMIN' },
      });
    const raw = readFileSync(exportedFile(await ask(core(), 'me export', alice)).file, 'utf8');
    expect(exportSchema.parse(JSON.parse(raw)).audit).toEqual([
      expect.objectContaining({ action: 'lead.add', role: 'subject', details: null }),
    ]);
    expect(raw).not.toContain('UADMIN');
  });

  it('someone Backcare knows nothing about gets no file', async () => {
    const result = await ask(core(), 'me export', testActor({ userExternalId: 'nobody' }));
    expect(result.blocks.some((b) => b.type === 'file')).toBe(false);
    expect(replyText(result)).toContain('nothing to export');
  });

  it('me still shows the summary, and rejects other words', async () => {
    await ask(core(), 'settings on', alice);
    expect(replyText(await ask(core(), 'me', alice))).toContain('What Backcare stores about you');
    expect(replyText(await ask(core(), 'me everything', alice))).toContain('Usage: `/backcare me [export]`');
  });

  it('admin forget: an admin confirms, the person’s data is gone, others are untouched, and it is audited', async () => {
    const db = database().db;
    await ask(core(), 'settings on', bob);
    await fillIn(db, alice, 'alice');
    await fillIn(db, bob, 'bob');

    const asked = await ask(core(), 'admin forget <@UALICE|alice>', admin);
    expect(replyText(asked)).toContain('Delete everything Backcare stores about <@UALICE>');
    const done = await ask(core(), { kind: 'action', ...button(asked, 'admin.forget.confirm') }, admin);
    expect(done.replaceOriginal).toBe(true);
    expect(replyText(done)).toContain('has been deleted');

    const left = await queryRows<{ who: string; n: number }>(
      db,
      sql`select u.platform_user_id as who,
                 (select count(*)::int from activity_events a where a.user_id = u.id)
               + (select count(*)::int from nudge_deliveries d where d.user_id = u.id)
               + (select count(*)::int from triage_records t where t.user_id = u.id) as n
          from users u order by u.platform_user_id`,
    );
    expect(left.map((r) => r.who)).toEqual(['UBOBBY']);
    expect(left[0]!.n).toBe(3);
    const grants = await db.select().from(leadGrants);
    expect(grants.map((g) => g.platformUserId)).toEqual(['UBOBBY']);

    const audit = await db.select().from(auditLog);
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'UADMIN',
        action: 'admin.forget',
        subject: 'UALICE',
        details: { deleted: true },
      }),
    ]);
  });

  it('admin forget of someone with no data says so, and is still audited', async () => {
    await ask(core(), 'settings', admin);
    const asked = await ask(core(), 'admin forget @ghost', admin);
    const done = await ask(core(), { kind: 'action', ...button(asked, 'admin.forget.confirm') }, admin);
    expect(replyText(done)).toContain('stored nothing about <@ghost>');
    expect(await database().db.select().from(auditLog)).toEqual([
      expect.objectContaining({ subject: 'ghost', details: { deleted: false } }),
    ]);
  });

  it('non-admins are refused, both when asking and when pressing a forwarded confirm button', async () => {
    const db = database().db;
    await fillIn(db, alice, 'alice');
    const refused = await ask(core(), 'admin forget @UALICE', bob);
    expect(replyText(refused)).toContain('Only workspace admins');
    expect(refused.actions).toEqual([]);

    const asked = await ask(core(), 'admin forget @UALICE', admin);
    const pressedByBob = await ask(core(), { kind: 'action', ...button(asked, 'admin.forget.confirm') }, bob);
    expect(replyText(pressedByBob)).toContain('Only workspace admins');
    expect((await db.select().from(users)).map((u) => u.platformUserId).sort()).toEqual(['UALICE']);
    expect(await db.select().from(auditLog)).toEqual([]);
  });

  it('cancel deletes nothing, and the confirm button expires after ten minutes', async () => {
    const db = database().db;
    await fillIn(db, alice, 'alice');
    const asked = await ask(core(), 'admin forget @UALICE', admin);
    expect(replyText(await ask(core(), { kind: 'action', ...button(asked, 'admin.forget.cancel') }, admin))).toBe(
      'Nothing was deleted.',
    );
    clock.advance(11 * 60 * 1000);
    expect(replyText(await ask(core(), { kind: 'action', ...button(asked, 'admin.forget.confirm') }, admin))).toContain(
      'expired',
    );
    expect(await db.select().from(users)).toHaveLength(1);
  });

  it('bad arguments get the usage line', async () => {
    expect(replyText(await ask(core(), 'admin', admin))).toContain('Usage: `/backcare admin forget @user`');
    expect(replyText(await ask(core(), 'admin forget', admin))).toContain('name exactly one person');
    expect(replyText(await ask(core(), 'admin forget @a @b', admin))).toContain('name exactly one person');
    expect(replyText(await ask(core(), 'admin forget <#C123>', admin))).toContain('is not a person');
  });
});

describe('parseMention', () => {
  it.each([
    ['<@U024BE7LH|bob>', 'U024BE7LH'],
    ['<@U024BE7LH>', 'U024BE7LH'],
    ['<@123456789012345678>', '123456789012345678'],
    ['<@!123456789012345678>', '123456789012345678'],
    ['@sam', 'sam'],
    ['sam.lee', 'sam.lee'],
    ['<#C123|general>', null],
    ['<@>', null],
    ['@', null],
  ])('%s → %s', (token, expected) => {
    expect(parseMention(token)).toBe(expected);
  });
});
