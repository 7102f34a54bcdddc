import { randomBytes } from 'node:crypto';
import { and, eq, gt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { CoreDeps } from './command.js';
import type { Form, FormField } from './reply.js';
import { formDrafts } from '../db/schema.js';

/** The answers so far: a text or one choice per field, or the ticked values of a multi-select. */
export type FormValues = Record<string, string | string[]>;

/** Who a draft belongs to: the actor's platform, workspace and platform user id. */
export interface DraftOwner {
  platform: string;
  workspaceExternalId: string;
  userId: string;
}

/** Who may continue a draft: the same person on the same platform, wherever they press (a DM or a server). */
type DraftPerson = Pick<DraftOwner, 'platform' | 'userId'>;

export interface FormDraft {
  id: string;
  form: Form;
  values: FormValues;
  owner: DraftOwner;
  /** After a rejected submit: only these fields are asked again, with these messages. */
  only?: string[];
  errors?: Record<string, string>;
  /** The adapter's step (Discord: which page or modal). */
  position: number;
  expiresAt: Date;
}

export interface FormDraftStore {
  create(draft: Omit<FormDraft, 'id' | 'expiresAt'>): Promise<FormDraft>;
  /** The draft, or null when it is unknown, expired or someone else's (only the owner may continue it). */
  get(id: string, person: DraftPerson): Promise<FormDraft | null>;
  /**
   * Merges answers (only the fields given, so two selects answered at once on different replicas both stick) and
   * moves the step; the updated draft, or null as for `get`.
   */
  update(
    id: string,
    person: DraftPerson,
    change: { values?: FormValues; position?: number },
  ): Promise<FormDraft | null>;
  /** True when this call removed it: of two presses of the last step, on any replicas, one submits. */
  remove(id: string): Promise<boolean>;
}

/** A short unguessable key (80 random bits, base 36, at most 16 characters) for drafts and action references. */
export function newStorageKey(): string {
  return BigInt(`0x${randomBytes(10).toString('hex')}`).toString(36);
}

const option = z.object({ label: z.string(), value: z.string() });
const common = { id: z.string(), label: z.string(), hint: z.string().optional(), optional: z.boolean().optional() };
const fieldSchema: z.ZodType<FormField> = z.discriminatedUnion('kind', [
  z.object({
    ...common,
    kind: z.literal('text'),
    initial: z.string().optional(),
    maxLength: z.number().optional(),
    multiline: z.boolean().optional(),
  }),
  z.object({ ...common, kind: z.literal('time'), initial: z.string().optional() }),
  z.object({ ...common, kind: z.literal('channel'), initial: z.string().optional() }),
  z.object({ ...common, kind: z.literal('timezone'), initial: z.string().optional() }),
  z.object({
    ...common,
    kind: z.literal('number'),
    initial: z.string().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    decimals: z.boolean().optional(),
  }),
  z.object({ ...common, kind: z.literal('select'), options: z.array(option), initial: z.string().optional() }),
  z.object({
    ...common,
    kind: z.literal('multiselect'),
    options: z.array(option),
    initial: z.array(z.string()).optional(),
    submitNowOn: z.array(z.string()).optional(),
  }),
]);
const formSchema: z.ZodType<Form> = z.object({
  formId: z.string(),
  title: z.string(),
  submitLabel: z.string(),
  fields: z.array(fieldSchema),
  state: z.string().optional(),
  sensitive: z.boolean().optional(),
});
const valuesSchema = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

/** A stored row, checked field by field: a row written by an older build that no longer fits reads as expired. */
const rowSchema = z.object({
  id: z.string(),
  platform: z.string(),
  workspaceExternalId: z.string(),
  platformUserId: z.string(),
  form: formSchema,
  answers: valuesSchema,
  onlyFields: z.array(z.string()).nullable(),
  errors: z.record(z.string(), z.string()).nullable(),
  position: z.number().int().min(0),
  expiresAt: z.date(),
});

function fromRow(row: unknown): FormDraft | null {
  const parsed = rowSchema.safeParse(row);
  if (!parsed.success) return null;
  const r = parsed.data;
  return {
    id: r.id,
    form: r.form,
    values: r.answers,
    owner: { platform: r.platform, workspaceExternalId: r.workspaceExternalId, userId: r.platformUserId },
    ...(r.onlyFields ? { only: r.onlyFields } : {}),
    ...(r.errors ? { errors: r.errors } : {}),
    position: r.position,
    expiresAt: r.expiresAt,
  };
}

const isOwner = (owner: DraftOwner, person: DraftPerson) =>
  owner.platform === person.platform && owner.userId === person.userId;

/**
 * Drafts of forms being filled in step by step, in the database so any replica (or the process after a restart)
 * continues them. An hour is long enough for a modal left open; the retention job deletes expired rows and
 * `forget-me` deletes a person's at once. A sensitive form (health answers) is kept in this process's memory
 * instead and never written: it does not survive a restart, by design.
 */
export function createFormDraftStore(deps: Pick<CoreDeps, 'db' | 'now'>, ttlMs = 60 * 60 * 1000): FormDraftStore {
  const { db } = deps;
  const inMemory = new Map<string, FormDraft>();
  const live = (d: FormDraft | undefined) => (d && d.expiresAt > deps.now() ? d : undefined);
  const continuable = (id: string, person: DraftPerson) =>
    and(
      eq(formDrafts.id, id),
      eq(formDrafts.platform, person.platform),
      eq(formDrafts.platformUserId, person.userId),
      gt(formDrafts.expiresAt, deps.now()),
    );

  async function get(id: string, person: DraftPerson): Promise<FormDraft | null> {
    const kept = live(inMemory.get(id));
    if (kept) return isOwner(kept.owner, person) ? kept : null;
    const [row] = await db.select().from(formDrafts).where(continuable(id, person));
    return row ? fromRow(row) : null;
  }

  return {
    async create(input) {
      const draft: FormDraft = { ...input, id: newStorageKey(), expiresAt: new Date(deps.now().getTime() + ttlMs) };
      if (input.form.sensitive) {
        for (const [id, old] of inMemory) if (!live(old)) inMemory.delete(id);
        inMemory.set(draft.id, draft);
        return draft;
      }
      await db.insert(formDrafts).values({
        id: draft.id,
        platform: draft.owner.platform,
        workspaceExternalId: draft.owner.workspaceExternalId,
        platformUserId: draft.owner.userId,
        form: { ...draft.form },
        answers: draft.values,
        onlyFields: draft.only ?? null,
        errors: draft.errors ?? null,
        position: draft.position,
        expiresAt: draft.expiresAt,
      });
      return draft;
    },

    get,

    async update(id, person, change) {
      const kept = live(inMemory.get(id));
      if (kept) {
        if (!isOwner(kept.owner, person)) return null;
        Object.assign(kept.values, change.values ?? {});
        if (change.position !== undefined) kept.position = change.position;
        return kept;
      }
      if (!change.values && change.position === undefined) return get(id, person);
      // jsonb `||` merges in the statement itself: answers given at the same moment never overwrite each other.
      const [row] = await db
        .update(formDrafts)
        .set({
          ...(change.values ? { answers: sql`${formDrafts.answers} || ${JSON.stringify(change.values)}::jsonb` } : {}),
          ...(change.position !== undefined ? { position: change.position } : {}),
        })
        .where(continuable(id, person))
        .returning();
      return row ? fromRow(row) : null;
    },

    async remove(id) {
      if (inMemory.delete(id)) return true;
      const gone = await db.delete(formDrafts).where(eq(formDrafts.id, id)).returning({ id: formDrafts.id });
      return gone.length > 0;
    },
  };
}
