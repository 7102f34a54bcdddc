import { expect, it } from 'vitest';
import { auditLog, leadGrants } from '../../../../src/db/schema.js';
import { isLead } from '../../../../src/core/features/stats/leads.js';
import { ask, buildTestCore, testActor, testClock } from '../../../support/core.js';
import { describeEachDatabase } from '../../../support/db.js';

const admin = testActor({
  platform: 'slack',
  workspaceExternalId: 'T0TESTTEAM',
  userExternalId: 'U0ADMIN',
  isAdmin: true,
});
const member = testActor({
  platform: 'slack',
  workspaceExternalId: 'T0TESTTEAM',
  userExternalId: 'U0MEMBER',
  isAdmin: false,
});

describeEachDatabase('lead grants', (database) => {
  it('an admin grants, lists and revokes lead rights, each change audited', async () => {
    const clock = testClock();
    const core = buildTestCore(database().db, { now: clock.now });
    const added = await ask(core, '/backcare lead add <@U0SAM>', admin);
    expect(added.summary).toBe("<@U0SAM> is now a team lead and can see the team's anonymous figures.");
    const again = await ask(core, 'lead add @U0SAM', admin);
    expect(again.summary).toMatch(/already a team lead/);
    expect(await database().db.select().from(leadGrants)).toEqual([
      expect.objectContaining({ platformUserId: 'U0SAM', grantedBy: 'U0ADMIN' }),
    ]);

    const listed = await ask(core, 'lead list', admin);
    expect(listed.summary).toBe('Team leads granted: 1');
    expect(JSON.stringify(listed.blocks)).toContain('<@U0SAM>, granted by <@U0ADMIN> on 2026-03-02');

    const samActor = testActor({
      platform: 'slack',
      workspaceExternalId: 'T0TESTTEAM',
      userExternalId: 'U0SAM',
      isAdmin: false,
    });
    expect(await isLead({ actor: samActor, db: database().db })).toBe(true);

    const removed = await ask(core, 'lead remove <@U0SAM>', admin);
    expect(removed.summary).toBe('<@U0SAM> is no longer a team lead.');
    expect(await database().db.select().from(leadGrants)).toHaveLength(0);
    expect(await isLead({ actor: samActor, db: database().db })).toBe(false);
    const removedAgain = await ask(core, 'lead remove <@U0SAM>', admin);
    expect(removedAgain.summary).toMatch(/nothing to remove/);

    const audit = await database().db.select().from(auditLog);
    expect(audit.map((a) => [a.action, a.actor, a.subject])).toEqual([
      ['lead.grant', 'U0ADMIN', 'U0SAM'],
      ['lead.revoke', 'U0ADMIN', 'U0SAM'],
    ]);
  });

  it('refuses people who are not admins and stores nothing', async () => {
    const core = buildTestCore(database().db);
    const denied = await ask(core, 'lead add <@U0MEMBER>', member);
    expect(denied.summary).toMatch(/Only workspace admins/);
    expect(await database().db.select().from(leadGrants)).toHaveLength(0);
    expect(await database().db.select().from(auditLog)).toHaveLength(0);
  });

  it('explains the usage for malformed arguments', async () => {
    const core = buildTestCore(database().db);
    const bad = await ask(core, 'lead add', admin);
    expect(bad.summary).toMatch(/Usage: `\/backcare lead add\|remove\|list/);
    const junk = await ask(core, 'lead promote <@U0SAM>', admin);
    expect(junk.summary).toMatch(/Usage/);
    expect(await database().db.select().from(leadGrants)).toHaveLength(0);
  });
  it('a lead granted with `lead add` may change the daily team post, as they may open stats; a member may not', async () => {
    const core = buildTestCore(database().db);
    await ask(core, 'lead add <@U0SAM>', admin);
    const sam = testActor({
      platform: 'slack',
      workspaceExternalId: 'T0TESTTEAM',
      userExternalId: 'U0SAM',
      isAdmin: false,
    });
    const off = await ask(core, 'team-post off', sam);
    expect(off.summary).toBe('Team post off.');
    expect(JSON.stringify(off.blocks)).toContain('There was no daily team post to turn off.');
    const refused = await ask(core, 'team-post off', member);
    expect(refused.summary).toBe('Only workspace admins and team leads can do that.');
  });
});
