import type { Feature } from '../command.js';
import { guidedFeature } from './guided.js';
import { helpFeature } from './help.js';
import { leadsFeature } from './leads.js';
import { meFeature } from './me.js';
import { dataRightsFeature } from './data-rights.js';
import { nudgesFeature } from './nudges.js';
import { breakFeature } from './break.js';
import { daysOffFeature } from './days-off.js';
import { hoursFeature } from './hours.js';
import { settingsFeature } from './settings.js';
import { statsFeature } from './stats.js';
import { triageFeature } from './triage.js';
import { teamRoutinesFeature } from './team-routines.js';
import { privacyFeature } from './privacy.js';
import { inviteFeature } from './invite.js';

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
