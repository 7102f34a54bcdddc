import { expect, it } from 'vitest';
import { createInstallationRecords } from '../../src/core/installations.js';
import { describeEachDatabase } from '../support/db.js';

describeEachDatabase('Slack installations in storage', (database) => {
  it('recent lists the most recently updated first, as many as asked, and a reinstall moves one to the front', async () => {
    const records = createInstallationRecords({ db: database().db });
    const save = (team: string, token: string) =>
      records.save({
        installKey: `T:${team}`,
        teamId: team,
        enterpriseId: null,
        isEnterpriseInstall: false,
        installation: { team: { id: team }, bot: { token } },
      });
    for (const team of ['T1', 'T2', 'T3']) {
      await save(team, `xoxb-${team}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await records.recent!(2)).map((r) => r.installKey)).toEqual(['T:T3', 'T:T2']);
    await save('T1', 'xoxb-again');
    const [first] = await records.recent!(1);
    expect(first).toMatchObject({ installKey: 'T:T1', teamId: 'T1', installation: { bot: { token: 'xoxb-again' } } });
  });
});
