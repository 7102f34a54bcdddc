import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getTableName, is, sql } from 'drizzle-orm';
import { PgDialect, PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../../../src/config/env.js';
import { privacyFigures, storedTables } from '../../../../src/core/features/privacy/privacy.js';
import { replyText, type Reply } from '../../../../src/core/reply.js';
import { MIN_PRIVACY_FLOOR, toWeekFigures } from '../../../../src/core/features/stats/privacy.js';
import { teamWeeksQuery, weekRowSchema, type TeamWeeksInput } from '../../../../src/core/features/stats/query.js';
import { queryTeamWeeks, teamWeeksRollupQuery } from '../../../../src/core/features/stats/rollups.js';
import { weekWindow } from '../../../../src/core/features/stats/weeks.js';
import { queryRows } from '../../../../src/db/client.js';
import * as schema from '../../../../src/db/schema.js';
import { ask, buildTestCore, testActor } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';
import { repoRoot } from '../../../support/spawn.js';
import { NOW, seedTeam, TEAM_TZ } from '../stats/stats-seed.js';

/** Every table the drizzle schema defines, by its SQL name. */
const schemaTables = (Object.values(schema) as unknown[])
  .flatMap((value) => (is(value, PgTable) ? [getTableName(value)] : []))
  .sort();

const privacyMd = readFileSync(path.join(repoRoot, 'PRIVACY.md'), 'utf8');

/** The table names in PRIVACY.md's "What is stored" table: the first cell of each row. */
function documentedTables(markdown: string): string[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('What is stored'));
  if (!section) throw new Error('PRIVACY.md has no "What is stored" section');
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!).sort();
}

describe('PRIVACY.md and /backcare privacy against the schema', () => {
  it('the schema has tables to describe (the parse below is not vacuous)', () => {
    expect(schemaTables).toEqual(
      expect.arrayContaining(['users', 'activity_events', 'triage_records', 'team_routines']),
    );
  });

  it('describes every table in src/db/schema.ts, and no table that does not exist', () => {
    expect(documentedTables(privacyMd)).toEqual(schemaTables);
  });

  it('the /backcare privacy table list covers the same tables', () => {
    expect(storedTables.map((t) => t.table).sort()).toEqual(schemaTables);
  });

  it('states the configuration defaults the code really has', () => {
    const defaults = parseEnv({});
    expect(privacyMd).toContain(
      `\`STATS_PRIVACY_FLOOR\`, default ${defaults.STATS_PRIVACY_FLOOR} people, never below ${MIN_PRIVACY_FLOOR}`,
    );
    expect(privacyMd).toContain(`\`RETENTION_MONTHS\` (default ${defaults.RETENTION_MONTHS} months)`);
    expect(privacyMd).toContain(`\`AUDIT_RETENTION_MONTHS\` (default ${defaults.AUDIT_RETENTION_MONTHS} months`);
    expect(privacyMd).toMatch(/`\/backcare forget-me`/);
    expect(privacyMd).toMatch(/`\/backcare me export`/);
    expect(privacyMd).toMatch(/`\/backcare admin forget @person`/);
  });
});

describeEachDatabase('/backcare privacy', (database) => {
  const member = testActor({
    platform: 'slack',
    workspaceExternalId: 'T0ACME',
    userExternalId: 'U0MEMBER',
    isAdmin: false,
  });

  it('states the floor and retention the core was configured with', async () => {
    const configured = buildTestCore(database().db, {
      deps: { privacyFloor: 7, retention: { months: 9, auditMonths: 30 } },
    });
    const said = replyText(await ask(configured, '/backcare privacy', member));
    expect(said).toContain('only for groups of at least 7 people');
    expect(said).toContain('9 months, then deleted automatically');
    expect(said).toContain('The audit log: 30 months, then deleted automatically.');

    const other = replyText(
      await ask(
        buildTestCore(database().db, { deps: { privacyFloor: 12, retention: { months: 2, auditMonths: 0 } } }),
        'privacy',
        member,
      ),
    );
    expect(other).toContain('at least 12 people');
    expect(other).toContain('2 months, then deleted automatically');
    expect(other).toContain('audit retention is set to 0');
  });

  it('states the floor the stats really apply (never below the minimum) and the env defaults without retention settings', async () => {
    const core = buildTestCore(database().db, { deps: { privacyFloor: 1 } });
    const said = replyText(await ask(core, 'privacy', member));
    expect(said).toContain(`at least ${MIN_PRIVACY_FLOOR} people`);
    const defaults = parseEnv({});
    expect(privacyFigures(core.deps)).toEqual({
      floor: MIN_PRIVACY_FLOOR,
      retentionMonths: defaults.RETENTION_MONTHS,
      auditMonths: defaults.AUDIT_RETENTION_MONTHS,
    });
    expect(said).toContain(`${defaults.RETENTION_MONTHS} months, then deleted automatically`);
  });

  it('stores nothing for asking', async () => {
    await ask(buildTestCore(database().db), 'privacy', member);
    expect(await database().db.select().from(schema.users)).toHaveLength(0);
  });
});

/** Everything a lead can get out of a stats view: the reply text, image alt text and the files' contents. */
async function everythingIn(reply: Reply): Promise<string> {
  const files = await Promise.all(reply.blocks.flatMap((b) => (b.type === 'file' ? [readFile(b.path, 'utf8')] : [])));
  return [
    replyText(reply),
    ...reply.blocks.map((b) => (b.type === 'image' ? b.alt : '')),
    ...files,
    JSON.stringify(reply.actions),
  ].join('\n');
}

describeEachDatabase('the promise held against the stats code', (database, driver) => {
  const lead = testActor({
    platform: 'console',
    workspaceExternalId: 'local',
    userExternalId: 'U_lead',
    isAdmin: true,
  });

  it('the stats reply, chart text and CSV for a seeded team carry no platform id, name or internal user id', async () => {
    const { ids } = await seedTeam(database().db);
    await database()
      .db.insert(schema.triageRecords)
      .values(Object.values(ids).map((userId) => ({ userId, outcome: 'physio' })));
    const core = buildTestCore(database().db, { now: () => NOW });
    const view = await ask(core, '/backcare stats 3 csv', lead);
    expect(view.summary).toBe('Team participation: the whole workspace');
    expect(view.blocks.some((b) => b.type === 'file')).toBe(true);
    const seen = await everythingIn(view);
    expect(seen).toMatch(/sessions_completed/); // the CSV really was read
    const people = await database().db.select().from(schema.users);
    expect(people.length).toBeGreaterThanOrEqual(6);
    for (const person of people) {
      expect(seen).not.toContain(person.platformUserId);
      if (person.displayName) expect(seen).not.toContain(person.displayName);
    }
    expect(seen).not.toMatch(/triage|physio/i);
  });

  it('the rows the query returns have only aggregate columns, and what leads see has no per-person field', async () => {
    const { workspaceId } = await seedTeam(database().db);
    const input: TeamWeeksInput = { workspaceId, scope: { kind: 'workspace' }, window: weekWindow(NOW, TEAM_TZ, 3) };
    const raw = await queryRows<Record<string, unknown>>(database().db, teamWeeksQuery(input));
    expect(raw.length).toBe(4);
    const allowed = Object.keys(weekRowSchema.shape).sort();
    for (const row of raw) expect(Object.keys(row).sort()).toEqual(allowed);
    expect(allowed.filter((key) => /user|name|platform|display|^id$|Id$/i.test(key))).toEqual([]);
    const figures = toWeekFigures(weekRowSchema.array().parse(raw), { floor: 5, today: '2026-03-11' });
    for (const week of figures) {
      expect(Object.keys(week).sort()).toEqual(['cells', 'change', 'current', 'isoWeek', 'label', 'weekStart']);
      expect(Object.keys(week.cells).every((k) => !/user|name|person/i.test(k))).toBe(true);
    }
  });

  it(`the stats query runs under a role that cannot read triage_records [${driver}]`, async () => {
    const db = database().db;
    const { workspaceId } = await seedTeam(db);
    const input: TeamWeeksInput = { workspaceId, scope: { kind: 'workspace' }, window: weekWindow(NOW, TEAM_TZ, 3) };
    const expected = await queryRows<unknown>(db, teamWeeksQuery(input));
    // Roles are cluster-wide on PostgreSQL: a unique name, dropped afterwards.
    const role = `backcare_probe_${randomBytes(4).toString('hex')}`;
    await db.execute(sql.raw(`create role ${role} nologin`));
    try {
      const readable = schemaTables.filter((t) => t !== 'triage_records');
      await db.execute(sql.raw(`grant select on ${readable.map((t) => `"${t}"`).join(', ')} to ${role}`));
      const asProbe = <T>(work: (tx: Parameters<Parameters<typeof db.transaction>[0]>[0]) => Promise<T>) =>
        db.transaction(async (tx) => {
          await tx.execute(sql.raw(`set local role ${role}`));
          return work(tx);
        });
      // The control: this role really cannot read the triage table…
      const denied = await asProbe((tx) => queryRows(tx, sql`select count(*) from triage_records`)).then(
        () => 'allowed',
        (error: unknown) => String((error as { cause?: { message?: string } }).cause?.message ?? error),
      );
      expect(denied).toMatch(/permission denied for table triage_records/);
      // …and the stats query gives the same answer without it.
      expect(await asProbe((tx) => queryRows<unknown>(tx, teamWeeksQuery(input)))).toEqual(expected);
      // So does the live view, read from the weekly rollups.
      expect(await asProbe((tx) => queryTeamWeeks(tx, input))).toEqual(await queryTeamWeeks(db, input));
    } finally {
      await db.execute(sql.raw(`drop owned by ${role}`));
      await db.execute(sql.raw(`drop role ${role}`));
    }
  });
});

describe('the stats code never names the triage table', () => {
  it('the generated SQL mentions no triage table', () => {
    const input: TeamWeeksInput = {
      workspaceId: 1,
      scope: { kind: 'members', platformUserIds: ['U1', 'U2'] },
      window: weekWindow(NOW, TEAM_TZ, 4),
    };
    const { sql: text } = new PgDialect().sqlToQuery(teamWeeksQuery(input));
    expect(text).toMatch(/activity_events/); // the rendering is real
    expect(text).not.toMatch(/triage/i);
    const { sql: live } = new PgDialect().sqlToQuery(teamWeeksRollupQuery(input));
    expect(live).toMatch(/activity_week_rollups/);
    expect(live).not.toMatch(/triage/i);
  });

  it('no file of the stats module refers to triage', () => {
    const dir = path.join(repoRoot, 'src/core/features/stats');
    const files = readdirSync(dir).map((n) => path.join(dir, n));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files)
      expect({ file, mentions: /triage/i.test(readFileSync(file, 'utf8')) }).toEqual({ file, mentions: false });
  });
});
