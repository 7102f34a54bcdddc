import { z } from 'zod';

export const platforms = ['console', 'slack', 'discord'] as const;
export type Platform = (typeof platforms)[number];

/** Who is asking, as the adapter knows them. Ids are the platform's own, opaque to the core. */
export const actorSchema = z.object({
  platform: z.enum(platforms),
  workspaceExternalId: z.string().min(1).max(200),
  workspaceName: z.string().max(200).optional(),
  userExternalId: z.string().min(1).max(200),
  displayName: z.string().max(200).optional(),
  /** The person's timezone when the platform knows it (Slack profile); a default for settings. */
  timezone: z.string().max(100).optional(),
  /** Workspace admin or owner (Slack), Manage Server (Discord); the console's local user is one. */
  isAdmin: z.boolean().optional(),
  /** A team lead by platform rules the adapter knows (e.g. a Discord role named in settings). */
  isLead: z.boolean().optional(),
});
export type Actor = z.infer<typeof actorSchema>;

const formValueSchema = z.union([z.string().max(3000), z.array(z.string().max(200)).max(50)]);

const coreInputSchema = z.discriminatedUnion('kind', [
  /** `/backcare <sub> [args]`, with or without the `/backcare` prefix. */
  z.object({ kind: z.literal('command'), text: z.string().max(2000) }),
  /** A button press or select choice: the action id and the value the core put on it. */
  z.object({ kind: z.literal('action'), actionId: z.string().min(1).max(100), value: z.string().max(2000) }),
  /** A submitted form: field id → value(s). */
  z.object({
    kind: z.literal('submit'),
    formId: z.string().min(1).max(100),
    values: z.record(z.string().max(100), formValueSchema),
    state: z.string().max(2000).optional(),
  }),
]);
export type CoreInput = z.infer<typeof coreInputSchema>;

export const coreRequestSchema = z.object({ actor: actorSchema, input: coreInputSchema });
export type CoreRequest = z.infer<typeof coreRequestSchema>;
