import type { Reply } from './reply.js';
import type { Actor, Platform } from './request.js';

type ChannelPostResult = { ok: true } | { ok: false; message: string };

/**
 * `later`: not delivered this time (a rate limit beyond the wait bound, platform trouble); another run tries again.
 * Its reason is a short phrase for the person, e.g. "Slack is rate-limiting direct messages".
 */
export type DmResult =
  { status: 'sent' } | { status: 'unreachable'; reason: string } | { status: 'later'; reason: string };

/** A channel named in a command: its id, or why what was typed cannot be used (said to the person as is). */
export type ChannelRef = { ok: true; channelId: string } | { ok: false; message: string };

/**
 * Posting into a named channel and reaching people one by one are platform abilities, so adapters provide them
 * (like team resolvers) and the core never calls a platform. The console has none: it has no channels.
 */
export interface ChannelMessenger {
  readonly platform: Platform;
  /**
   * The channel id in what was typed: the platform's channel mention (however it escapes it) or a bare id.
   * The one parser for every command that names a channel, so what `invite` accepts `team-post` accepts.
   */
  channelRef(typed: string): ChannelRef;
  /** Posts a public message (its buttons work for whoever presses them) in the channel. */
  post(actor: Actor, channelId: string, message: Reply): Promise<ChannelPostResult>;
  /**
   * The channel's members, where a bot may list them (Slack: conversations.members). Absent where it may not:
   * Discord needs the privileged Server Members intent for that, which Backcare does not ask for.
   */
  listMembers?(
    actor: Actor,
    channelId: string,
  ): Promise<{ ok: true; platformUserIds: string[] } | { ok: false; message: string }>;
  /**
   * A direct message to one person of the actor's workspace. Rate limits are waited out inside (within a bound);
   * `unreachable` is only for answers retrying cannot change (the person is gone, a bot, has DMs closed).
   */
  sendDm?(actor: Actor, platformUserId: string, message: Reply): Promise<DmResult>;
}

/**
 * The channel a command names, through the actor's platform messenger. Platforms without channels (the console)
 * get a plain answer instead of a stored name nothing could ever post to.
 */
export function resolveChannel(
  messengers: readonly ChannelMessenger[] | undefined,
  actor: Actor,
  typed: string,
): ChannelRef {
  const messenger = messengers?.find((m) => m.platform === actor.platform);
  if (!messenger) return { ok: false, message: 'There are no channels here: channel posts work on Slack and Discord.' };
  return messenger.channelRef(typed);
}
