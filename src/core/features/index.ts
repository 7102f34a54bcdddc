import type { Feature } from '../command.js';
import { guidedFeature } from './guided/guided.js';
import { helpFeature } from './help/help.js';
import { leadsFeature } from './leads/leads.js';
import { meFeature } from './me/me.js';
import { dataRightsFeature } from './data-rights/data-rights.js';
import { nudgesFeature } from './nudges/nudges.js';
import { breakFeature } from './break/break.js';
import { daysOffFeature } from './days-off/days-off.js';
import { hoursFeature } from './hours/hours.js';
import { settingsFeature } from './settings/settings.js';
import { statsFeature } from './stats/stats.js';
import { triageFeature } from './triage/triage.js';
import { teamRoutinesFeature } from './team-routines/team-routines.js';
import { privacyFeature } from './privacy/privacy.js';
import { inviteFeature } from './invite/invite.js';

/**
 * Every feature the bot offers, in help order. A new subcommand is one file under features/
 * and one line here.
 */
export const features: Feature[] = [
  helpFeature,
  guidedFeature,
  settingsFeature,
  nudgesFeature,
  breakFeature,
  hoursFeature,
  daysOffFeature,
  meFeature,
  dataRightsFeature,
  statsFeature,
  leadsFeature,
  triageFeature,
  teamRoutinesFeature,
  privacyFeature,
  inviteFeature,
];
