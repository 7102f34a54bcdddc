import type { CoreDeps } from './command.js';
import { storedPreferences } from './people.js';
import { caution, type Reply } from './reply.js';
import type { Actor } from './request.js';

/**
 * Someone whose nudges are paused for a reason they can fix (a platform's DMs closed) is told how with every
 * personal reply until they do. `notes` maps such a pause reason to the fix, in the platform's words.
 */
export async function withPauseNote(
  deps: Pick<CoreDeps, 'db'>,
  actor: Actor,
  result: Reply,
  notes: Readonly<Record<string, string>>,
): Promise<Reply> {
  if (result.form || result.sequence || result.visibility === 'public') return result;
  const reason = (await storedPreferences(deps, actor))?.pausedReason;
  const note = reason && Object.hasOwn(notes, reason) ? notes[reason] : undefined;
  if (!note) return result;
  return { ...result, blocks: [...result.blocks, caution(note)] };
}
