import type { CommandContext } from './command.js';
import type { Precondition } from './command-options.js';
import { context, reply, text, type Reply } from './reply.js';
import { isLead } from './features/stats/leads.js';

/**
 * The one place that decides whether someone may run a command, press a button or submit a form. `lead` means
 * what `isLead` means: admins, the platform's leads (a Discord lead role) and leads granted with `/backcare lead add`.
 */
export async function allows(precondition: Precondition, ctx: Pick<CommandContext, 'actor' | 'db'>): Promise<boolean> {
  switch (precondition) {
    case 'everyone':
      return true;
    case 'admin':
      return ctx.actor.isAdmin === true;
    case 'lead':
      return isLead(ctx);
  }
}

const who: Record<Exclude<Precondition, 'everyone'>, string> = {
  lead: 'workspace admins and team leads',
  admin: 'workspace admins',
};

/** The one wording of a refusal; the same for every command, button and form. */
export function refusalText(precondition: Exclude<Precondition, 'everyone'>): string {
  return `Only ${who[precondition]} can do that.`;
}

export function refusalReply(precondition: Exclude<Precondition, 'everyone'>): Reply {
  const message = refusalText(precondition);
  const how =
    precondition === 'lead'
      ? 'A workspace admin can make you a team lead with `/backcare lead add @you`.'
      : 'Ask a workspace admin to do it for you.';
  return reply(message, [text(message), context(how)], { visibility: 'ephemeral' });
}
