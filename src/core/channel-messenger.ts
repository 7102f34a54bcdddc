import type { Reply } from './reply.js';
import type { Actor, Platform } from './request.js';

export type ChannelPostResult = { ok: true } | { ok: false; message: string };

/**
 * Posting into a named channel and reaching people one by one are platform abilities, so adapters provide them
 * (like team resolvers) and the core never calls a platform. The console has none: it has no channels.
 */
export interface ChannelMessenger {
  readonly platform: Platform;
  /** The channel id in what was typed (a channel mention, or a bare id), or null when it is not a channel. */
  channelId(typed: string): string | null;
  /** Posts a public message (its buttons work for whoever presses them) in the channel. */
  post(actor: Actor, channelId: string, message: Reply): Promise<ChannelPostResult>;
  /**
   * The channel's members, where a bot may list them (Slack: conversations.members). Absent where it may not:
   * Discord needs the privileged Server Members intent for that, which Backcare does not ask for.
   */
  listMembers?(actor: Actor, channelId: string): Promise<{ ok: true; platformUserIds: string[] } | { ok: false; message: string }>;
  /** A direct message to one person of the actor's workspace; false when it could not be delivered. */
  sendDm?(actor: Actor, platformUserId: string, message: Reply): Promise<boolean>;
}
