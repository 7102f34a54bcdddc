import type { Reply } from '../../src/core/ports.js';
import { firstSeen } from '../../src/core/ports.js';
import type { SlackContext } from './context.js';
import { uninstallWorkspace } from './installation-store.js';
import {
  appHomeOpenedSchema,
  dmCommandText,
  eventCallbackSchema,
  imMessageSchema,
  MAX_DM_COMMAND,
  tokensRevokedSchema,
} from './parse.js';
import { renderMessage } from './render.js';
import type { ReplyTarget } from './replies.js';

/** Events API retries a delivery (X-Slack-Retry-Num) when we were slow; Bolt does not de-duplicate, the core does. */
export function registerEventDedupe(ctx: SlackContext): void {
  const { app, core, log } = ctx;
  app.use(async ({ body, next }) => {
    // Commands and interactions pass straight on: this runs before every ack, a burst's included.
    if ((body as { type?: unknown }).type !== 'event_callback') return next();
    const envelope = eventCallbackSchema.safeParse(body);
    if (envelope.success && !(await firstSeen(core.deps, `slack:event:${envelope.data.event_id}`))) {
      log.info({ event: 'slack.event_duplicate', eventId: envelope.data.event_id }, 'Slack event already handled');
      return;
    }
    await next();
  });
}

/** The Home tab, messages typed to Backcare, and the app leaving a workspace. */
export function registerEvents(ctx: SlackContext): void {
  const { app, log, track, lifecycle, installations } = ctx;
  const { resolveActor } = ctx.people;
  const { handle, deliver, postToDm, publishHome } = ctx.replies;

  app.event('app_home_opened', async ({ event, body, client }) => {
    const parsed = appHomeOpenedSchema.safeParse(event);
    const envelope = eventCallbackSchema.safeParse(body);
    if (!parsed.success || !envelope.success || (parsed.data.tab !== undefined && parsed.data.tab !== 'home')) return;
    const teamId = envelope.data.team_id;
    track('home', async () => publishHome(client, await resolveActor(client, teamId, parsed.data.user)));
  });

  // A message typed in Backcare's Messages tab is a command, with or without `/backcare`. Re-deliveries are
  // dropped by the processed-events check above; edits, deletions and bots' messages (ours too) are ignored.
  app.event('message', async ({ event, body, client }) => {
    const parsed = imMessageSchema.safeParse(event);
    const envelope = eventCallbackSchema.safeParse(body);
    if (!parsed.success || !envelope.success) return;
    const message = parsed.data;
    if (message.subtype !== undefined || message.bot_id !== undefined || message.app_id !== undefined || !message.user)
      return;
    const teamId = envelope.data.team_id;
    const userId = message.user;
    track(
      'message',
      async () => {
        const actor = await resolveActor(client, teamId, userId);
        // The event names the DM: no conversations.open is needed to answer in it.
        ctx.people.rememberDm(teamId, userId, message.channel);
        const target: ReplyTarget = { actor, client, channelId: message.channel, source: 'command' };
        const say = (line: string) => {
          const answer: Reply = {
            summary: line,
            blocks: [{ type: 'text', text: line }],
            actions: [],
            visibility: 'dm',
          };
          return postToDm(target, renderMessage(answer), answer);
        };
        if (message.text.length > MAX_DM_COMMAND)
          return say('That message is too long to be a Backcare command. Send `help` to see what I can do.');
        const text = dmCommandText(message.text);
        log.info({ event: 'slack.dm_command' }, 'direct message taken as a command');
        const reply = await handle(actor, { kind: 'command', text });
        // Slack opens a modal only from a slash command or a button, never from a typed message.
        if (reply.form)
          return say(
            `${reply.form.title} opens as a form, which Slack only opens from a slash command: send \`/backcare ${text}\` instead.`,
          );
        await deliver(target, reply);
      },
      `${teamId}:${userId}`,
    );
  });

  app.event('app_uninstalled', async ({ body }) => {
    const envelope = eventCallbackSchema.safeParse(body);
    if (!envelope.success) return;
    track('lifecycle', () => uninstallWorkspace(installations, lifecycle, envelope.data.team_id));
  });

  app.event('tokens_revoked', async ({ event, body }) => {
    const parsed = tokensRevokedSchema.safeParse(event);
    const envelope = eventCallbackSchema.safeParse(body);
    if (!parsed.success || !envelope.success || (parsed.data.tokens.bot ?? []).length === 0) return;
    track('lifecycle', () => uninstallWorkspace(installations, lifecycle, envelope.data.team_id));
  });
}
