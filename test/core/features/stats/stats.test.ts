import { and, eq, inArray, ne } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { replyText, type Reply } from '../../../../src/core/reply.js';
import type { WeekRow } from '../../../../src/core/features/stats/query.js';
import { queryTeamWeeks } from '../../../../src/core/features/stats/rollups.js';
import { weekWindow } from '../../../../src/core/features/stats/weeks.js';
import { statsArgsSchema } from '../../../../src/core/features/stats/stats.js';
import type { TeamResolver } from '../../../../src/core/features/stats/team.js';
import { activityEvents, auditLog, leadGrants, triageRecords, users } from '../../../../src/db/schema.js';
import { ask, buildTestCore, button, testActor, testClock } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';
import { addPerson, did, NOW, seedTeam, seedWorkspace, TEAM_TZ } from './stats-seed.js';

const lead = testActor({ isAdmin: true, userExternalId: 'U_lead', workspaceName: 'Local' });
const member = testActor({ isAdmin: false, userExternalId: 'U_p1', workspaceName: 'Local' });

const zero = {
  unfinishedSessions: 0,
  unfinishedSessionPeople: 0,
  delivered: 0,
  deliveredPeople: 0,
  done: 0,
  donePeople: 0,
  snoozed: 0,
  snoozedPeople: 0,
  skipped: 0,
  skippedPeople: 0,
  ignored: 0,
  ignoredPeople: 0,
};

/** Worked out by hand from stats-seed.ts; see the comments there. */
const expectedRows: WeekRow[] = [
  {
    weekStart: '2026-02-23',
    members: 6,
    optedIn: 5,
    ...zero,
    sessions: 5,
    sessionPeople: 2,
    active: 2,
    medianStreak: 2,
  },
  {
    weekStart: '2026-03-02',
    members: 6,
    optedIn: 5,
    delivered: 11,
    deliveredPeople: 5,
    done: 7,
    donePeople: 5,
    snoozed: 1,
    snoozedPeople: 1,
    skipped: 1,
    skippedPeople: 1,
    ignored: 1,
    ignoredPeople: 1,
    sessions: 11,
    sessionPeople: 6,
    // p6's stopped stretch: one person, so a lead sees "not enough participants".
    unfinishedSessions: 1,
    unfinishedSessionPeople: 1,
    active: 6,
    // Streaks at Sunday 8 March: p1 5, p2 3, p3 1, p4 0, p5 0 (ended on Monday), p6 4 (weekends) → median 2.
    medianStreak: 2,
  },
  // Today (Wednesday) is not over: p1's streak Mon 2 – Tue 10 is alive at 7; p3 0; p4 1 → median 1.
  {
    weekStart: '2026-03-09',
    members: 6,
    optedIn: 5,
    ...zero,
    delivered: 6,
    deliveredPeople: 5,
    done: 5,
    donePeople: 5,
    sessions: 4,
    sessionPeople: 3,
    active: 3,
    medianStreak: 1,
  },
];

const section = (result: Reply, label: RegExp): string => {
  const found = result.blocks.find((b) => b.type === 'text' && label.test(b.text));
  if (!found || found.type !== 'text') throw new Error(`no block matching ${label}`);
  return found.text;
};

describe('stats arguments', () => {
  it('reads team, weeks and csv in any order and rejects the rest', () => {
    expect(statsArgsSchema.parse([])).toEqual({ team: undefined, weeks: 4, csv: false });
    expect(statsArgsSchema.parse(['#design', '8'])).toEqual({ team: '#design', weeks: 8, csv: false });
    expect(statsArgsSchema.parse(['csv', '12w', 'workspace'])).toEqual({ team: 'workspace', weeks: 12, csv: true });
    expect(statsArgsSchema.parse(['#ops', '8', 'weeks'])).toEqual({ team: '#ops', weeks: 8, csv: false });
    expect(statsArgsSchema.safeParse(['0']).success).toBe(false);
    expect(statsArgsSchema.safeParse(['27']).success).toBe(false);
    expect(statsArgsSchema.safeParse(['a', 'b']).success).toBe(false);
  });
});

describeEachDatabase('team stats', (database) => {
  const core = (deps: Parameters<typeof buildTestCore>[1] = {}) =>
    buildTestCore(database().db, { now: () => NOW, ...deps });
  const userIds = async (platformUserIds: string[]) =>
    (
      await database().db.select({ id: users.id }).from(users).where(inArray(users.platformUserId, platformUserIds))
    ).map((u) => u.id);

  it('aggregates a seeded team by ISO week in New York time, in one query', async () => {
    const { workspaceId } = await seedTeam(database().db);
    const rows = await queryTeamWeeks(database().db, {
      workspaceId,
      scope: { kind: 'workspace' },
      window: weekWindow(NOW, TEAM_TZ, 2),
    });
    expect(rows).toEqual(expectedRows);
  });

  it('puts events by the team timezone, not UTC, at both week boundaries', async () => {
    const { workspaceId } = await seedTeam(database().db);
    const utc = await queryTeamWeeks(database().db, {
      workspaceId,
      scope: { kind: 'workspace' },
      window: weekWindow(NOW, 'UTC', 2),
    });
    // In UTC, p5's Sunday 23:30 moves from W09 to W10 and p6's Sunday 8 March 23:30 (and p1's nudge) to W11.
    expect(utc.map((r) => [r.weekStart, r.sessions, r.delivered])).toEqual([
      ['2026-02-23', 4, 0],
      ['2026-03-02', 11, 10],
      ['2026-03-09', 5, 7],
    ]);
  });

  it('shows a lead the figures with changes, hiding what fewer than 5 people did', async () => {
    await seedTeam(database().db);
    const result = await ask(core(), '/backcare stats 2', lead);
    expect(result.summary).toBe('Team participation: Local (whole workspace)');
    const w10 = section(result, /^\*Week 10/);
    expect(w10).toContain('Members 6 (±0) · opted in 5 (±0)');
    expect(w10).toContain(
      'Nudges delivered 11 (+11) · done 7 (+7) · snoozed not enough participants · skipped not enough participants · ignored not enough participants',
    );
    expect(w10).toContain('Completion rate 64%\n');
    expect(w10).toContain(
      'Sessions completed 11 · started, not completed not enough participants\nActive members 6 · median streak 2 days',
    );
    const w11 = section(result, /^\*Week 11/);
    expect(w11).toMatch(/^\*Week 11, 9–15 Mar 2026\* \(so far\)/);
    expect(w11).toContain('Members 6 (±0) · opted in 5 (±0)');
    expect(w11).toContain('Nudges delivered 6 (−5) · done 5 (−2) · snoozed 0');
    expect(w11).toContain('Completion rate 83% (+19.7 pts)');
    expect(w11).toContain(
      'Sessions completed not enough participants · started, not completed 0\nActive members not enough participants · median streak not enough participants',
    );
    // Newest week first.
    expect(
      result.blocks.findIndex(
        (b) => b === result.blocks.find((x) => x.type === 'text' && x.text.startsWith('*Week 11')),
      ),
    ).toBeLessThan(result.blocks.findIndex((b) => b.type === 'text' && b.text.startsWith('*Week 10')));
    const image = result.blocks.find((b) => b.type === 'image');
    expect(image).toMatchObject({ type: 'image', path: expect.stringMatching(/stats-.*\.png$/) });
    expect(image?.type === 'image' && image.alt).toContain('W10 11, W11 not enough participants');
  });

  it('applies the floor at exactly 4 and 5 people', async () => {
    const db = database().db;
    const workspaceId = await seedWorkspace(db);
    const people: number[] = [];
    for (let i = 1; i <= 6; i += 1) people.push(await addPerson(db, workspaceId, `U_${i}`, { optedIn: i <= 4 }));
    for (const id of people.slice(0, 4)) await did(db, workspaceId, id, '2026-03-10T10:00');
    const four = section(await ask(core(), '/backcare stats 1', lead), /^\*Week 11/);
    expect(four).toContain('opted in not enough participants');
    expect(four).toContain(
      'Sessions completed not enough participants · started, not completed 0 (±0)\nActive members not enough participants',
    );

    await did(db, workspaceId, people[4]!, '2026-03-10T10:00');
    const five = section(await ask(core(), '/backcare stats 1', lead), /^\*Week 11/);
    expect(five).toContain('opted in not enough participants');
    expect(five).toContain(
      'Sessions completed 5 (+5) · started, not completed 0 (±0)\nActive members 5 (+5) · median streak 1 day',
    );

    // A lower configured floor is honoured, but never below 3.
    expect(section(await ask(core({ deps: { privacyFloor: 4 } }), '/backcare stats 1', lead), /^\*Week 11/)).toContain(
      'opted in 4',
    );
    const clamped = await ask(core({ deps: { privacyFloor: 1 } }), '/backcare stats 1', lead);
    expect(replyText(clamped)).toContain('fewer than 3 people');
  });

  it('shows sessions completed and sessions started but not completed apart: Done pressed at once is not completed', async () => {
    const db = database().db;
    await seedWorkspace(db);
    const clock = testClock(new Date('2026-03-10T15:00:00Z'));
    const sessions = buildTestCore(db, { now: clock.now });
    const person = (i: number) => testActor({ userExternalId: `U_${i}`, isAdmin: false, workspaceName: 'Local' });
    for (let i = 1; i <= 10; i += 1) {
      const started = await ask(sessions, 'stretch', person(i));
      const planned = started.sequence!.frames.reduce((sum, f) => sum + f.ms, 0);
      // People 1–5 follow the whole stretch; 6–10 press Done straight away.
      if (i <= 5) clock.advance(planned);
      await ask(sessions, { kind: 'action', ...button(started, 'guided.done') }, person(i));
    }
    // Backcare met them "now" by the database clock; the figures are for March.
    await db.update(users).set({ createdAt: new Date('2026-01-01T00:00:00Z') });
    const week = section(await ask(core(), '/backcare stats 1', lead), /^\*Week 11/);
    expect(week).toContain('Sessions completed 5 (+5) · started, not completed 5 (+5)\nActive members 5 (+5)');

    // One more early end by someone already counted: the count moves, the people behind it do not.
    clock.advance(1000);
    const again = await ask(sessions, 'stretch', person(6));
    await ask(sessions, { kind: 'action', ...button(again, 'guided.done') }, person(6));
    expect(section(await ask(core(), '/backcare stats 1', lead), /^\*Week 11/)).toContain(
      'started, not completed 6 (+6)',
    );

    // The privacy floor applies to it like to every count: four people are not shown.
    await db
      .delete(activityEvents)
      .where(
        and(
          eq(activityEvents.kind, 'session'),
          ne(activityEvents.outcome, 'completed'),
          inArray(activityEvents.userId, await userIds(['U_6', 'U_7'])),
        ),
      );
    expect(section(await ask(core(), '/backcare stats 1', lead), /^\*Week 11/)).toContain(
      'started, not completed not enough participants',
    );
  });

  it('shows nothing at all for a team smaller than the floor', async () => {
    const db = database().db;
    const workspaceId = await seedWorkspace(db);
    for (let i = 1; i <= 4; i += 1)
      await did(db, workspaceId, await addPerson(db, workspaceId, `U_${i}`, { optedIn: true }), '2026-03-10T10:00');
    const result = await ask(core(), '/backcare stats', lead);
    expect(replyText(result)).toMatch(
      /not enough participants\. Backcare shows team figures only for groups of at least 5 people/,
    );
    expect(result.blocks.some((b) => b.type === 'image')).toBe(false);
    expect(replyText(result)).not.toMatch(/\d+%|Members \d/);

    await addPerson(db, workspaceId, 'U_5');
    expect(replyText(await ask(core(), '/backcare stats', lead))).toContain('Members 5');
  });

  it('refuses politely anyone who is not a lead, and lets in admins, lead roles and granted leads', async () => {
    const { workspaceId } = await seedTeam(database().db);
    const refused = await ask(core(), '/backcare stats', member);
    expect(refused.summary).toBe('Only workspace admins and team leads can do that.');
    expect(replyText(refused)).toMatch(/^Only workspace admins and team leads can do that\.[\s\S]*\/backcare lead add/);
    expect(refused.blocks.some((b) => b.type === 'image')).toBe(false);
    expect(await database().db.select().from(auditLog)).toHaveLength(0);

    expect((await ask(core(), '/backcare stats', { ...member, isLead: true })).summary).toMatch(/^Team participation/);
    await database().db.insert(leadGrants).values({ workspaceId, platformUserId: 'U_p1', grantedBy: 'U_admin' });
    expect((await ask(core(), '/backcare stats', member)).summary).toMatch(/^Team participation/);
  });

  it('records who looked at which team and when in the audit log, CSV exports included', async () => {
    const { workspaceId } = await seedTeam(database().db);
    const shown = await ask(core(), '/backcare stats 2', lead);
    const exported = await ask(core(), { kind: 'action', ...button(shown, 'stats.csv') }, lead);
    const rows = await database()
      .db.select()
      .from(auditLog)
      .where(eq(auditLog.workspaceId, workspaceId))
      .orderBy(auditLog.id);
    expect(
      rows.map((r) => ({
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        at: r.at.toISOString(),
        details: r.details,
      })),
    ).toEqual([
      {
        actor: 'U_lead',
        action: 'stats.view',
        subject: 'Local (whole workspace)',
        at: NOW.toISOString(),
        details: { scope: 'workspace', weeks: 2, shown: true },
      },
      {
        actor: 'U_lead',
        action: 'stats.csv',
        subject: 'Local (whole workspace)',
        at: NOW.toISOString(),
        details: { scope: 'workspace', weeks: 2, shown: true },
      },
    ]);
    const file = exported.blocks.find((b) => b.type === 'file');
    expect(file).toMatchObject({ type: 'file', filename: 'backcare-stats-2026-W10-to-2026-W11.csv' });
    const { readFile } = await import('node:fs/promises');
    const csv = await readFile(file?.type === 'file' ? file.path : '', 'utf8');
    expect(csv.split('\n').slice(0, 3)).toEqual([
      'iso_week,week_start,members,opted_in,nudges_delivered,done,snoozed,skipped,ignored,completion_rate,sessions_completed,sessions_not_completed,active_members,median_streak_days',
      '2026-W10,2026-03-02,6,5,11,7,not enough participants,not enough participants,not enough participants,0.6364,11,not enough participants,6,2',
      '2026-W11,2026-03-09,6,5,6,5,0,0,0,0.8333,not enough participants,0,not enough participants,not enough participants',
    ]);

    // The export button re-checks who presses it.
    const forged = await ask(core(), { kind: 'action', ...button(shown, 'stats.csv') }, member);
    expect(forged.summary).toBe('Only workspace admins and team leads can do that.');
  });

  it('never shows names, platform ids or triage, and triage records change nothing', async () => {
    const { ids } = await seedTeam(database().db);
    const before = await ask(core(), '/backcare stats 2 csv', lead);
    await database()
      .db.insert(triageRecords)
      .values(Object.values(ids).map((userId) => ({ userId, outcome: 'see_doctor_today' })));
    const after = await ask(core(), '/backcare stats 2 csv', lead);
    const { readFile } = await import('node:fs/promises');
    const everything = async (r: Reply) => {
      const files = await Promise.all(r.blocks.flatMap((b) => (b.type === 'file' ? [readFile(b.path, 'utf8')] : [])));
      return [replyText(r), ...files].join('\n');
    };
    const [textBefore, textAfter] = [await everything(before), await everything(after)];
    expect(textAfter).toBe(textBefore);
    expect(textAfter).not.toMatch(/Secret|U_p\d|triage|doctor|see_/i);
  });

  it('asks the platform who is in a named team, and says so when it cannot', async () => {
    const { ids } = await seedTeam(database().db);
    expect(ids.p1).toBeDefined();
    const calls: (string | undefined)[] = [];
    const resolver: TeamResolver = {
      platform: 'console',
      async resolve(_actor, team) {
        calls.push(team);
        if (team === '#five')
          return {
            kind: 'members',
            label: '#five',
            platformUserIds: ['U_p1', 'U_p2', 'U_p3', 'U_p4', 'U_p5', 'U_not_in_backcare'],
          };
        return { kind: 'unknown', message: `I can't find ${team}.` };
      },
    };
    const five = await ask(core({ deps: { teamResolvers: [resolver] } }), '/backcare stats #five 2', lead);
    expect(five.summary).toBe('Team participation: #five');
    // Only people Backcare knows are members; p6's weekend sessions are not this team's.
    expect(section(five, /^\*Week 10/)).toContain('Members 5 (±0) · opted in 5 (±0)');
    expect(section(five, /^\*Week 10/)).toContain(
      'Sessions completed 9 · started, not completed 0 (±0)\nActive members 5 · median streak 1 day',
    );
    const unknown = await ask(core({ deps: { teamResolvers: [resolver] } }), '/backcare stats #nope', lead);
    expect(unknown.summary).toBe("I can't find #nope.");
    expect(calls).toEqual(['#five', '#nope']);

    const noResolver = await ask(core(), '/backcare stats #five', lead);
    expect(noResolver.summary).toMatch(/can't look up `#five` here/);
  });
});
