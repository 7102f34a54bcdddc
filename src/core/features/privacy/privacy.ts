import { z } from 'zod';
import { envSchema } from '../../../config/env.js';
import { defineCommand, type CommandContext, type Feature } from '../../command.js';
import { bullets, context, header, reply, text } from '../../reply.js';
import { effectiveFloor } from '../stats/privacy.js';

/**
 * `/backcare privacy`: the written promise in plain words (PRIVACY.md says the same at more length).
 * The numbers come from the running configuration, and tests hold both texts to the schema and the code.
 */

/** How long a table's rows live: the two configured periods, a fixed period, or until someone deletes them. */
type Keep =
  | 'retention'
  | 'audit'
  | 'a week'
  | 'a day'
  | 'while playing'
  | 'until deleted'
  | 'while installed'
  | 'never invited twice'
  | 'draft'
  | 'button reference';

export interface StoredTable {
  table: string;
  /** What one row holds, in plain words. */
  what: string;
  /** Is it about one person (deleted by forget-me), about the team or workspace, or the bot's own bookkeeping? */
  about: 'you' | 'workspace' | 'operations';
  keep: Keep;
}

/** Every table in src/db/schema.ts (a test fails when a new table is not described here and in PRIVACY.md). */
export const storedTables: readonly StoredTable[] = [
  {
    table: 'workspaces',
    about: 'workspace',
    keep: 'while installed',
    what: 'the workspace or server: platform, its id and name, timezone, whether Backcare is still installed',
  },
  {
    table: 'users',
    about: 'you',
    keep: 'until deleted',
    what: 'your platform user id, display name, the id of your direct-message channel with Backcare, when Backcare first met you',
  },
  {
    table: 'preferences',
    about: 'you',
    keep: 'until deleted',
    what: 'your nudge settings: on or off, timezone, working days and hours (per weekday if you set them), days off, a daily maximum, how often, which kinds, where nudges go, quiet time, when the next one is due',
  },
  {
    table: 'nudge_deliveries',
    about: 'you',
    keep: 'retention',
    what: 'each nudge: its time slot, what happened (sent, done, snoozed, skipped…), the routine, the platform message reference',
  },
  {
    table: 'nudge_questions',
    about: 'you',
    keep: 'retention',
    what: 'after several skipped nudges in a row: that Backcare asked whether to send fewer, and your answer (fewer or pause)',
  },
  {
    table: 'activity_events',
    about: 'you',
    keep: 'retention',
    what: 'what you did: nudge outcomes and guided sessions (kind, outcome, routine, how long, when); never how you feel',
  },
  {
    table: 'activity_week_rollups',
    about: 'you',
    keep: 'retention',
    what: 'per week, counted from the above for the team figures: how many of your days had something done, sessions completed or not; gone with what they count',
  },
  {
    table: 'nudge_week_rollups',
    about: 'you',
    keep: 'retention',
    what: 'per week, counted from your nudges for the team figures: how many were sent, done, snoozed, skipped, stopped or ignored; gone with what they count',
  },
  {
    table: 'triage_records',
    about: 'you',
    keep: 'retention',
    what: 'only if you chose to keep it: the outcome level of a symptom check and its time; never your answers',
  },
  {
    table: 'invite_dms',
    about: 'you',
    keep: 'never invited twice',
    what: 'if a lead invited you by direct message: your platform user id and whether the invite was sent, could not be delivered, or you said no',
  },
  {
    table: 'lead_grants',
    about: 'you',
    keep: 'until deleted',
    what: 'who an admin made a team lead, by platform user id, and who granted it',
  },
  {
    table: 'audit_log',
    about: 'workspace',
    keep: 'audit',
    what: 'who viewed team figures, granted lead rights, deleted someone’s data or changed team routines: platform user ids, the action, when',
  },
  {
    table: 'discord_guild_settings',
    about: 'workspace',
    keep: 'while installed',
    what: 'Discord only: the role that marks team leads, and who set it',
  },
  {
    table: 'slack_installations',
    about: 'workspace',
    keep: 'while installed',
    what: 'Slack only: the installation Slack hands over (workspace ids, the bot token, who installed it)',
  },
  {
    table: 'team_posts',
    about: 'workspace',
    keep: 'until deleted',
    what: 'a team’s daily “stretch together” post: channel, time, days, timezone, who set it up',
  },
  {
    table: 'team_post_deliveries',
    about: 'workspace',
    keep: 'retention',
    what: 'each team post: its time slot, status, routine, platform message reference',
  },
  {
    table: 'team_routines',
    about: 'workspace',
    keep: 'until deleted',
    what: 'routines a team lead added for the workspace (the routine text only; who added it is in the audit log)',
  },
  {
    table: 'form_drafts',
    about: 'you',
    keep: 'draft',
    what: 'a form you are filling in on Discord, between its steps: your answers so far, never a symptom check',
  },
  {
    table: 'action_refs',
    about: 'you',
    keep: 'button reference',
    what: 'a button value too long for Discord, kept under a short key so the button works after a restart',
  },
  {
    table: 'processed_events',
    about: 'operations',
    keep: 'a week',
    what: 'keys of platform deliveries already handled, so a retried event is not acted on twice',
  },
  {
    table: 'live_sessions',
    about: 'you',
    keep: 'while playing',
    what: 'a guided session while it plays (who started it, its message, its frames and current step; on Discord also the 15-minute token that lets another replica update the reply), so another replica can carry it on',
  },
  {
    table: 'rate_budgets',
    about: 'operations',
    keep: 'a day',
    what: 'how many platform calls were made lately per workspace or channel, so replicas share the rate limits; nothing about people',
  },
];

export interface PrivacyFigures {
  floor: number;
  retentionMonths: number;
  auditMonths: number;
}

/** The figures as configured: the floor the stats really apply (never below the product minimum), retention from the environment. */
export function privacyFigures(deps: CommandContext['deps']): PrivacyFigures {
  const retention = deps.retention ?? defaultRetention();
  return {
    floor: effectiveFloor(deps.privacyFloor),
    retentionMonths: retention.months,
    auditMonths: retention.auditMonths,
  };
}

/** A core built without retention settings (tests, tools) states the configuration defaults. */
function defaultRetention(): { months: number; auditMonths: number } {
  const defaults = envSchema.parse({});
  return { months: defaults.RETENTION_MONTHS, auditMonths: defaults.AUDIT_RETENTION_MONTHS };
}

const months = (n: number) => `${n} month${n === 1 ? '' : 's'}`;

function keepText(keep: Keep, figures: PrivacyFigures): string {
  switch (keep) {
    case 'retention':
      return `${months(figures.retentionMonths)}, then deleted automatically`;
    case 'audit':
      return figures.auditMonths === 0
        ? 'kept for as long as Backcare runs (audit retention is set to 0)'
        : `${months(figures.auditMonths)}, then deleted automatically`;
    case 'a week':
      return 'a week';
    case 'a day':
      return 'a day after it was last used';
    case 'while playing':
      return 'while the session plays, deleted when it ends';
    case 'until deleted':
      return 'until you, an admin or the operator deletes it';
    case 'while installed':
      return 'while Backcare is installed';
    case 'never invited twice':
      return 'kept while Backcare is installed, so nobody is invited twice (forget-me deletes it too)';
    case 'draft':
      return 'an hour at most, or until the form is sent or cancelled';
    case 'button reference':
      return 'a day, then deleted automatically';
  }
}

const privacy = defineCommand({
  name: 'privacy',
  summary: 'what Backcare stores, who sees what, how long it is kept and how to delete it',
  usage: '/backcare privacy',
  examples: ['/backcare privacy'],
  args: z.array(z.string()).max(0, 'privacy takes no words'),
  async run(ctx) {
    const figures = privacyFigures(ctx.deps);
    const aboutYou = storedTables.filter((t) => t.about === 'you');
    return reply(
      `Backcare's privacy promise: team figures only for groups of ${figures.floor} or more; activity kept ${months(figures.retentionMonths)}`,
      [
        header('Your privacy with Backcare'),
        text('*What is stored about you*'),
        bullets(
          aboutYou.map((t) => `${t.what.charAt(0).toUpperCase()}${t.what.slice(1)} (${keepText(t.keep, figures)})`),
        ),
        context(
          'Never stored: what you answer in a symptom check, how you feel after a session, messages you write to others.',
        ),
        text('*Who sees what*'),
        bullets([
          'You: everything about you, with `/backcare me` and `/backcare me export`.',
          'Your employer, team leads and admins: no individual data, ever. Team leads see weekly team totals only, and only for groups of at least ' +
            `${figures.floor} people; smaller figures show as "not enough participants". Every look at team figures is written to the audit log.`,
          'Symptom checks are never part of team figures, and nobody but you sees their outcome.',
          'Whoever runs Backcare’s server and database can read what is stored there; that is why so little is.',
        ]),
        text('*How long it is kept*'),
        bullets([
          `Nudge history, activity and kept symptom-check outcomes: ${keepText('retention', figures)}.`,
          `The audit log: ${keepText('audit', figures)}.`,
          'Your settings and profile: until you delete them. Export files are temporary: the daily clean-up removes them once they are a day old.',
        ]),
        text('*How to delete or take your data*'),
        bullets([
          '`/backcare forget-me`: deletes everything Backcare stores about you, at once.',
          '`/backcare me export`: a JSON file with everything stored about you.',
          '`/backcare admin forget @person`: a workspace admin deletes a departed person’s data (recorded in the audit log).',
        ]),
        context(
          'Audit entries keep the platform user ids in them (who acted, and on whom) after `forget-me`, so that such actions stay accountable, until audit retention removes them. The full text is PRIVACY.md, shipped with Backcare. Backcare is not medical advice.',
        ),
      ],
    );
  },
});

export const privacyFeature: Feature = { commands: [privacy] };
