import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../src/config/logger.js';
import type { Actor, Core, CoreInput, Reply } from '../../src/core/ports.js';
import { buildHomeView } from './home.js';
import type { SlackLiveSessions as LiveSessions } from './live.js';
import { createLiveRunner } from './live-reply.js';
import type { SlackPeople } from './people.js';
import { localFiles, renderBlocks, renderMessage, renderModal, resultModal, type SlackMessage } from './render.js';
import { classifySlackError, waitingOutRateLimits as defaultWaitOut, type WaitOut } from './slack-api.js';

/** Where a reply goes back to: the surface the person acted on. */
export interface ReplyTarget {
  actor: Actor;
  client: WebClient;
  triggerId?: string | undefined;
  respond?: ((message: Record<string, unknown>) => Promise<unknown>) | undefined;
  /** The channel the command or button was in (a DM or a channel). */
  channelId?: string | undefined;
  source: 'command' | 'message' | 'home' | 'modal';
  viewId?: string | undefined;
  /** The message carrying the pressed button. */
  messageTs?: string | undefined;
}

export interface SlackReplies {
  /** The core's answer; never throws. */
  handle(actor: Actor, input: CoreInput): Promise<Reply>;
  /** Shows a core reply on the surface the person used. */
  deliver(target: ReplyTarget, reply: Reply): Promise<void>;
  postToDm(target: ReplyTarget, message: SlackMessage, reply: Reply): Promise<void>;
  publishHome(client: WebClient, actor: Actor, notice?: Reply): Promise<void>;
}

/** Asking the core and showing its replies on Slack: messages, modals, the Home tab and live sessions. */
export function createSlackReplies(deps: {
  core: Core;
  log: Logger;
  live: LiveSessions;
  people: SlackPeople;
  /** How a step of an answer waits out a rate limit (the adapter's lends its work slot meanwhile). */
  waitOut?: WaitOut;
}): SlackReplies {
  const { core, log, live } = deps;
  const { dmChannel } = deps.people;
  const waitingOutRateLimits = deps.waitOut ?? defaultWaitOut;
  const runLive = createLiveRunner({
    live,
    dmChannel,
    handle: (actor, input) => handle(actor, input),
    waitOut: waitingOutRateLimits,
  });

  async function publishHome(client: WebClient, actor: Actor, notice?: Reply): Promise<void> {
    const view = await buildHomeView(core, actor);
    if (notice)
      view.blocks = [...renderBlocks(notice.blocks, notice.actions, 20), { type: 'divider' }, ...view.blocks].slice(
        0,
        100,
      );
    const publish = () => client.views.publish({ user_id: actor.userExternalId, view });
    // An answer shown on the Home tab waits out a rate limit; a mere refresh does not (the next visit redraws it),
    // nor does it keep a stopping process past its grace.
    await (notice ? waitingOutRateLimits(publish) : publish());
  }

  async function uploadFiles(client: WebClient, channel: string, reply: Reply): Promise<void> {
    for (const file of localFiles(reply)) {
      await waitingOutRateLimits(() =>
        client.files.uploadV2({
          channel_id: channel,
          file: file.path,
          filename: file.filename,
          initial_comment: file.alt,
        }),
      );
    }
  }

  async function postToDm(target: ReplyTarget, message: SlackMessage, reply: Reply): Promise<void> {
    // Each step waits out its own rate limit: one retried after another succeeded would post the message twice.
    const channel = await waitingOutRateLimits(() => dmChannel(target.client, target.actor));
    await waitingOutRateLimits(() =>
      target.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false }),
    );
    await uploadFiles(target.client, channel, reply);
  }

  /** Shows a core reply on the surface the person used. */
  async function deliver(target: ReplyTarget, reply: Reply): Promise<void> {
    const { client, actor } = target;
    if (reply.form) {
      if (!target.triggerId) return postToDm(target, renderMessage(reply), reply);
      const view = renderModal(reply.form, {
        profileTimezone: actor.timezone,
        privateMetadata: JSON.stringify({
          ...(reply.form.state ? { state: reply.form.state } : {}),
          ...(target.channelId ? { channelId: target.channelId } : {}),
          ...(target.source === 'home' ? { from: 'home' } : {}),
        }),
      });
      try {
        await client.views.open({ trigger_id: target.triggerId, view });
      } catch (error) {
        log.warn({ event: 'slack.views_open_failed', failure: classifySlackError(error) }, 'could not open the modal');
        const message = 'That took too long to open. Please try again.';
        if (target.respond)
          await target.respond({ response_type: 'ephemeral', replace_original: false, text: message });
      }
      return;
    }
    if (reply.sequence) return runLive(target, reply);

    const message = renderMessage(reply);
    if (target.source === 'home') return publishHome(client, actor, reply);
    const viewId = target.viewId;
    if (target.source === 'modal' && viewId) {
      await waitingOutRateLimits(() => client.views.update({ view_id: viewId, view: resultModal('Backcare', reply) }));
      return;
    }
    if (reply.visibility === 'dm' || (reply.visibility === 'ephemeral' && localFiles(reply).length > 0))
      return postToDm(target, message, reply);
    if (target.respond) {
      if (target.source === 'message' && reply.replaceOriginal) {
        await target.respond({ replace_original: true, text: message.text, blocks: message.blocks });
      } else {
        await target.respond({
          response_type: reply.visibility === 'public' ? 'in_channel' : 'ephemeral',
          replace_original: false,
          text: message.text,
          blocks: message.blocks,
        });
      }
      return;
    }
    await postToDm(target, message, reply);
  }

  /** The core promises never to throw; if a bug makes it, the person still gets an answer. */
  async function handle(actor: Actor, input: CoreInput): Promise<Reply> {
    try {
      return await core.handle({ actor, input });
    } catch (error) {
      log.error({ event: 'slack.core_threw', kind: input.kind, err: error }, 'the core threw instead of answering');
      const message = 'Sorry, something went wrong on my side. It has been logged; please try again.';
      return { summary: message, blocks: [{ type: 'text', text: message }], actions: [], visibility: 'ephemeral' };
    }
  }

  return { handle, deliver, postToDm, publishHome };
}
