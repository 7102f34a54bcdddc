/**
 * The core's public face for adapters: the neutral request and the reply, the core itself, the interfaces an
 * adapter provides (Adapter, Sender, ChannelMessenger, TeamResolver) and the services that hold the rules
 * adapters must not decide (workspace lifecycle, home view, pause note, lead roles, event de-duplication).
 * Adapters import the core from here only; nothing under adapters/ reaches storage or the job runner.
 */
export type { Adapter } from './adapter.js';
export type { ChannelMessenger, ChannelPostResult, ChannelRef, DmResult } from './channel-messenger.js';
export { decodeActionValue, encodeActionValue } from './command.js';
export type { CoreDeps } from './command.js';
export { stripControl } from './echo.js';
export { describeFormErrors, fieldLabel } from './form-errors.js';
export { buildHomeView, type HomeView } from './home.js';
export { createInstallationRecords, type InstallationRecord, type InstallationRecords } from './installations.js';
export { createLeadRoles, type LeadRoleChange, type LeadRoles } from './features/leads/lead-roles.js';
export { withPauseNote } from './pause-note.js';
export { homeWorkspaceOf, knownPeople, storedPreferences } from './people.js';
export { canonicalTimezone, type Preferences } from './preferences.js';
export { firstSeen } from './processed-events.js';
export { createWorkQueue, type WorkQueue } from './work-queue.js';
export {
  caution,
  context,
  limits,
  reply,
  text,
  type Action,
  type Block,
  type Form,
  type FormField,
  type Reply,
} from './reply.js';
export type { Actor, CoreInput, CoreRequest, Platform } from './request.js';
export { expiredButtonReply, type Core } from './router.js';
export type { Availability, NudgeDelivery, ReconcileResult, Sender, SendResult } from './sender.js';
export type { TeamResolution, TeamResolver } from './features/stats/team.js';
export {
  backReply,
  createWorkspaceLifecycle,
  REMOVED_REASON,
  type WorkspaceLifecycle,
  type WorkspaceRef,
} from './workspace-lifecycle.js';
