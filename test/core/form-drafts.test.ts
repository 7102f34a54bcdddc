import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, expect, it } from 'vitest';
import { createActionRefStore } from '../../src/core/action-refs.js';
import { createFormDraftStore, type DraftOwner } from '../../src/core/form-drafts.js';
import type { Form } from '../../src/core/reply.js';
import { queryRows, type Db } from '../../src/db/client.js';
import { formDrafts } from '../../src/db/schema.js';
import { ensureUser, ensureWorkspace, forgetPerson } from '../../src/db/users.js';
import { runRetention } from '../../src/ops/retention.js';
import { ask, buildTestCore, testActor } from '../support/core.js';
import { describeEachDatabase } from '../support/db.js';

const NOW = new Date('2026-06-15T10:00:00Z');
const exportDir = mkdtempSync(path.join(tmpdir(), 'backcare-drafts-export-'));
afterAll(() => rmSync(exportDir, { recursive: true, force: true }));
const HOUR = 60 * 60 * 1000;

const form: Form = {
  formId: 'settings',
  title: 'Settings',
  submitLabel: 'Save',
  fields: [
    { id: 'days', label: 'Days', kind: 'multiselect', options: [{ label: 'Mon', value: 'mon' }], initial: [] },
    { id: 'start', label: 'Start', kind: 'time', initial: '09:00' },
    { id: 'timezone', label: 'Timezone', kind: 'timezone' },
  ],
};
const alex: DraftOwner = { platform: 'discord', workspaceExternalId: '222222222222222222', userId: '666' };
const sam: DraftOwner = { ...alex, userId: '777' };

const newDraft = (owner: DraftOwner, f: Form = form) => ({
  form: f,
  owner,
  values: { days: [], start: '09:00', timezone: '' },
  position: 0,
});

const rows = (db: Db, table: 'form_drafts' | 'action_refs', column: 'id' | 'key') =>
  queryRows<{ v: string }>(db, sql`select ${sql.identifier(column)} as v from ${sql.identifier(table)} order by 1`);

describeEachDatabase('form drafts and action references in storage', (database) => {
  it('reads back what was stored, validated, for its owner only; another person or platform gets null', async () => {
    const store = createFormDraftStore({ db: database().db, now: () => NOW });
    const draft = await store.create({ ...newDraft(alex), errors: { start: 'too early' }, only: ['start'] });
    expect(draft.id).toMatch(/^[0-9a-z]{1,16}$/);
    expect(await store.get(draft.id, alex)).toEqual({ ...draft, expiresAt: new Date(NOW.getTime() + HOUR) });
    // Continuing needs the same person, wherever they press (here: a DM, another workspace id).
    expect(await store.get(draft.id, { platform: 'discord', userId: '666' })).not.toBeNull();
    expect(await store.get(draft.id, sam)).toBeNull();
    expect(await store.get(draft.id, { platform: 'slack', userId: '666' })).toBeNull();
    expect(await store.update(draft.id, sam, { values: { start: '06:00' }, position: 3 })).toBeNull();
    expect((await store.get(draft.id, alex))?.values.start).toBe('09:00');
  });

  it('answers given at the same moment through two stores (two replicas) are all kept', async () => {
    const db = database().db;
    const [one, two] = [createFormDraftStore({ db, now: () => NOW }), createFormDraftStore({ db, now: () => NOW })];
    const draft = await one.create(newDraft(alex));
    await Promise.all([
      one.update(draft.id, alex, { values: { days: ['mon'] } }),
      two.update(draft.id, alex, { values: { timezone: 'Europe/Paris' } }),
      two.update(draft.id, alex, { position: 1 }),
    ]);
    const read = await one.get(draft.id, alex);
    expect(read).toMatchObject({ values: { days: ['mon'], start: '09:00', timezone: 'Europe/Paris' }, position: 1 });
  });

  it('an expired draft is not continued; one removed twice is submitted once', async () => {
    let now = NOW;
    const store = createFormDraftStore({ db: database().db, now: () => now });
    const draft = await store.create(newDraft(alex));
    now = new Date(NOW.getTime() + HOUR + 1);
    expect(await store.get(draft.id, alex)).toBeNull();
    expect(await store.update(draft.id, alex, { position: 1 })).toBeNull();
    now = NOW;
    expect(await Promise.all([store.remove(draft.id), store.remove(draft.id)])).toEqual(
      expect.arrayContaining([true, false]),
    );
  });

  it('a stored row that no longer fits the form schema reads as gone, not as a crash', async () => {
    const db = database().db;
    const store = createFormDraftStore({ db, now: () => NOW });
    const draft = await store.create(newDraft(alex));
    await db.execute(sql`update form_drafts set form = '{"formId": 7}'::jsonb where id = ${draft.id}`);
    expect(await store.get(draft.id, alex)).toBeNull();
  });

  it('a sensitive form (health answers) is never written to the database', async () => {
    const db = database().db;
    const store = createFormDraftStore({ db, now: () => NOW });
    const draft = await store.create(newDraft(alex, { ...form, formId: 'triage.screen', sensitive: true }));
    await store.update(draft.id, alex, { values: { days: ['mon'] }, position: 1 });
    expect(await db.select().from(formDrafts)).toEqual([]);
    expect(await store.get(draft.id, alex)).toMatchObject({ values: { days: ['mon'] }, position: 1 });
    expect(await store.get(draft.id, sam)).toBeNull();
    expect(await store.remove(draft.id)).toBe(true);
    expect(await store.get(draft.id, alex)).toBeNull();
  });

  it('action references: stored in one statement, found by key on any store, expired after their time', async () => {
    const db = database().db;
    let now = NOW;
    const made = createActionRefStore({ db, now: () => now }, { platform: 'discord', ttlMs: HOUR });
    const other = createActionRefStore({ db, now: () => now }, { platform: 'discord', ttlMs: HOUR });
    await made.save([
      { key: 'k1', actionId: 'a', value: 'v'.repeat(500), context: { guildId: '222222222222222222' } },
      { key: 'k2', actionId: 'b', value: '', context: {}, owner: { workspaceExternalId: 'g', userId: '666' } },
    ]);
    expect(await other.load('k1')).toEqual({
      key: 'k1',
      actionId: 'a',
      value: 'v'.repeat(500),
      context: { guildId: '222222222222222222' },
    });
    expect(await createActionRefStore({ db, now: () => now }, { platform: 'slack' }).load('k1')).toBeNull();
    now = new Date(NOW.getTime() + HOUR + 1);
    expect(await other.load('k1')).toBeNull();
  });

  it('the retention job deletes expired drafts and references and keeps live ones', async () => {
    const db = database().db;
    const earlier = createFormDraftStore({ db, now: () => new Date(NOW.getTime() - 2 * HOUR) });
    const current = createFormDraftStore({ db, now: () => NOW });
    const old = await earlier.create(newDraft(alex));
    const live = await current.create(newDraft(alex));
    const at = (t: Date) => createActionRefStore({ db, now: () => t }, { platform: 'discord', ttlMs: HOUR });
    await at(new Date(NOW.getTime() - 2 * HOUR)).save([{ key: 'old', actionId: 'a', value: '', context: {} }]);
    await at(NOW).save([{ key: 'live', actionId: 'a', value: '', context: {} }]);

    const report = await runRetention(db, { retentionMonths: 13, auditRetentionMonths: 24 }, NOW);
    expect(report).toMatchObject({ form_drafts: 1, action_refs: 1 });
    expect((await rows(db, 'form_drafts', 'id')).map((r) => r.v)).toEqual([live.id]);
    expect((await rows(db, 'action_refs', 'key')).map((r) => r.v)).toEqual(['live']);
    expect(old.id).not.toBe(live.id);
  });

  it('forgetting a person deletes their drafts and references in that workspace only', async () => {
    const db = database().db;
    const guild = await ensureWorkspace(db, { platform: 'discord', externalId: alex.workspaceExternalId });
    await ensureWorkspace(db, { platform: 'discord', externalId: '333333333333333333' });
    const store = createFormDraftStore({ db, now: () => NOW });
    await store.create(newDraft(alex));
    const elsewhere = await store.create(newDraft({ ...alex, workspaceExternalId: '333333333333333333' }));
    const sams = await store.create(newDraft(sam));
    await createActionRefStore({ db, now: () => NOW }, { platform: 'discord' }).save([
      { key: 'mine', actionId: 'a', value: '', context: {}, owner: alex },
      { key: 'theirs', actionId: 'a', value: '', context: {}, owner: sam },
      { key: 'channel', actionId: 'a', value: '', context: {} },
    ]);

    expect(await forgetPerson(db, { workspaceId: guild.id, platformUserId: alex.userId })).toBe(true);
    expect((await rows(db, 'form_drafts', 'id')).map((r) => r.v)).toEqual([elsewhere.id, sams.id].sort());
    expect((await rows(db, 'action_refs', 'key')).map((r) => r.v)).toEqual(['channel', 'theirs']);
  });

  it('me export includes the person’s own drafts and references, and nobody else’s', async () => {
    const db = database().db;
    const guild = await ensureWorkspace(db, { platform: 'discord', externalId: alex.workspaceExternalId });
    await ensureUser(db, guild.id, alex.userId);
    const store = createFormDraftStore({ db, now: () => new Date() });
    const mine = await store.create(newDraft(alex));
    await store.create(newDraft(sam));
    await createActionRefStore({ db, now: () => new Date() }, { platform: 'discord' }).save([
      { key: 'mine', actionId: 'a', value: 'x', context: {}, owner: alex },
      { key: 'theirs', actionId: 'a', value: 'y', context: {}, owner: sam },
    ]);
    const actor = testActor({
      platform: 'discord',
      workspaceExternalId: alex.workspaceExternalId,
      userExternalId: alex.userId,
      isAdmin: false,
    });
    const result = await ask(buildTestCore(db, { deps: { exportDir } }), 'me export', actor);
    const file = result.blocks.find((b) => b.type === 'file');
    if (file?.type !== 'file') throw new Error('no export file');
    const data = JSON.parse(readFileSync(file.path, 'utf8')) as {
      tables: Record<string, { id?: string; key?: string }[]>;
    };
    expect(data.tables.form_drafts?.map((d) => d.id)).toEqual([mine.id]);
    expect(data.tables.action_refs?.map((r) => r.key)).toEqual(['mine']);
  });
});
