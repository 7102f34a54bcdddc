import { testActor } from '../../../support/core.js';

/** Two people of one Slack workspace: the one who asks to be forgotten, and one who must stay. */
export const alice = testActor({
  platform: 'slack',
  workspaceExternalId: 'T1',
  userExternalId: 'UALICE',
  displayName: 'Alice Example',
  isAdmin: false,
});
export const bob = testActor({
  platform: 'slack',
  workspaceExternalId: 'T1',
  userExternalId: 'UBOBBY',
  displayName: 'Bob Other',
  isAdmin: false,
});
