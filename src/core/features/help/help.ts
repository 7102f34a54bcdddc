import { z } from 'zod';
import { defineCommand, type Feature } from '../../command.js';
import { helpReply } from '../../router.js';

const help = defineCommand({
  name: 'help',
  summary: 'what Backcare can do',
  usage: '/backcare help',
  options: [],
  args: z.array(z.string()),
  // The router knows every command, so help asks it rather than keeping its own list.
  run: async (ctx) => helpReply(ctx.commands),
});

export const helpFeature: Feature = { commands: [help] };
