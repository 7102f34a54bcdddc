import { z } from 'zod';
import { limits, newStorageKey, type ActionRef, type ActionRefStore } from '../../src/core/ports.js';

/**
 * Component custom ids (≤ 100 characters) carry what a press needs back:
 * - `b|<actionId>|<ctx>|<value>`: a core button; `s|<actionId>|<ctx>`: a core select (the value is the option's).
 * - `r|<key>`: a core action too long for a custom id, kept in the database (see ActionRefs).
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

/** Who a message with long actions was for (the actor's workspace and user), so `forget-me` deletes its refs. */
export type RefOwner = NonNullable<ActionRef['owner']>;

const storedContextSchema = z.object({
  guildId: z.string().regex(snowflake).optional(),
  deliveryId: z.number().int().nonnegative().optional(),
});

/** Keeps references in this process only (tests, and tools without a database): bounded, expiring. */
export function memoryActionRefStore(
  ttlMs = 24 * 60 * 60 * 1000,
  max = 10_000,
  now: () => number = Date.now,
): ActionRefStore {
  const entries = new Map<string, { ref: ActionRef; expires: number }>();
  return {
    async save(refs) {
      for (const ref of refs) {
        if (entries.size >= max) {
          const oldest = entries.keys().next().value;
          if (oldest !== undefined) entries.delete(oldest);
        }
        entries.set(ref.key, { ref, expires: now() + ttlMs });
      }
    },
    async load(key) {
      const entry = entries.get(key);
      if (!entry || entry.expires < now()) return null;
      return entry.ref;
    },
  };
}

/**
 * Core actions whose value does not fit a custom id wait in the core's reference store (the database) under a
 * short random key, so the press works on any replica and after a restart. `put` is synchronous (rendering is):
 * keys are made here and the rows written in one statement by `flush`, which every sender awaits before the
 * message leaves; a flush on the next turn of the event loop is the safety net for a caller that forgets.
 */
export class ActionRefs {
  private buffer: ActionRef[] = [];
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly store: ActionRefStore = memoryActionRefStore(),
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  put(action: StoredAction, owner?: RefOwner): string {
    const key = newStorageKey();
    const { guildId, deliveryId } = action.ctx;
    this.buffer.push({
      key,
      actionId: action.actionId,
      value: action.value,
      context: { ...(guildId ? { guildId } : {}), ...(deliveryId !== undefined ? { deliveryId } : {}) },
      ...(owner ? { owner } : {}),
    });
    if (this.buffer.length === 1) setImmediate(() => void this.flush().catch(this.onError));
    return key;
  }

  /** Resolves once every reference put so far is stored; rejects when storing failed (the message must not go). */
  async flush(): Promise<void> {
    const batch = this.buffer.splice(0);
    if (batch.length > 0) {
      const write = this.store.save(batch);
      this.writing.add(write);
      void write.then(
        () => this.writing.delete(write),
        () => this.writing.delete(write),
      );
    }
    await Promise.all([...this.writing]);
  }

  async get(key: string): Promise<StoredAction | null> {
    // A press can only follow a sent message, but a reference put on this replica may still be on its way.
    await this.flush().catch(() => undefined);
    const stored = await this.store.load(key);
    const ctx = storedContextSchema.safeParse(stored?.context);
    if (!stored || !ctx.success) return null;
    return { actionId: stored.actionId, value: stored.value, ctx: ctx.data };
  }
}
