import { expect, it } from 'vitest';
import { renderReply } from '../../adapters/console/render.js';
import { triageRecords } from '../../src/db/schema.js';
import { findUser, findWorkspace } from '../../src/db/users.js';
import { replyText } from '../../src/core/reply.js';
import { ask, buildTestCore, testActor } from '../support/core.js';
import { describeEachDatabase } from '../support/db.js';

const settingsValues = {
  optedIn: 'yes',
  timezone: 'Europe/London',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  start: '09:00',
  end: '17:00',
  everyMinutes: '60',
  kinds: ['stretch'],
  delivery: 'dm',
  channelId: '',
  pause: 'keep',
};

describeEachDatabase('small wrong answers', (database) => {
  it('the console has no channels: team-post set and a team channel in settings are refused, not stored', async () => {
    const core = buildTestCore(database().db);
    const post = await ask(core, 'team-post set 15:00 #team');
    expect(replyText(post)).toMatch(/no channels here/);
    expect(replyText(await ask(core, 'team-post'))).toMatch(/No daily team post is set/);

    const settings = await ask(core, {
      kind: 'submit',
      formId: 'settings',
      values: { ...settingsValues, delivery: 'channel', channelId: '#team' },
    });
    expect(settings.formErrors?.delivery).toMatch(/no channels here/);
    expect(settings.formErrors?.channelId).toMatch(/no channels here/);
    const chosenOnly = await ask(core, {
      kind: 'submit',
      formId: 'settings',
      values: { ...settingsValues, delivery: 'channel' },
    });
    expect(Object.keys(chosenOnly.formErrors ?? {})).toEqual(['delivery']);
    // Direct messages still save.
    expect(
      (await ask(core, { kind: 'submit', formId: 'settings', values: settingsValues })).formErrors,
    ).toBeUndefined();
  });

  it('team-post set 25:00 says what a time must look like, not "Invalid input"', async () => {
    const core = buildTestCore(database().db);
    const answer = await ask(
      core,
      'team-post set 25:00 #team',
      testActor({ platform: 'slack', workspaceExternalId: 'T1', userExternalId: 'U1' }),
    );
    expect(replyText(answer)).toMatch(/^the time must be 24-hour HH:MM, from 00:00 to 23:59/);
    expect(replyText(answer)).not.toMatch(/Invalid input/);
    expect(replyText(await ask(core, 'team-post set'))).toMatch(/^use: team-post set HH:MM <channel>/);
  });

  it('lead add @alice reads as @alice in the console, not <@alice>', async () => {
    const core = buildTestCore(database().db);
    const added = await ask(core, 'lead add @alice');
    const shown = renderReply(added, { ansi: false }).text;
    expect(shown).toContain('@alice is now a team lead');
    expect(shown).not.toContain('<@');
  });

  it('me names a kept triage outcome as people read it ("self-care"), not by its code', async () => {
    const core = buildTestCore(database().db);
    await ask(core, 'settings on');
    const workspace = await findWorkspace(database().db, { platform: 'console', externalId: 'local' });
    const user = await findUser(database().db, workspace!.id, 'you');
    await database().db.insert(triageRecords).values({ userId: user!.id, outcome: 'self_care' });
    const me = replyText(await ask(core, 'me'));
    expect(me).toMatch(/Triage outcomes kept \(only with your consent\): self-care on \d{4}-\d{2}-\d{2}/);
    expect(me).not.toContain('self_care');
  });
});
