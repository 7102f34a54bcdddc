import type { CoreDeps } from './command.js';
import { context, reply, text, type Reply } from './reply.js';
import type { Platform } from './request.js';
import { daysSchema } from './preferences.js';
import { nextDailyAt } from './local-time.js';
import { storePreferences } from './settings-service.js';
import { preferencesFromRow } from '../db/preferences.js';
import {
  lockPausedPeople,
  lockPausedTeamPost,
  pauseWorkspace,
  reactivateWorkspace,
  resumeTeamPost,
} from '../db/workspace-lifecycle.js';

/**
 * Why nudges and the team post stopped when Backcare left a workspace (Slack uninstall, Discord server removal);
 * shown to the person in settings. The same words on every platform, because it is the same rule.
 */
export const REMOVED_REASON = 'Backcare was removed from this workspace';

interface WorkspaceRef {
  platform: Platform;
  externalId: string;
}

export interface WorkspaceLifecycle {
  /** Backcare left the workspace: it goes inactive, and whatever was running there pauses with REMOVED_REASON. */
  removed(workspace: WorkspaceRef): Promise<{ pausedUsers: number; pausedTeamPosts: number }>;
  /**
   * Backcare is back: exactly what the removal paused resumes (next slots recomputed) and each person resumed
   * is told once by direct message. Restoring twice resumes and tells nobody the second time.
   */
  restored(workspace: WorkspaceRef): Promise<{ resumedUsers: number; told: number }>;
}

/** The note someone whose nudges came back gets, once. */
function backReply(): Reply {
  const message = 'Backcare is back in this workspace, and your nudges are on again with your saved settings.';
  return reply(message, [text(message), context('Run `/backcare settings` to change them or turn them off.')], {
    visibility: 'dm',
  });
}

/** The one workspace lifecycle rule for every platform: adapters report removal and return, the core decides. */
export function createWorkspaceLifecycle(deps: CoreDeps): WorkspaceLifecycle {
  const { db, log } = deps;

  async function resume(workspace: WorkspaceRef) {
    const now = deps.now();
    return db.transaction(async (tx) => {
      const workspaceId = await reactivateWorkspace(tx, workspace);
      if (workspaceId === null) return [];
      const people = await lockPausedPeople(tx, workspaceId, REMOVED_REASON);
      for (const { prefs } of people) {
        const resumed = { ...preferencesFromRow(prefs), pausedReason: null };
        await storePreferences(tx, prefs.userId, resumed, now, deps.nextSlot);
      }
      const post = await lockPausedTeamPost(tx, workspaceId, REMOVED_REASON);
      const days = post ? daysSchema.safeParse(post.days) : null;
      // Without the slot maths (a core built without the scheduler) the post stays paused rather than never due.
      if (post && days?.success)
        await resumeTeamPost(tx, workspaceId, nextDailyAt(post.timezone, days.data, post.localTime, now));
      return people.map((p) => p.platformUserId);
    });
  }

  async function tell(workspace: WorkspaceRef, platformUserIds: readonly string[]): Promise<number> {
    const messenger = deps.channelMessengers?.find((m) => m.platform === workspace.platform);
    if (!messenger?.sendDm) return 0;
    let told = 0;
    for (const userExternalId of platformUserIds) {
      const actor = { platform: workspace.platform, workspaceExternalId: workspace.externalId, userExternalId };
      // Told at most once: the resume above is already committed, so a failed note is logged, not retried.
      const result = await messenger.sendDm(actor, userExternalId, backReply()).catch((error: unknown) => {
        log.warn({ event: 'workspace.back_note_failed', err: error }, 'could not tell a person Backcare is back');
        return null;
      });
      if (result?.status === 'sent') told += 1;
    }
    return told;
  }

  return {
    async removed(workspace) {
      const result = await pauseWorkspace(db, workspace, REMOVED_REASON);
      log.info(
        { event: 'workspace.removed', platform: workspace.platform, ...result },
        'Backcare removed from a workspace: nudges and team posts paused',
      );
      return { pausedUsers: result.pausedUsers, pausedTeamPosts: result.pausedTeamPosts };
    },
    async restored(workspace) {
      const resumed = await resume(workspace);
      const told = await tell(workspace, resumed);
      if (resumed.length > 0)
        log.info(
          { event: 'workspace.restored', platform: workspace.platform, resumedUsers: resumed.length, told },
          'Backcare back in a workspace: nudges resumed',
        );
      return { resumedUsers: resumed.length, told };
    },
  };
}
