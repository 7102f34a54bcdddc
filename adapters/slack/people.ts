import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import type { Actor } from '../../src/core/ports.js';
import { classifySlackError } from './slack-api.js';

const usersInfoSchema = z.looseObject({
  user: z.looseObject({
    name: z.string().optional(),
    real_name: z.string().optional(),
    tz: z.string().optional(),
    is_admin: z.boolean().optional(),
    is_owner: z.boolean().optional(),
    is_primary_owner: z.boolean().optional(),
    profile: z.looseObject({ display_name: z.string().optional() }).optional(),
  }),
});

const PROFILE_TTL_MS = 10 * 60 * 1000;

interface Profile {
  displayName?: string;
  timezone?: string;
  isAdmin: boolean;
  at: number;
}

export interface SlackPeople {
  /**
   * Who is asking: Slack ids from the payload, timezone and admin rights from users.info (cached). With
   * `profile: 'cached'` users.info is not called: a request that needs neither (a form everyone may submit) must
   * not wait for it, nor spend its rate limit, before the ack; a profile cached earlier is still used.
   */
  resolveActor(
    client: WebClient,
    teamId: string,
    userId: string,
    fallbackName?: string,
    workspaceName?: string,
    options?: { profile: 'fetch' | 'cached' },
  ): Promise<Actor>;
  /** The person's DM channel with Backcare (cached; conversations.open the first time). */
  dmChannel(client: WebClient, actor: Actor): Promise<string>;
  /** A DM channel learnt from an event (a message typed in the Messages tab). */
  rememberDm(teamId: string, userId: string, channel: string): void;
}

export function createSlackPeople(options: { log: Logger; now: () => Date }): SlackPeople {
  const { log } = options;
  const profiles = new Map<string, Profile>();
  const dmChannels = new Map<string, string>();

  async function resolveActor(
    client: WebClient,
    teamId: string,
    userId: string,
    fallbackName?: string,
    workspaceName?: string,
    wanted: { profile: 'fetch' | 'cached' } = { profile: 'fetch' },
  ): Promise<Actor> {
    const key = `${teamId}:${userId}`;
    let profile = profiles.get(key);
    if (!profile && wanted.profile === 'cached') profile = { isAdmin: false, at: 0 };
    else if (!profile || (wanted.profile === 'fetch' && options.now().getTime() - profile.at > PROFILE_TTL_MS)) {
      try {
        const { user } = usersInfoSchema.parse(await client.users.info({ user: userId }));
        const displayName = user.profile?.display_name || user.real_name || user.name;
        profile = {
          ...(displayName ? { displayName } : {}),
          ...(user.tz ? { timezone: user.tz } : {}),
          isAdmin: Boolean(user.is_admin || user.is_owner || user.is_primary_owner),
          at: options.now().getTime(),
        };
        // A crude bound on memory for very large workspaces: start over rather than grow for ever.
        if (profiles.size > 50_000) profiles.clear();
        profiles.set(key, profile);
      } catch (error) {
        // Without the profile the person still gets answers, just without admin rights or a timezone default.
        log.warn({ event: 'slack.users_info_failed', failure: classifySlackError(error) }, 'users.info failed');
        profile = { isAdmin: false, at: 0 };
      }
    }
    const displayName = profile.displayName ?? fallbackName;
    return {
      platform: 'slack',
      workspaceExternalId: teamId,
      ...(workspaceName ? { workspaceName: workspaceName.slice(0, 200) } : {}),
      userExternalId: userId,
      ...(displayName ? { displayName: displayName.slice(0, 200) } : {}),
      ...(profile.timezone ? { timezone: profile.timezone } : {}),
      isAdmin: profile.isAdmin,
      // Slack admins and owners are team leads; people an admin granted are looked up by the core.
      isLead: profile.isAdmin,
    };
  }

  async function dmChannel(client: WebClient, actor: Actor): Promise<string> {
    const key = `${actor.workspaceExternalId}:${actor.userExternalId}`;
    const cached = dmChannels.get(key);
    if (cached) return cached;
    const opened = await client.conversations.open({ users: actor.userExternalId });
    const channel = opened.channel?.id;
    if (!channel) throw new Error('conversations.open returned no channel');
    if (dmChannels.size > 50_000) dmChannels.clear();
    dmChannels.set(key, channel);
    return channel;
  }

  return {
    resolveActor,
    dmChannel,
    rememberDm: (teamId, userId, channel) => void dmChannels.set(`${teamId}:${userId}`, channel),
  };
}
