import type { WebClient } from '@slack/web-api';
import type { Actor, CoreInput, Reply } from '../../src/core/ports.js';
import { completionMessage, type SlackLiveSessions as LiveSessions, type SlackSessionContext } from './live.js';
import type { ReplyTarget } from './replies.js';
import type { WaitOut } from './slack-api.js';

/** A sequence reply played as a live DM message: posted, then updated frame by frame within the update budget. */
export function createLiveRunner(deps: {
  live: LiveSessions;
  dmChannel: (client: WebClient, actor: Actor) => Promise<string>;
  handle: (actor: Actor, input: CoreInput) => Promise<Reply>;
  waitOut: WaitOut;
}): (target: ReplyTarget, reply: Reply) => Promise<void> {
  const { live, dmChannel, handle, waitOut } = deps;

  async function runLive(target: ReplyTarget, reply: Reply): Promise<void> {
    const sequence = reply.sequence!;
    // "Another round" pressed on a live message in the DM plays on that same message.
    const existing =
      reply.replaceOriginal && target.source === 'message' && target.channelId?.startsWith('D') && target.messageTs
        ? { channel: target.channelId, ts: target.messageTs }
        : undefined;
    // A burst of sessions meets conversations.open's limit (50 a minute): wait it out rather than lose the session.
    const channel = existing?.channel ?? (await waitOut(() => dmChannel(target.client, target.actor)));
    if (target.respond && target.channelId !== channel) {
      await target.respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'Your session is running in your direct messages with Backcare.',
      });
    }
    const client = target.client;
    // Enough for another replica to finish the session the same way if this one goes away.
    const context: SlackSessionContext = { actor: target.actor, summary: reply.summary };
    // The work slot is held until the first message is out, which bounds how many sessions start at once (200
    // at once slowed the acks of the burst that asked for them), but not for the minutes the session then
    // plays: that kept every other command waiting. The adapter's idle() waits for the whole session.
    const { started } = live.start({
      context,
      workspace: target.actor.workspaceExternalId,
      user: target.actor.userExternalId,
      existing,
      // The intro (with every caution) stays above the frames, and above the written-out steps when updates run short.
      sequence: {
        ...sequence,
        frames: sequence.frames.map((f) => ({ ...f, blocks: [...reply.blocks, ...f.blocks] })),
        staticBlocks: [...reply.blocks, ...sequence.staticBlocks],
      },
      api: {
        async post(message) {
          const posted = await client.chat.postMessage({
            channel,
            text: message.text,
            blocks: message.blocks,
            unfurl_links: false,
          });
          return { channel: posted.channel ?? channel, ts: posted.ts ?? '' };
        },
        async update(ch, ts, message) {
          await client.chat.update({ channel: ch, ts, text: message.text, blocks: message.blocks });
        },
      },
      finish: () => completionMessage(handle, context, sequence),
    });
    await started;
  }

  return runLive;
}
