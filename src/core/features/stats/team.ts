import { z } from 'zod';
import type { Actor, Platform } from '../../request.js';
import { echo } from '../../echo.js';
import type { TeamScope } from './query.js';

/**
 * Who is in a team is platform knowledge (Slack channel members, a Discord role), so adapters that can
 * list members provide a resolver; the core never calls a platform. Without one, the team is the whole
 * workspace, which is all the console has.
 */
export interface TeamResolver {
  readonly platform: Platform;
  /** `team` is what the lead typed (a channel or role mention, a name), or undefined for "my team". */
  resolve(actor: Actor, team: string | undefined): Promise<TeamResolution>;
}

export type TeamResolution =
  | { kind: 'workspace'; label: string }
  | { kind: 'members'; label: string; platformUserIds: string[] }
  /** Not a team the resolver knows (or the lead may not see): the message is shown as is. */
  | { kind: 'unknown'; message: string };

const resolutionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('workspace'), label: z.string().min(1).max(200) }),
  z.object({
    kind: z.literal('members'),
    label: z.string().min(1).max(200),
    platformUserIds: z.array(z.string().min(1).max(200)).max(200_000),
  }),
  z.object({ kind: z.literal('unknown'), message: z.string().min(1).max(500) }),
]);

export interface ResolvedTeam {
  label: string;
  scope: TeamScope;
}

const wholeWorkspaceWords = new Set(['workspace', 'all', 'everyone', 'server', 'team']);

/** What the lead asked for, as a scope the stats query understands, or a message saying why not. */
export async function resolveTeam(
  resolvers: readonly TeamResolver[] | undefined,
  actor: Actor,
  team: string | undefined,
): Promise<{ ok: true; team: ResolvedTeam } | { ok: false; message: string }> {
  const workspaceLabel = actor.workspaceName ? `${actor.workspaceName} (whole workspace)` : 'the whole workspace';
  const resolver = resolvers?.find((r) => r.platform === actor.platform);
  if (!resolver) {
    if (team === undefined || wholeWorkspaceWords.has(team.toLowerCase()))
      return { ok: true, team: { label: workspaceLabel, scope: { kind: 'workspace' } } };
    return {
      ok: false,
      message: `I can't look up ${echo(team)} here, so a team is the whole workspace. Try \`/backcare stats\` without a team.`,
    };
  }
  const parsed = resolutionSchema.safeParse(await resolver.resolve(actor, team));
  if (!parsed.success) throw new Error(`team resolver for ${actor.platform} returned an invalid answer`);
  const resolution = parsed.data;
  switch (resolution.kind) {
    case 'workspace':
      return { ok: true, team: { label: resolution.label, scope: { kind: 'workspace' } } };
    case 'members':
      return {
        ok: true,
        team: {
          label: resolution.label,
          scope: { kind: 'members', platformUserIds: [...new Set(resolution.platformUserIds)] },
        },
      };
    case 'unknown':
      return { ok: false, message: resolution.message };
  }
}
