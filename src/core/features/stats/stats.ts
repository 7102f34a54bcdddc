import { z } from 'zod';
import { defineAction, defineCommand, encodeActionValue, type CommandContext, type Feature } from '../../command.js';
import { canonicalTimezone } from '../../preferences.js';
import { context, header, reply, text, type Block, type Reply } from '../../reply.js';
import { chartSvg, renderPng } from './chart.js';
import { defaultStatsDir, writeStatsFile } from './files.js';
import { formatCell, statsCsv, weekText } from './format.js';
import { effectiveFloor, HIDDEN_TEXT, teamLargeEnough, toWeekFigures, type WeekFigures } from './privacy.js';
import { queryTeamWeeks } from './rollups.js';
import { resolveTeam } from './team.js';
import { weekWindow } from './weeks.js';
import { auditLog } from '../../../db/schema.js';
import { ensureWorkspace } from '../../../db/users.js';

const DEFAULT_WEEKS = 4;
const MAX_WEEKS = 26;
const CSV_BUTTON_TTL_SECONDS = 60 * 60;

export interface StatsArgs {
  team: string | undefined;
  weeks: number;
  csv: boolean;
}

/** `[team] [weeks] [csv]` in any order: a number is the weeks, `csv` asks for the export, anything else names the team. */
export const statsArgsSchema = z
  .array(z.string())
  .max(4, 'stats takes a team, a number of weeks and `csv` at most')
  .transform((tokens, ctx): StatsArgs => {
    const args: StatsArgs = { team: undefined, weeks: DEFAULT_WEEKS, csv: false };
    for (const token of tokens) {
      const weeks = /^(\d{1,3})(w|weeks?)?$/i.exec(token);
      if (weeks) {
        const n = Number(weeks[1]);
        if (n < 1 || n > MAX_WEEKS) {
          ctx.addIssue({ code: 'custom', message: `weeks must be from 1 to ${MAX_WEEKS}` });
          return z.NEVER;
        }
        args.weeks = n;
      } else if (/^(w|weeks?)$/i.test(token)) {
        // "8 weeks" arrives as two tokens; the word adds nothing.
      } else if (token.toLowerCase() === 'csv') {
        args.csv = true;
      } else if (args.team === undefined && token.length <= 200) {
        args.team = token;
      } else {
        ctx.addIssue({ code: 'custom', message: 'name one team at most' });
        return z.NEVER;
      }
    }
    return args;
  });

/** The chart in words, for screen readers and for platforms that show alt text. */
function chartAlt(label: string, weeks: readonly WeekFigures[]): string {
  const sessions = weeks.map((w) => `${w.isoWeek.slice(5)} ${formatCell('sessions', w.cells.sessions)}`).join(', ');
  const rates = weeks
    .map((w) => `${w.isoWeek.slice(5)} ${formatCell('completionRate', w.cells.completionRate)}`)
    .join(', ');
  return `Chart for ${label}. Sessions completed: ${sessions}. Completion rate: ${rates}.`.slice(0, 2000);
}

async function renderChart(
  ctx: CommandContext,
  title: string,
  weeks: readonly WeekFigures[],
  floor: number,
): Promise<string | null> {
  try {
    const png = await renderPng(chartSvg(weeks, { title, floor }));
    return await writeStatsFile(ctx.deps.chartDir ?? defaultStatsDir(), 'png', png, ctx.now());
  } catch (error) {
    // The figures are still worth showing without their picture.
    ctx.log.error({ event: 'stats.chart_failed', err: error }, 'stats chart could not be drawn');
    return null;
  }
}

/** One stats view (for leads only: the router checks): team, the one aggregation query, the audit entry, then the privacy-floored reply. */
async function statsView(ctx: CommandContext, args: StatsArgs): Promise<Reply> {
  const { actor } = ctx;
  const workspace = await ensureWorkspace(ctx.db, {
    platform: actor.platform,
    externalId: actor.workspaceExternalId,
    name: actor.workspaceName,
  });
  const resolved = await resolveTeam(ctx.deps.teamResolvers, actor, args.team);
  if (!resolved.ok) return reply(resolved.message, [text(resolved.message)]);
  const { team } = resolved;
  const timezone = canonicalTimezone(workspace.timezone) ?? 'UTC';
  const now = ctx.now();
  const window = weekWindow(now, timezone, args.weeks);
  const floor = effectiveFloor(ctx.deps.privacyFloor);
  const started = performance.now();
  const rows = await queryTeamWeeks(ctx.db, { workspaceId: workspace.id, scope: team.scope, window });
  const shown = teamLargeEnough(rows, floor);
  await ctx.db.insert(auditLog).values({
    workspaceId: workspace.id,
    actor: actor.userExternalId,
    action: args.csv ? 'stats.csv' : 'stats.view',
    subject: team.label,
    details: { scope: team.scope.kind, weeks: args.weeks, shown },
    at: now,
  });
  ctx.log.info(
    {
      event: 'stats.viewed',
      scope: team.scope.kind,
      weeks: args.weeks,
      shown,
      ms: Math.round(performance.now() - started),
    },
    'stats view',
  );

  const title = `Team participation: ${team.label}`;
  if (!shown) {
    const message = `${title}: ${HIDDEN_TEXT}. Backcare shows team figures only for groups of at least ${floor} people, so nobody can be singled out.`;
    return reply(message, [header(title), text(message)]);
  }
  const weeks = toWeekFigures(rows, { floor, today: window.today });
  const blocks: Block[] = [
    header(title),
    context(
      `Last ${args.weeks} ${args.weeks === 1 ? 'week' : 'weeks'} by ISO week in ${timezone}; changes against the week before in brackets.`,
    ),
  ];
  const chart = await renderChart(ctx, title, weeks, floor);
  if (chart) blocks.push({ type: 'image', alt: chartAlt(team.label, weeks), path: chart });
  // Newest first: the week a lead asks about is usually this one or the last.
  for (const week of [...weeks].reverse()) blocks.push(text(weekText(week)));
  if (args.csv) {
    const file = await writeStatsFile(ctx.deps.chartDir ?? defaultStatsDir(), 'csv', statsCsv(weeks), now);
    const first = weeks[0]!.isoWeek;
    const last = weeks[weeks.length - 1]!.isoWeek;
    blocks.push({
      type: 'file',
      path: file,
      filename: `backcare-stats-${first}-to-${last}.csv`,
      alt: `CSV export, ${first} to ${last}, oldest week first`,
    });
  }
  blocks.push(
    context(
      `Team totals only: no one's own figures, names or health answers. Figures that would describe fewer than ${floor} people show as "${HIDDEN_TEXT}". This view was recorded in the audit log.`,
    ),
  );
  const actions: Reply['actions'] = args.csv
    ? []
    : [
        {
          type: 'button',
          actionId: 'stats.csv',
          label: 'Export CSV',
          value: encodeActionValue(
            { t: args.team ?? null, w: args.weeks },
            { ttlSeconds: CSV_BUTTON_TTL_SECONDS, now },
          ),
        },
      ];
  return reply(title, blocks, { actions });
}

const stats = defineCommand({
  name: 'stats',
  summary: 'team leads: participation per week for a team, with a chart (no individual figures)',
  usage: '/backcare stats [team] [weeks] [csv]',
  examples: ['/backcare stats', '/backcare stats #design 8', '/backcare stats 12 csv'],
  precondition: 'lead',
  options: [
    { type: 'team', name: 'team', description: 'a team to report on (default: the whole workspace)' },
    { type: 'integer', name: 'weeks', description: 'how many weeks back (default 4)', min: 1, max: MAX_WEEKS },
    {
      type: 'string',
      name: 'csv',
      description: 'also export a CSV',
      choices: [{ value: 'csv', label: 'yes, as CSV' }],
    },
  ],
  args: statsArgsSchema,
  run: statsView,
});

const exportCsv = defineAction({
  actionId: 'stats.csv',
  value: z.object({ t: z.string().min(1).max(200).nullable(), w: z.number().int().min(1).max(MAX_WEEKS) }),
  // Pressing the button is a new view: the lead check and the audit entry happen again.
  precondition: 'lead',
  run: (ctx, value) => statsView(ctx, { team: value.t ?? undefined, weeks: value.w, csv: true }),
});

export const statsFeature: Feature = { commands: [stats], actions: [exportCsv] };
