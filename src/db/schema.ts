import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const id = () => bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity();
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** A Slack workspace, a Discord guild, or the console's one local workspace. */
export const workspaces = pgTable(
  'workspaces',
  {
    id: id(),
    platform: text('platform').notNull(),
    externalId: text('external_id').notNull(),
    name: text('name'),
    /** IANA timezone used for team-level schedules and weekly stats. */
    timezone: text('timezone').notNull().default('UTC'),
    /** False once the app is uninstalled or removed from the guild: no nudges go there. */
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('workspaces_platform_external_uq').on(t.platform, t.externalId)],
);

export const users = pgTable(
  'users',
  {
    id: id(),
    workspaceId: bigint('workspace_id', { mode: 'number' })
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    platformUserId: text('platform_user_id').notNull(),
    displayName: text('display_name'),
    /** Cached DM channel id, so nudges do not reopen a conversation every time. */
    dmChannelId: text('dm_channel_id'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_workspace_platform_uq').on(t.workspaceId, t.platformUserId)],
);

/** One row per user who has ever opened settings. Nudges are off until the person says yes. */
export const preferences = pgTable(
  'preferences',
  {
    userId: bigint('user_id', { mode: 'number' })
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    optedIn: boolean('opted_in').notNull().default(false),
    timezone: text('timezone').notNull().default('UTC'),
    /** Working days as codes mon…sun (validated by zod when read back). */
    days: jsonb('days').$type<string[]>().notNull(),
    startTime: text('start_time').notNull().default('09:00'),
    endTime: text('end_time').notNull().default('17:00'),
    everyMinutes: integer('every_minutes').notNull().default(60),
    /** Kinds of nudge the person wants (validated by zod when read back). */
    kinds: jsonb('kinds').$type<string[]>().notNull(),
    snoozedUntil: timestamp('snoozed_until', { withTimezone: true }),
    delivery: text('delivery').notNull().default('dm'),
    channelId: text('channel_id'),
    /** When the next nudge slot falls; null while opted out or paused. Indexed for the scheduler's claim. */
    nextDueAt: timestamp('next_due_at', { withTimezone: true }),
    /** Why nudges stopped without the person asking (DMs closed, app uninstalled…). */
    pausedReason: text('paused_reason'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** Hours that differ by weekday, `{"fri": {"start": "09:00", "end": "13:00"}}` (zod-validated when read back). */
    weeklyHours: jsonb('weekly_hours').$type<Record<string, unknown>>(),
    /** Days off as local date ranges, `[{"from": "2026-12-24", "to": "2026-12-26"}]` (zod-validated when read back). */
    daysOff: jsonb('days_off').$type<unknown[]>(),
    /** Most nudges per local calendar day; null means the default. */
    maxPerDay: integer('max_per_day'),
  },
  (t) => [
    index('preferences_next_due_idx')
      .on(t.nextDueAt)
      .where(sql`${t.nextDueAt} is not null`),
    check('preferences_every_minutes_ck', sql`${t.everyMinutes} between 10 and 480`),
    check('preferences_delivery_ck', sql`${t.delivery} in ('dm', 'channel')`),
  ],
);

/** A nudge for one user and one slot; the unique key is what makes delivery happen once. */
export const nudgeDeliveries = pgTable(
  'nudge_deliveries',
  {
    id: id(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    slotAt: timestamp('slot_at', { withTimezone: true }).notNull(),
    /** claimed → sent | missed | unavailable | failed; then done | snoozed | skipped | stopped | ignored. */
    status: text('status').notNull(),
    routineId: text('routine_id'),
    /** Platform reference of the posted message (channel + ts, message id…), set once sent. */
    messageRef: text('message_ref'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    claimedAt: timestamp('claimed_at', { withTimezone: true }),
    /** Scheduler instance holding the claim; a claim whose holder is gone is reconciled, never blindly resent. */
    claimedBy: integer('claimed_by'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    respondedAt: timestamp('responded_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('nudge_deliveries_user_slot_uq').on(t.userId, t.slotAt),
    index('nudge_deliveries_status_idx').on(t.status, t.claimedAt),
  ],
);

/**
 * Everything people do with Backcare that feeds their own and their team's participation figures:
 * nudge outcomes and on-demand sessions. Never health answers.
 */
export const activityEvents = pgTable(
  'activity_events',
  {
    id: id(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Denormalised so that team stats group without a join. */
    workspaceId: bigint('workspace_id', { mode: 'number' })
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** nudge | session */
    kind: text('kind').notNull(),
    /** nudge: delivered | done | snoozed | skipped | ignored | missed | unavailable; session: completed | stopped | skipped */
    outcome: text('outcome').notNull(),
    /** breathe | stretch | roll | relax | routine | nudge */
    source: text('source').notNull(),
    routineId: text('routine_id'),
    durationSeconds: integer('duration_seconds'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('activity_workspace_time_idx').on(t.workspaceId, t.occurredAt),
    index('activity_user_time_idx').on(t.userId, t.occurredAt),
    // Team stats read only "did something" rows (done nudges, completed sessions): a partial index keeps that read small.
    index('activity_did_something_idx')
      .on(t.workspaceId, t.occurredAt)
      .where(
        sql`(${t.kind} = 'nudge' and ${t.outcome} = 'done') or (${t.kind} = 'session' and ${t.outcome} = 'completed')`,
      ),
  ],
);

/**
 * Weekly rollups behind the team stats view, one row per person and local ISO week (in the workspace's
 * timezone). Kept exact by database triggers on every write of the source rows (see drizzle/0009_stats_rollups.sql
 * and docs/stats-rollups.md), so no code path that writes events or deliveries can forget them.
 */
export const activityWeekRollups = pgTable(
  'activity_week_rollups',
  {
    workspaceId: bigint('workspace_id', { mode: 'number' })
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Monday of the local ISO week. */
    weekStart: date('week_start').notNull(),
    /** Per ISO weekday (Monday first): done nudges plus completed sessions, which is what "did something" means. */
    didDays: integer('did_days').array().notNull(),
    completedSessions: integer('completed_sessions').notNull().default(0),
    /** Sessions started and not completed. */
    unfinishedSessions: integer('unfinished_sessions').notNull().default(0),
    /** did_days as bits (bit 0 = Monday: something done that day), kept with the row so the stats view reads a plain int. */
    didMask: integer('did_mask')
      .notNull()
      .generatedAlwaysAs(
        sql.raw([1, 2, 3, 4, 5, 6, 7].map((n) => `((did_days[${n}] > 0)::int << ${n - 1})`).join(' | ')),
      ),
  },
  // The user index keeps "forget me" (a cascade by user) from scanning the table. The view index holds every
  // column the stats view reads, so the view is an index-only scan of its weeks (the heap is not touched).
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.weekStart, t.userId] }),
    index('activity_week_rollups_user_idx').on(t.userId),
    index('activity_week_rollups_view_idx').on(
      t.workspaceId,
      t.weekStart,
      t.userId,
      t.didMask,
      t.completedSessions,
      t.unfinishedSessions,
    ),
  ],
);

/** Nudge deliveries per person and local ISO week of their slot, by final status (only statuses that reached the person). */
export const nudgeWeekRollups = pgTable(
  'nudge_week_rollups',
  {
    /** The person's workspace (deliveries carry none of their own). */
    workspaceId: bigint('workspace_id', { mode: 'number' })
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    weekStart: date('week_start').notNull(),
    sent: integer('sent').notNull().default(0),
    done: integer('done').notNull().default(0),
    snoozed: integer('snoozed').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
    stopped: integer('stopped').notNull().default(0),
    ignored: integer('ignored').notNull().default(0),
  },
  // As for activity: the view index makes the stats view an index-only scan.
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.weekStart, t.userId] }),
    index('nudge_week_rollups_user_idx').on(t.userId),
    index('nudge_week_rollups_view_idx').on(
      t.workspaceId,
      t.weekStart,
      t.userId,
      t.sent,
      t.done,
      t.snoozed,
      t.skipped,
      t.stopped,
      t.ignored,
    ),
  ],
);

/** Only the outcome level and the time, and only with the person's consent. Never the answers. */
export const triageRecords = pgTable(
  'triage_records',
  {
    id: id(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    outcome: text('outcome').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('triage_user_idx').on(t.userId)],
);

/** Platform deliveries already handled (Slack event retries, Discord interaction replays). */
export const processedEvents = pgTable('processed_events', {
  key: text('key').primaryKey(),
  processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Shared rate budgets (src/db/rate-budgets.ts): one token bucket per key, so every replica spends from the same
 * platform limit. A row idle for a day is the same as no row (a full bucket): retention deletes it.
 */
export const rateBudgets = pgTable('rate_budgets', {
  /** `<kind>:<scope>`, e.g. `slack:chat.update:T0123`. */
  key: text('key').primaryKey(),
  /** Tokens left at `updated_at` (fractional: refilled continuously). */
  tokens: doublePrecision('tokens').notNull(),
  /** What the last take granted: the one statement that takes returns it. */
  granted: integer('granted').notNull().default(0),
  /** The database clock at the last take (never moves backwards). */
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  /** The platform said 429: nothing is granted before this. */
  pausedUntil: timestamp('paused_until', { withTimezone: true }),
});

/** Who did what that others may need to account for (stats views, lead grants, admin deletions). */
export const auditLog = pgTable(
  'audit_log',
  {
    id: id(),
    workspaceId: bigint('workspace_id', { mode: 'number' }).references(() => workspaces.id, { onDelete: 'cascade' }),
    /** Platform user id of the actor, kept as text so deleting the actor's data keeps the audit trail readable. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subject: text('subject'),
    details: jsonb('details').$type<Record<string, unknown>>(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('audit_workspace_time_idx').on(t.workspaceId, t.at)],
);

/** People a workspace admin granted team-lead rights to (besides admins and owners). */
export const leadGrants = pgTable(
  'lead_grants',
  {
    workspaceId: bigint('workspace_id', { mode: 'number' })
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    platformUserId: text('platform_user_id').notNull(),
    /** Platform user id of the admin who granted it; null once that admin's data is deleted (the grant stays). */
    grantedBy: text('granted_by'),
    grantedAt: timestamp('granted_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.platformUserId] })],
);

export type WorkspaceRow = typeof workspaces.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type PreferencesRow = typeof preferences.$inferSelect;
export type NudgeDeliveryRow = typeof nudgeDeliveries.$inferSelect;
export type ActivityEventRow = typeof activityEvents.$inferSelect;

/** Discord-only, per guild: the role whose members count as team leads, chosen by someone with Manage Server. */
export const discordGuildSettings = pgTable('discord_guild_settings', {
  workspaceId: bigint('workspace_id', { mode: 'number' })
    .primaryKey()
    .references(() => workspaces.id, { onDelete: 'cascade' }),
  leadRoleId: text('lead_role_id'),
  /** Platform user id of whoever set it; null once that person's data is deleted (the setting stays). */
  updatedBy: text('updated_by'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Slack OAuth installations (multi-workspace mode), one row per workspace or org-wide install. The full
 * installation object Bolt hands over is kept as JSON (validated when read back); the bot token lives in it.
 */
export const slackInstallations = pgTable('slack_installations', {
  /** `T:<team id>` for a workspace install, `E:<enterprise id>` for an org-wide one. */
  installKey: text('install_key').primaryKey(),
  teamId: text('team_id'),
  enterpriseId: text('enterprise_id'),
  isEnterpriseInstall: boolean('is_enterprise_install').notNull().default(false),
  installation: jsonb('installation').$type<Record<string, unknown>>().notNull(),
  installedAt: timestamp('installed_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A team's one daily "stretch together" post in a channel, at a local time on chosen days. */
export const teamPosts = pgTable(
  'team_posts',
  {
    workspaceId: bigint('workspace_id', { mode: 'number' })
      .primaryKey()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    channelId: text('channel_id').notNull(),
    timezone: text('timezone').notNull(),
    localTime: text('local_time').notNull(),
    /** Working days as codes mon…sun (validated by zod when read back). */
    days: jsonb('days').$type<string[]>().notNull(),
    /**
     * Who set it up. The post belongs to the workspace: when that person is forgotten it stays and only loses
     * the link (set null), so one admin's `forget-me` does not switch off the team's post.
     */
    createdByUserId: bigint('created_by_user_id', { mode: 'number' }).references(() => users.id, {
      onDelete: 'set null',
    }),
    nextDueAt: timestamp('next_due_at', { withTimezone: true }),
    pausedReason: text('paused_reason'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('team_posts_next_due_idx')
      .on(t.nextDueAt)
      .where(sql`${t.nextDueAt} is not null`),
  ],
);

/**
 * One team post per workspace and slot. Ids come from the nudge deliveries' sequence so that a delivery id
 * carried in a platform message (Slack metadata, Discord nonce) names exactly one row across both tables.
 */
export const teamPostDeliveries = pgTable(
  'team_post_deliveries',
  {
    id: bigint('id', { mode: 'number' })
      .primaryKey()
      .default(sql`nextval('nudge_deliveries_id_seq')`),
    workspaceId: bigint('workspace_id', { mode: 'number' })
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    slotAt: timestamp('slot_at', { withTimezone: true }).notNull(),
    /** claimed → sent | missed | failed */
    status: text('status').notNull(),
    routineId: text('routine_id'),
    messageRef: text('message_ref'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    claimedAt: timestamp('claimed_at', { withTimezone: true }),
    claimedBy: integer('claimed_by'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('team_post_deliveries_ws_slot_uq').on(t.workspaceId, t.slotAt),
    index('team_post_deliveries_status_idx').on(t.status, t.claimedAt),
  ],
);

export type TeamPostRow = typeof teamPosts.$inferSelect;

/**
 * A team's own routines, visible only in their workspace. The routine is kept as the content
 * format's JSON and validated through the content schema when read back; who added or removed one is in
 * `audit_log`, not here, so a lead's `forget-me` leaves the team's routines in place.
 */
export const teamRoutines = pgTable(
  'team_routines',
  {
    id: id(),
    workspaceId: bigint('workspace_id', { mode: 'number' })
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** The routine's own id (`routine.id`), unique per workspace; never one of the built-in ids. */
    routineId: text('routine_id').notNull(),
    routine: jsonb('routine').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('team_routines_ws_routine_uq').on(t.workspaceId, t.routineId)],
);

/**
 * The "send fewer or pause for the week?" question Backcare asks once after a run of skipped nudges.
 * It rides on one nudge (`delivery_id`), so a resend after a crash shows it again; the latest `asked_at` is
 * what stops it asking twice in the same run of skips.
 */
export const nudgeQuestions = pgTable(
  'nudge_questions',
  {
    deliveryId: bigint('delivery_id', { mode: 'number' })
      .primaryKey()
      .references(() => nudgeDeliveries.id, { onDelete: 'cascade' }),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    askedAt: timestamp('asked_at', { withTimezone: true }).notNull(),
    /** null until answered: fewer | pause */
    answer: text('answer'),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
  },
  (t) => [index('nudge_questions_user_idx').on(t.userId, t.askedAt)],
);

/**
 * The one-time DM invite from `/backcare invite #channel dm`, one row per person per workspace, so it is
 * never sent twice; "No thanks" (in the DM or on the announcement) stores `declined`, which also stops any later DM.
 * Keyed by the platform user id because the people invited have no Backcare user row (nothing is stored for them).
 */
export const inviteDms = pgTable(
  'invite_dms',
  {
    id: id(),
    workspaceId: bigint('workspace_id', { mode: 'number' })
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    platformUserId: text('platform_user_id').notNull(),
    /** sent | failed (the DM could not be delivered; not retried) | declined */
    status: text('status').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('invite_dms_ws_user_uq').on(t.workspaceId, t.platformUserId)],
);

/**
 * Live guided sessions being played, one row per session id, so any replica can stop one and another can take
 * it over when its player goes away. `sequence` (the frames) is written once; `state` (step, message, when the
 * next frame is due, the adapter's context) at every frame. Whoever holds `lease_token` until `lease_until` is
 * the only one that may edit the session's message; a row whose lease ran out may be claimed by anyone.
 */
export const liveSessions = pgTable(
  'live_sessions',
  {
    sessionId: text('session_id').primaryKey(),
    platform: text('platform').notNull(),
    sequence: jsonb('sequence').$type<unknown>().notNull(),
    state: jsonb('state').$type<unknown>().notNull(),
    /** Where its message is, as the adapter names it: a press on that message, on any replica, finds the row. */
    messageKey: text('message_key'),
    /** The instance playing it (for logs and operators); null once released. */
    owner: text('owner'),
    /**
     * The player's liveness lock id (src/jobs/instance.ts), when it holds one: a session whose player died is
     * taken over, or stopped, at once instead of after its lease runs out.
     */
    holder: integer('holder'),
    leaseToken: text('lease_token'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }).notNull(),
    stopRequested: boolean('stop_requested').notNull().default(false),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('live_sessions_platform_lease_idx').on(t.platform, t.leaseUntil),
    index('live_sessions_message_key_idx').on(t.messageKey),
  ],
);

/**
 * A form being filled in step by step on a platform whose forms cannot hold it in one piece (Discord's wizard of
 * select pages and modals), kept here so a restart or another replica carries on where the person was. Only its
 * owner may continue it; it expires (an hour) and the retention job deletes it; `forget-me` deletes it at once.
 * Forms with health answers are never written here (`Form.sensitive`, see src/core/form-drafts.ts).
 * Keyed by platform ids, like invite_dms: a form can be opened before Backcare has a user row for the person.
 */
export const formDrafts = pgTable(
  'form_drafts',
  {
    id: text('id').primaryKey(),
    platform: text('platform').notNull(),
    /** The actor's workspace (a Discord guild, or `dm-<user>` for someone with no server). */
    workspaceExternalId: text('workspace_external_id').notNull(),
    platformUserId: text('platform_user_id').notNull(),
    /** The core's Form, validated with zod when read back. */
    form: jsonb('form').$type<Record<string, unknown>>().notNull(),
    answers: jsonb('answers').$type<Record<string, string | string[]>>().notNull(),
    /** After a rejected submit: the fields asked again, and their messages. */
    onlyFields: jsonb('only_fields').$type<string[]>(),
    errors: jsonb('errors').$type<Record<string, string>>(),
    position: integer('position').notNull().default(0),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('form_drafts_expires_idx').on(t.expiresAt),
    index('form_drafts_owner_idx').on(t.platform, t.platformUserId),
  ],
);

/**
 * A button's or select's action too long for the platform's component id (Discord: 100 characters), kept under a
 * short random key so the press resolves on any replica and after a restart. The owner (who the message was for)
 * is recorded only so `forget-me` can delete them; a message in a channel has none. Expired rows go with retention.
 */
export const actionRefs = pgTable(
  'action_refs',
  {
    key: text('key').primaryKey(),
    platform: text('platform').notNull(),
    actionId: text('action_id').notNull(),
    value: text('value').notNull(),
    /** Where the message is (Discord: the guild a DM is about, the nudge's delivery id), validated when read back. */
    context: jsonb('context').$type<Record<string, unknown>>().notNull(),
    workspaceExternalId: text('workspace_external_id'),
    platformUserId: text('platform_user_id'),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('action_refs_expires_idx').on(t.expiresAt),
    index('action_refs_owner_idx').on(t.platform, t.platformUserId),
  ],
);
