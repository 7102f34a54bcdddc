/**
 * The core's public face for adapters: the neutral request and the reply, the core itself, the interfaces an
 * adapter provides (Adapter, Sender, ChannelMessenger, TeamResolver) and the services that hold the rules
 * adapters must not decide (workspace lifecycle, home view, pause note, lead roles, event de-duplication).
 * Adapters import the core from here only; nothing under adapters/ reaches storage or the job runner.
 */
export type { Adapter } from './adapter.js';
export type { ChannelMessenger, ChannelRef, DmResult } from './channel-messenger.js';
export { decodeActionValue, encodeActionValue } from './command.js';
export { buildHomeView } from './home.js';
export { createInstallationRecords, type InstallationRecords } from './installations.js';
export { createLeadRoles, type LeadRoles } from './features/leads/lead-roles.js';
export { withPauseNote } from './pause-note.js';
export { homeWorkspaceOf, knownPeople, storedPreferences } from './people.js';
export { firstSeen } from './processed-events.js';
export { context, reply, text, type Action, type Block, type FormField, type Reply } from './reply.js';
export type { Actor, CoreInput } from './request.js';
export { expiredButtonReply, type Core } from './router.js';
export type { Sender } from './sender.js';
export type { TeamResolution, TeamResolver } from './features/stats/team.js';
export { createWorkspaceLifecycle, REMOVED_REASON, type WorkspaceLifecycle } from './workspace-lifecycle.js';
