import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultPreferences, type Preferences } from '../../../../src/core/preferences.js';
import { routineSourceOf } from '../../../../src/core/nudge-message.js';
import { blockText } from '../../../../src/core/reply.js';
import { validateTeamRoutine, STANDARD_CAUTIONS } from '../../../../src/core/content/team-routine.js';
import {
  createWorkspaceRoutineSources,
  mergeLibrary,
  WorkspaceRoutineLibrary,
} from '../../../../src/core/content/workspace-routines.js';
import type { Routine } from '../../../../src/core/content/schema.js';
import type { Db } from '../../../../src/db/client.js';
import { savePreferences } from '../../../../src/db/preferences.js';
import { deleteTeamRoutine, insertTeamRoutines } from '../../../../src/core/features/team-routines/store.js';
import { ensureUser, ensureWorkspace } from '../../../../src/db/users.js';
import { soloInstance } from '../../../../src/jobs/instance.js';
import { createScheduler } from '../../../../src/jobs/scheduler.js';
import { testClock, testLibrary } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';
import { silentLogger } from '../../../support/log.js';
import { deliveries, fakeSender } from '../../../jobs/support/fixtures.js';

const T0 = new Date('2026-03-03T10:00:30Z');

function teamPosture(id: string, title: string): Routine {
  const checked = validateTeamRoutine({
    id,
    title,
    kind: 'posture',
    summary: 'Reset how you sit.',
    targets: [],
    minutes: 1,
    equipment: ['chair'],
    steps: [
      { text: 'Sit back so your back touches the chair.', seconds: 30 },
      { text: 'Let your shoulders drop away from your ears.', seconds: 30 },
    ],
    source: 'Team physio',
  });
  if (!checked.ok) throw new Error(checked.issues[0]?.message);
  return checked.routine;
}

async function seedPerson(db: Db, workspace: string, user: string): Promise<{ workspaceId: number; userId: number }> {
  const ws = await ensureWorkspace(db, { platform: 'console', externalId: workspace });
  const person = await ensureUser(db, ws.id, user);
  const prefs: Preferences = {
    ...defaultPreferences('UTC'),
    optedIn: true,
    days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
    start: '00:00',
    end: '23:59',
    kinds: ['posture'],
  };
  await savePreferences(db, person.id, prefs, new Date('2026-03-03T10:00:00Z'), new Date());
  return { workspaceId: ws.id, userId: person.id };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describeEachDatabase('scheduled nudges and team routines', (database) => {
  it('nudges in a workspace can be its own routines; another workspace never gets them; removal is seen on the next pass', async () => {
    const db = database().db;
    const clock = testClock(T0);
    const library = testLibrary();
    const mine = await seedPerson(db, 'W-ACME', 'U-ACME');
    const theirs = await seedPerson(db, 'W-OTHER', 'U-OTHER');
    await insertTeamRoutines(
      db,
      { workspaceId: mine.workspaceId, actor: 'U-LEAD', via: 'form' },
      [teamPosture('team-chair-reset', 'Team chair reset')],
      new Date(),
    );
    const sender = fakeSender();
    const scheduler = createScheduler({
      db,
      log: silentLogger(),
      senders: { console: sender.sender },
      instance: soloInstance(1),
      now: clock.now,
      sleep: async (ms) => clock.advance(ms),
      routines: routineSourceOf({ db, log: silentLogger(), now: clock.now, privacyFloor: 5, library }),
      workspaceRoutines: createWorkspaceRoutineSources(db, library, silentLogger()),
    });
    // Team routines come after the built-ins: the highest draw picks the team's one where there is one.
    vi.spyOn(Math, 'random').mockReturnValue(0.999999);
    expect(await scheduler.tick()).toMatchObject({ claimed: 2, sent: 2 });
    const rows = await deliveries(db);
    const byUser = new Map(rows.map((r) => [r.user_id, r.routine_id]));
    expect(byUser.get(mine.userId)).toBe('team-chair-reset');
    expect(byUser.get(theirs.userId)).not.toBe('team-chair-reset');
    const sentToMine = sender.sent.find((d) => d.user.id === mine.userId)!;
    expect(sentToMine.message.summary).toBe('Desk break: Team chair reset (about 1 minute)');
    expect(blockText(sentToMine.message.blocks.find((b) => b.type === 'caution')!).split('\n')[0]).toBe(
      STANDARD_CAUTIONS[0],
    );

    await deleteTeamRoutine(db, { workspaceId: mine.workspaceId, actor: 'U-LEAD' }, 'team-chair-reset', new Date());
    clock.set(new Date('2026-03-03T11:00:10Z'));
    expect(await scheduler.tick()).toMatchObject({ claimed: 2, sent: 2 });
    const later = (await deliveries(db)).filter((r) => r.slot_at.toISOString() === '2026-03-03T11:00:00.000Z');
    expect(later.map((r) => r.routine_id)).not.toContain('team-chair-reset');
  });

  it('the refresh reloads only workspaces whose routines changed, and forgets workspaces with none left', async () => {
    const db = database().db;
    const library = testLibrary();
    const a = await seedPerson(db, 'W-A', 'U-A');
    const b = await seedPerson(db, 'W-B', 'U-B');
    const sources = createWorkspaceRoutineSources(db, library, silentLogger());
    await sources.refresh();
    expect(sources.forWorkspace(a.workspaceId)).toBeUndefined();

    await insertTeamRoutines(
      db,
      { workspaceId: a.workspaceId, actor: 'U', via: 'form' },
      [teamPosture('team-a', 'Team A')],
      new Date(),
    );
    await insertTeamRoutines(
      db,
      { workspaceId: b.workspaceId, actor: 'U', via: 'form' },
      [teamPosture('team-b', 'Team B')],
      new Date(),
    );
    await sources.refresh();
    const first = sources.forWorkspace(a.workspaceId);
    expect(first?.get('team-a')?.title).toBe('Team A');
    expect(first?.get('team-b')).toBeUndefined();

    await insertTeamRoutines(
      db,
      { workspaceId: b.workspaceId, actor: 'U', via: 'form' },
      [teamPosture('team-b2', 'Team B2')],
      new Date(),
    );
    await sources.refresh();
    expect(sources.forWorkspace(a.workspaceId)).toBe(first); // unchanged: not rebuilt
    expect(sources.forWorkspace(b.workspaceId)?.get('team-b2')?.title).toBe('Team B2');

    await deleteTeamRoutine(db, { workspaceId: a.workspaceId, actor: 'U' }, 'team-a', new Date());
    await sources.refresh();
    expect(sources.forWorkspace(a.workspaceId)).toBeUndefined();
  });
});

describe('merging a team’s routines with the built-ins', () => {
  it('a team routine whose id a built-in took is left out, and reported', () => {
    const builtins = testLibrary();
    const taken = builtins.all()[0]!;
    const own = teamPosture('team-fine', 'Fine');
    const { library, shadowed } = mergeLibrary(builtins, [{ ...own, id: taken.id, title: 'Impostor' }, own]);
    expect(shadowed).toEqual([taken.id]);
    expect(library.get(taken.id)?.title).toBe(taken.title);
    expect(library.get('team-fine')?.title).toBe('Fine');
    expect(library).toBeInstanceOf(WorkspaceRoutineLibrary);
    expect((library as WorkspaceRoutineLibrary).isTeamRoutine('team-fine')).toBe(true);
    expect((library as WorkspaceRoutineLibrary).isTeamRoutine(taken.id)).toBe(false);
    expect(library.size).toBe(builtins.size + 1);
  });

  it('no team routines: the built-in library itself, untouched', () => {
    const builtins = testLibrary();
    expect(mergeLibrary(builtins, []).library).toBe(builtins);
  });
});
