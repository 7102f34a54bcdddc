import { buildHomeView as coreHomeView, type Action, type Actor, type Core } from '../../src/core/ports.js';
import { HOME_COMMAND_ACTION } from './parse.js';
import { renderBlocks, slackLimits, type SlackView } from './render.js';

/** The App Home tab: the core's home view, each section kept together, quick starts as buttons under the activity. */
export async function buildHomeView(core: Core, actor: Actor): Promise<SlackView> {
  const home = await coreHomeView(core.deps, core.commands, actor);
  const starts: Action[] = home.quickStarts.map((q) => ({
    type: 'button',
    actionId: HOME_COMMAND_ACTION,
    label: q.label,
    value: q.command,
  }));
  const [settings, activity] = home.sections;
  const sections = [
    ...(settings ? [settings] : []),
    ...(activity ? [{ blocks: activity.blocks, actions: [...activity.actions, ...starts] }] : []),
    ...home.sections.slice(2),
    { blocks: home.footer, actions: [] },
  ];
  return {
    type: 'home',
    blocks: sections
      .flatMap((s) => renderBlocks(s.blocks, s.actions, slackLimits.homeBlocks))
      .slice(0, slackLimits.homeBlocks),
  };
}
