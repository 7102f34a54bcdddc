import { z } from 'zod';
import { limits } from '../../src/core/ports.js';

/**
 * Component custom ids (≤ 100 characters) carry what a press needs back:
 * - `b|<actionId>|<ctx>|<value>`: a core button; `s|<actionId>|<ctx>`: a core select (the value is the option's).
 * - `r|<key>`: a core action too long for a custom id, kept in memory (see ActionRefs).
 * - `f|<draft>|<step>`: a step of a form being filled in; `m|<draft>|<chunk>`: that form's modal.
 * `ctx` is empty in a server (the interaction says which guild) and, in DMs, names the guild the message is
 * about (base 36) plus, for nudges, the delivery id: `<guild36>~<delivery36>`.
 */
export type CustomId =
  | { kind: 'button'; actionId: string; ctx: MessageContext; value: string }
  | { kind: 'select'; actionId: string; ctx: MessageContext }
  | { kind: 'ref'; key: string }
  | { kind: 'form'; draft: string; step: string }
  | { kind: 'modal'; draft: string; chunk: number };

export interface MessageContext {
  guildId?: string;
  deliveryId?: number;
}

const snowflake = /^\d{15,21}$/;

function encodeContext(ctx: MessageContext): string {
  if (!ctx.guildId) return '';
  const guild = BigInt(ctx.guildId).toString(36);
  return ctx.deliveryId === undefined ? guild : `${guild}~${ctx.deliveryId.toString(36)}`;
}

const contextSchema = z
  .string()
  .max(40)
  .regex(/^([0-9a-z]{1,16}(~[0-9a-z]{1,12})?)?$/)
  .transform((raw): MessageContext => {
    if (raw === '') return {};
    const [guild, delivery] = raw.split('~') as [string, string | undefined];
    let guildId = 0n;
    for (const digit of guild) guildId = guildId * 36n + BigInt(parseInt(digit, 36));
    const id = guildId.toString();
    return {
      ...(snowflake.test(id) ? { guildId: id } : {}),
      ...(delivery ? { deliveryId: parseInt(delivery, 36) } : {}),
    };
  });

export function encodeCustomId(id: CustomId): string {
  switch (id.kind) {
    case 'button':
      return `b|${id.actionId}|${encodeContext(id.ctx)}|${id.value}`;
    case 'select':
      return `s|${id.actionId}|${encodeContext(id.ctx)}`;
    case 'ref':
      return `r|${id.key}`;
    case 'form':
      return `f|${id.draft}|${id.step}`;
    case 'modal':
      return `m|${id.draft}|${id.chunk}`;
  }
}

export const fitsCustomId = (value: string) => value.length <= limits.discordCustomId;

const actionIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^|]+$/);

/** Parses a custom id coming back from Discord (which anyone can forge): null when it is not one of ours. */
export function decodeCustomId(raw: string): CustomId | null {
  if (!fitsCustomId(raw)) return null;
  const [kind, ...rest] = raw.split('|');
  const tail = rest.join('|');
  switch (kind) {
    case 'b': {
      const [actionId, ctx, ...value] = rest;
      const a = actionIdSchema.safeParse(actionId);
      const c = contextSchema.safeParse(ctx ?? '');
      if (!a.success || !c.success || value.length === 0) return null;
      return { kind: 'button', actionId: a.data, ctx: c.data, value: value.join('|') };
    }
    case 's': {
      const [actionId, ctx, ...extra] = rest;
      const a = actionIdSchema.safeParse(actionId);
      const c = contextSchema.safeParse(ctx ?? '');
      if (!a.success || !c.success || extra.length > 0) return null;
      return { kind: 'select', actionId: a.data, ctx: c.data };
    }
    case 'r':
      return /^[0-9a-z]{1,20}$/.test(tail) ? { kind: 'ref', key: tail } : null;
    case 'f': {
      const [draft, step] = rest;
      return draft && step && /^[0-9a-z]{1,20}$/.test(draft) && /^[0-9a-z<>x]{1,10}$/.test(step)
        ? { kind: 'form', draft, step }
        : null;
    }
    case 'm': {
      const [draft, chunk] = rest;
      return draft && /^[0-9a-z]{1,20}$/.test(draft) && chunk && /^\d{1,2}$/.test(chunk)
        ? { kind: 'modal', draft, chunk: Number(chunk) }
        : null;
    }
    default:
      return null;
  }
}

export interface StoredAction {
  actionId: string;
  value: string;
  ctx: MessageContext;
}

/**
 * Core actions whose value does not fit a custom id wait here under a short key. In memory on purpose:
 * after a restart such a button answers "expired", like any other stale button.
 */
export class ActionRefs {
  private readonly entries = new Map<string, { action: StoredAction; expires: number }>();
  private counter = 0;

  constructor(
    private readonly ttlMs = 24 * 60 * 60 * 1000,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  put(action: StoredAction): string {
    const key = `${this.now().toString(36)}${(this.counter++).toString(36)}`;
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { action, expires: this.now() + this.ttlMs });
    return key;
  }

  get(key: string): StoredAction | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expires < this.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.action;
  }
}
