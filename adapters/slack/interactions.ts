import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { expiredButtonReply, type Actor, type Core } from '../../src/core/ports.js';
import type { SlackContext } from './context.js';
import {
  actionInput,
  blockActionsSchema,
  blockSuggestionSchema,
  commandInput,
  slashCommandSchema,
  type BlockActions,
  type SlashCommand,
} from './parse.js';
import { timezoneOptions } from './render.js';
import { isFresh } from './replay-guard.js';
import type { ReplyTarget } from './replies.js';

/** Slash commands, button presses and select searches: ack first, then ask the core and deliver its reply. */
export function registerInteractions(ctx: SlackContext): void {
  const { app, log, live, track } = ctx;
  const { resolveActor } = ctx.people;
  const { handle, deliver } = ctx.replies;

  app.command(/.*/, async ({ ack, body, client, respond, context }) => {
    await ack();
    // Everything after the ack waits for the burst it came in to be acknowledged, the payload's validation too:
    // run at once, 200 of them took turns between the acks (see burst-gate.ts).
    ctx.urgent(async () => commandAfterAck(ctx, { body, client, respond, context }));
  });

  app.action(/.*/, async ({ ack, body, client, respond, context }) => {
    await ack();
    track('action', async () => {
      if (!(await isFresh(context))) return;
      const parsed = blockActionsSchema.safeParse(body);
      if (!parsed.success) {
        log.warn(
          { event: 'slack.action_invalid', issues: parsed.error.issues.map((i) => i.path.join('.')) },
          'unexpected block_actions payload',
        );
        return;
      }
      const payload: BlockActions = parsed.data;
      const teamId = payload.team?.id ?? payload.user.team_id;
      if (!teamId) return;
      const actor = await resolveActor(
        client,
        teamId,
        payload.user.id,
        payload.user.username ?? payload.user.name,
        payload.team?.domain,
      );
      const container = payload.container;
      const source: ReplyTarget['source'] =
        container?.type === 'view' ? (payload.view?.type === 'home' ? 'home' : 'modal') : 'message';
      // Any button on a live session's message (Stop above all) ends its playback before the core answers.
      if (container?.channel_id && container.message_ts)
        await live.stopByMessage(container.channel_id, container.message_ts);
      for (const action of payload.actions) {
        const input = actionInput(action);
        const reply = input ? await handle(actor, input) : expiredButtonReply();
        if (!input)
          log.warn(
            { event: 'slack.action_forged', actionId: action.action_id },
            'action value rejected before the core',
          );
        await deliver(
          {
            actor,
            client,
            triggerId: payload.trigger_id,
            respond: payload.response_url ? respond : undefined,
            channelId: container?.channel_id ?? payload.channel?.id,
            source,
            viewId: payload.view?.id,
            messageTs: container?.message_ts,
          },
          reply,
        );
      }
    });
  });

  // The only external select we render is the timezone search in forms.
  app.options(/.*/, async ({ ack, body }) => {
    const parsed = blockSuggestionSchema.safeParse(body);
    await ack({ options: parsed.success ? timezoneOptions(parsed.data.value) : [] });
  });
}

type CommandArgs = Pick<SlackCommandMiddlewareArgs & AllMiddlewareArgs, 'body' | 'client' | 'respond' | 'context'>;

/** A slash command once acknowledged: validated, then a modal opened at once or the core's answer queued. */
function commandAfterAck(ctx: SlackContext, { body, client, respond, context }: CommandArgs): Promise<unknown> {
  const { log, track } = ctx;
  const { resolveActor } = ctx.people;
  const { handle, deliver } = ctx.replies;
  const parsed = slashCommandSchema.safeParse(body);
  if (!parsed.success) {
    log.warn(
      { event: 'slack.command_invalid', issues: parsed.error.issues.map((i) => i.path.join('.')) },
      'unexpected slash command payload',
    );
    return respond({ response_type: 'ephemeral', text: "Sorry, I couldn't understand that request." });
  }
  const command = parsed.data;
  const target = { client, triggerId: command.trigger_id, respond, channelId: command.channel_id } as const;
  // A modal that needs no stored data opens now, while the trigger is fresh: not behind the work queue (slots
  // may all be waiting out a rate limit), before users.info, the replay verdict and any database work (a
  // replayed trigger_id is refused by Slack itself).
  const instant = ctx.core.instantReply?.({ actor: payloadActor(command), input: commandInput(command) });
  if (instant) return deliver({ ...target, actor: payloadActor(command), source: 'command' }, instant);
  track(
    commandKind(ctx.core.commands, command.text),
    async () => {
      if (!(await isFresh(context))) return;
      const actor = await resolveActor(
        client,
        command.team_id,
        command.user_id,
        command.user_name,
        command.team_domain,
      );
      const reply = await handle(actor, commandInput(command));
      await deliver({ ...target, actor, source: 'command' }, reply);
    },
    `${command.team_id}:${command.user_id}`,
  );
  return Promise.resolve();
}

/** Who asks, from the payload alone (no users.info): enough for a reply that reads nothing about the person. */
function payloadActor(command: SlashCommand): Actor {
  return {
    platform: 'slack',
    workspaceExternalId: command.team_id,
    userExternalId: command.user_id,
    isAdmin: false,
    isLead: false,
  };
}

/** A command's queue kind: its name when the core knows it (a bounded set: a metric label), otherwise 'command'. */
function commandKind(commands: Core['commands'], text: unknown): string {
  const name = typeof text === 'string' ? (text.trim().split(/\s+/)[0] ?? '').toLowerCase() : '';
  if (name === '') return 'help';
  return commands.find((c) => c.name === name || c.aliases.includes(name))?.name ?? 'command';
}
