import { z } from 'zod';
import { defineAction, defineCommand, encodeActionValue, type Feature } from '../../src/core/command.js';
import { reply, text } from '../../src/core/reply.js';

/**
 * `/backcare demo`: a live sequence of the given frames with a Stop button, and a completion that asks how you
 * feel; the adapter tests' stand-in for a breathing routine with frame times they choose.
 */
export function demoSequenceFeature(frames: readonly string[], frameMs: number): Feature {
  return {
    commands: [
      defineCommand({
        name: 'demo',
        summary: 'a live sequence',
        usage: '/backcare demo',
        args: z.array(z.string()),
        run: async (ctx) => ({
          ...reply('Demo breathing', [text('Intro: sit tall.')]),
          sequence: {
            sessionId: `demo:${ctx.actor.userExternalId}`,
            frames: frames.map((f) => ({ blocks: [text(f)], ms: frameMs })),
            staticBlocks: [text('In 4, hold 4, out 4.')],
            onComplete: { actionId: 'demo.done', value: encodeActionValue({}) },
            actions: [{ type: 'button', actionId: 'demo.stop', label: 'Stop', value: encodeActionValue({}) }],
          },
        }),
      }),
    ],
    actions: [
      defineAction({
        actionId: 'demo.done',
        value: z.object({}),
        run: async () => reply('How do you feel?', [text('How do you feel?')], { replaceOriginal: true }),
      }),
      defineAction({
        actionId: 'demo.stop',
        value: z.object({}),
        run: async () => reply('Stopped.', [text('Stopped: nothing more will play.')], { replaceOriginal: true }),
      }),
    ],
  };
}
