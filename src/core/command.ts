import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../config/logger.js';
import type { Db } from '../db/client.js';
import type { UserRow, WorkspaceRow } from '../db/schema.js';
import type { Reply } from './reply.js';
import type { Actor } from './request.js';
import type { NextSlotFn } from './settings-service.js';
import type { TeamResolver } from './features/stats/team.js';
import type { RoutineLibrary } from './content/library.js';
import type { ChannelMessenger } from './channel-messenger.js';
import type { CommandOption, Precondition } from './command-options.js';

/** What every handler gets: who asks, lazy access to their rows, the services, and the clock. */
export interface CommandContext {
  actor: Actor;
  db: Db;
  log: Logger;
  now(): Date;
  /** Finds or creates the workspace and user rows (only handlers that store something call it). */
  ensureUser(): Promise<{ workspace: WorkspaceRow; user: UserRow }>;
  /** The user's rows if they exist; never creates anything. */
  findUser(): Promise<{ workspace: WorkspaceRow; user: UserRow } | null>;
  /** Shared, read-only things the core was built with (content library, settings). */
  deps: CoreDeps;
  /** Every registered command, for help and suggestions. */
  commands: readonly RegisteredCommand[];
}

/**
 * Everything the core is built with. Later features add optional members here rather than
 * reaching for globals.
 */
export interface CoreDeps {
  db: Db;
  log: Logger;
  now: () => Date;
  /** Smallest group the team stats may describe. */
  privacyFloor: number;
  /** Adapters that can list a team's members (Slack channel, Discord role); without one a team is the whole workspace. */
  teamResolvers?: TeamResolver[];
  /** Adapters that can post into a named channel and DM people (`/backcare invite`); the console has none. */
  channelMessengers?: ChannelMessenger[];
  /** Where stats charts are written for adapters to upload (default: the system temp directory). */
  chartDir?: string;
  /** Slot maths from the scheduler: when the next nudge falls for these preferences. */
  nextSlot?: NextSlotFn;
  /** Called once per handled request (metrics); must not throw. Keeps the core free of any metrics library. */
  onHandled?: (event: HandledEvent) => void;
  /** Where `/backcare me export` writes the person's JSON file (default: the system temp directory). */
  exportDir?: string;
  /** The routines, loaded and validated from content/ at start-up; guided sessions and nudges pick from it. */
  library?: RoutineLibrary;
  /** Retention as configured (RETENTION_MONTHS, AUDIT_RETENTION_MONTHS), so `/backcare privacy` states the real figures. */
  retention?: { months: number; auditMonths: number };
}

/** One request the router answered: the route label (never ids), the platform, how it went and how long it took. */
export interface HandledEvent {
  route: string;
  platform: string;
  result: 'ok' | 'db_unavailable' | 'error';
  seconds: number;
}

/** A request that parsed: who may run it, and the handler to run once the router has checked that. */
export interface Runnable {
  precondition: Precondition;
  run: (ctx: CommandContext) => Promise<Reply>;
}

type ParseResult = ({ ok: true; instant?: () => Reply } & Runnable) | { ok: false; error: string };

/** A subcommand as the router sees it: generics erased after parsing. */
export interface RegisteredCommand {
  name: string;
  aliases: string[];
  summary: string;
  usage: string;
  examples: string[];
  /** Shown in help? */
  listed: boolean;
  /** Its options in the order of its words; undefined: it reads free text (see FREE_TEXT_OPTION). */
  options: readonly CommandOption[] | undefined;
  parse(tokens: string[]): ParseResult;
}

export interface CommandDefinition<A> {
  name: string;
  aliases?: string[];
  summary: string;
  usage: string;
  examples?: string[];
  listed?: boolean;
  /**
   * The options, in the order the words are read: what Discord registers and offers, and what typed values are
   * written back into. Leave out for a command that takes free text; `[]` for one that takes nothing.
   */
  options?: readonly CommandOption[];
  /** Who may run it (default everyone); a function when it depends on the arguments (`routines list` vs `add`). */
  precondition?: Precondition | ((args: A) => Precondition);
  /** Validates the tokens after the subcommand name and turns them into typed arguments. */
  args: z.ZodType<A, string[]>;
  run(ctx: CommandContext, args: A): Promise<Reply>;
  /**
   * The same reply as `run`, made without any I/O (no stored data, no person looked up), for a command anyone may
   * run: an adapter can then show it (open its modal) before any database work, while a trigger is fresh.
   */
  instant?: (args: A) => Reply;
}

export function defineCommand<A>(definition: CommandDefinition<A>): RegisteredCommand {
  return {
    name: definition.name,
    aliases: definition.aliases ?? [],
    summary: definition.summary,
    usage: definition.usage,
    examples: definition.examples ?? [],
    listed: definition.listed ?? true,
    options: definition.options,
    parse(tokens) {
      const parsed = definition.args.safeParse(tokens);
      if (!parsed.success)
        return { ok: false, error: parsed.error.issues[0]?.message ?? 'those arguments are not valid' };
      const args = parsed.data;
      const { precondition = 'everyone' } = definition;
      const { instant } = definition;
      return {
        ok: true,
        precondition: typeof precondition === 'function' ? precondition(args) : precondition,
        run: (ctx) => definition.run(ctx, args),
        ...(instant ? { instant: () => instant(args) } : {}),
      };
    },
  };
}

/** A button or select: the value the core put on it comes back and is validated before the handler sees it. */
export interface RegisteredAction {
  actionId: string;
  /** Returns null when the value is forged, malformed or expired. */
  parse(value: string, now: Date): Runnable | null;
}

export function defineAction<V>(definition: {
  actionId: string;
  value: z.ZodType<V>;
  /** Who may press it (default everyone): a button can be forwarded or replayed, so it is checked again. */
  precondition?: Precondition;
  run(ctx: CommandContext, value: V): Promise<Reply>;
}): RegisteredAction {
  return {
    actionId: definition.actionId,
    parse(raw, now) {
      const decoded = decodeActionValue(raw, now);
      if (decoded === undefined) return null;
      const parsed = definition.value.safeParse(decoded);
      if (!parsed.success) return null;
      const value = parsed.data;
      return { precondition: definition.precondition ?? 'everyone', run: (ctx) => definition.run(ctx, value) };
    },
  };
}

export interface RegisteredForm {
  formId: string;
  /** Who may submit it (default everyone): a form can be replayed by someone who has since lost the right. */
  precondition?: Precondition;
  /**
   * Field errors found without any I/O, so a platform can refuse bad input at once (Slack's modal errors must go
   * back in the ack). Only errors `submit` would also report; empty when the input must reach `submit` anyway
   * (a red flag in triage wins over any error).
   */
  check?(values: Record<string, string | string[]>, state: string | undefined): Record<string, string>;
  /**
   * `submit` reads and writes nothing (no database, no platform): its answer can go back in the ack, before
   * identity, the replay check or any queue (see Core.instantSubmit). Checked at run time: a pure form that
   * touches storage fails the instant path and is answered through `handle` as any other.
   */
  pure?: boolean;
  submit(ctx: CommandContext, values: Record<string, string | string[]>, state: string | undefined): Promise<Reply>;
}

export function defineForm(definition: RegisteredForm): RegisteredForm {
  return definition;
}

/** One feature (a file under src/core/features/) contributes its commands, buttons and forms together. */
export interface Feature {
  commands?: RegisteredCommand[];
  actions?: RegisteredAction[];
  forms?: RegisteredForm[];
}

/**
 * Action values travel through the platform (Discord custom ids are capped at 100 characters) and come back from
 * whoever presses, so they are signed and always expire: `<tag><expiry><JSON payload>`, where the tag is 12
 * characters of base64url HMAC-SHA256 (72 bits) over the expiry and the JSON, keyed with the server's secret, and
 * the expiry is epoch seconds in base 36. A value that was made up, altered, or has no expiry fails the check, and
 * the press gets the expired-button answer.
 */
const DEFAULT_ACTION_TTL_SECONDS = 90 * 24 * 60 * 60;
const TAG_LENGTH = 12;

/** In-process key until start-up sets the configured one (tests and tools encode and decode in one process). */
let actionKey: Buffer = randomBytes(32);

/** Called once at start-up with the server secret (see src/config/action-secret.ts); every replica must share it. */
export function setActionValueSecret(secret: string): void {
  // A key of its own, so the secret it came from is never used for two purposes.
  actionKey = createHmac('sha256', secret).update('backcare action values v1').digest();
}

const sign = (signed: string) =>
  createHmac('sha256', actionKey).update(signed).digest().subarray(0, 9).toString('base64url');

export function encodeActionValue(
  payload: Record<string, unknown>,
  options: { ttlSeconds?: number; now?: Date } = {},
): string {
  const expiry =
    Math.floor((options.now ?? new Date()).getTime() / 1000) + (options.ttlSeconds ?? DEFAULT_ACTION_TTL_SECONDS);
  const signed = `${Math.max(0, expiry).toString(36)}${JSON.stringify(payload)}`;
  return `${sign(signed)}${signed}`;
}

const signedValue = /^([0-9a-z]{1,8})(\{[\s\S]*\})$/;
const payloadSchema = z.record(z.string(), z.unknown());

/** The payload, or undefined when it is not ours (unsigned, altered, no expiry) or has expired. */
export function decodeActionValue(raw: string, now: Date): Record<string, unknown> | undefined {
  const given = Buffer.from(raw.slice(0, TAG_LENGTH), 'utf8');
  const signed = raw.slice(TAG_LENGTH);
  const expected = Buffer.from(sign(signed), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const parts = signedValue.exec(signed);
  if (!parts) return undefined;
  if (Number.parseInt(parts[1]!, 36) * 1000 < now.getTime()) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(parts[2]!);
  } catch {
    return undefined;
  }
  const payload = payloadSchema.safeParse(json);
  return payload.success ? payload.data : undefined;
}
