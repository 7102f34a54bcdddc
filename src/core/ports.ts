/**
 * The core's public face for adapters: the neutral request and the reply, the core itself, the interfaces an
 * adapter provides (Adapter, Sender, ChannelMessenger, TeamResolver), the engines adapters configure (live
 * sessions, rate limiter and budgets) and the services that hold the rules adapters must not decide (workspace lifecycle,
 * home view, pause note, lead roles, event de-duplication, installations).
 * Adapters import the core from here only (the lint layer rule enforces it); nothing under adapters/ reaches
 * storage or the job runner.
 */

// The neutral request and the reply.
export { actorSchema, type Actor, type CoreInput } from './request.js';
export { blockText, context, limits, reply, text } from './reply.js';
export type { Action, Block, Form, FormField, Frame, Reply, Sequence } from './reply.js';
export { describeFormErrors, fieldLabel } from './form-errors.js';
export { stripControl } from './echo.js';

// The core, and how commands describe themselves (Discord derives its slash definitions from this).
export { expiredButtonReply, isDatabaseUnavailable, TROUBLE_TEXT, type Core } from './router.js';
export { decodeActionValue, encodeActionValue, type RegisteredCommand } from './command.js';
export { TIMEZONE_MAX_LENGTH, checkOptionValue, commandTextFrom, resolveOptions } from './command-options.js';
export type { OptionValues, ResolvedOption } from './command-options.js';
export { features } from './features/index.js';
export { loadRoutineLibrary } from './content/loader.js';
export type { RoutineLibrary } from './content/library.js';
export { canonicalTimezone } from './preferences.js';

// What an adapter provides.
export type { Adapter } from './adapter.js';
export { RateLimitedError, SEND_WINDOW_MS } from './sender.js';
export type { Availability, NudgeDelivery, ReconcileResult, Sender, SendResult } from './sender.js';
export type { ChannelMessenger, ChannelRef, DmResult } from './channel-messenger.js';
export type { TeamResolution, TeamResolver } from './features/stats/team.js';

// The engines an adapter configures.
export { LiveSessions, type LiveOutcome, type LiveSession, type LiveStats } from './live-sessions.js';
export type { LiveSurface } from './live-sessions.js';
export type { LiveSessionStore } from './live-session-store.js';
export type { LiveBudget } from './live-budget.js';
export { RateLimiter } from './rate-limit.js';
export { localBudgets, type RateBudgets } from './rate-budget.js';
export { createWorkQueue, type WorkQueue } from './work-queue.js';

// Core services: the rules both platforms must agree on.
export { createWorkspaceLifecycle, REMOVED_REASON, type WorkspaceLifecycle } from './workspace-lifecycle.js';
export { buildHomeView } from './home.js';
export { withPauseNote } from './pause-note.js';
export { createLeadRoles, type LeadRoles } from './features/leads/lead-roles.js';
export { homeWorkspaceOf, knownPeople, storedPreferences } from './people.js';
export { firstSeen } from './processed-events.js';
export { createInstallationRecords, type InstallationRecord, type InstallationRecords } from './installations.js';
export {
  createFormDraftStore,
  newStorageKey,
  type FormDraft,
  type FormDraftStore,
  type FormValues,
} from './form-drafts.js';
export { createActionRefStore, type ActionRef, type ActionRefStore } from './action-refs.js';
