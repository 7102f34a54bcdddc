/**
 * What the replicas bench concludes from the fake Slack's records (every Web API call with the process that made
 * it, every response_url answer) and the database. Definitions, as the README states them:
 * - A session's message is the chat.postMessage carrying its Stop button in the person's DM; its edits are the
 *   accepted chat.update calls on that channel and ts; its ending is what the person sees last:
 *   stopped: the Stop's answer (response_url, replacing the message) and no edit after it;
 *   ended with a message: the last edit is "interrupted" (taken over too late to carry on);
 *   taken over: the last edit is the "Well done" final and more than one process posted or edited it;
 *   completed: the same with one process throughout;
 *   lost: anything else (no message, a frame or the written-out version left on screen, Stop pressed but the
 *   session edited after its answer).
 * - Edited by two replicas at overlapping times: in arrival order, the processes that posted and edited a message
 *   form runs (A A B B); a process that edits again after another one started (A B A) is an overlap. A hand-over
 *   (A then B, A never again) is not.
 * - Stop to last edit: from sending the Stop to the later of its answer and the last chat.update on the message.
 * - Peak chat.update rate: the most chat.update calls (429s included: Slack counts them) with one workspace's
 *   token in any 60 s window, all processes together.
 */
import type { FakeCall, FakeSlack } from './fake-slack.js';

export interface SessionPlan {
  team: string;
  token: string;
  user: string;
  channel: string;
  /** Stop pressed: when it was sent, and the response_url id its answer comes back to. */
  stop?: { at: number; responseId: string; ackMs?: number };
}

export type Ending = 'completed' | 'stopped' | 'takenOver' | 'interrupted' | 'lost';

export interface SessionVerdict {
  ending: Ending;
  why?: string;
  overlap: boolean;
  stopToLastEditMs?: number;
  /** Where the Stop's time went, as the fake saw it (ms after the press). */
  stopTrace?: string;
}

const isUpdateOf = (post: FakeCall) => (c: FakeCall) =>
  c.method === 'chat.update' && !c.limited && c.args.channel === post.args.channel && c.args.ts === post.ts;

/** The session's message as posted: the first accepted post in its DM with a Stop button. */
export function sessionPost(fake: FakeSlack, channel: string): FakeCall | undefined {
  return fake.calls.find(
    (c) =>
      c.method === 'chat.postMessage' &&
      !c.limited &&
      c.ts &&
      c.args.channel === channel &&
      /guided\.stop/.test(c.args.blocks ?? ''),
  );
}

/** The signed value of the Stop button on a posted session message. */
export function stopValue(post: FakeCall): string | undefined {
  const blocks = JSON.parse(post.args.blocks ?? '[]') as { elements?: { action_id?: string; value?: string }[] }[];
  for (const block of blocks)
    for (const element of block.elements ?? []) if (element.action_id === 'guided.stop') return element.value;
  return undefined;
}

/** True when one of the message's processes edits again after another one had started (A … B … A). */
function overlaps(processes: readonly string[]): boolean {
  const finished = new Set<string>();
  let current: string | undefined;
  for (const p of processes) {
    if (p === current) continue;
    if (finished.has(p)) return true;
    if (current !== undefined) finished.add(current);
    current = p;
  }
  return false;
}

/** Processes stopped during the run: how and when (the signal's time, epoch ms). */
export type Departures = ReadonlyMap<string, { kind: string; at: number }>;

export function judgeSession(
  fake: FakeSlack,
  session: SessionPlan,
  departures: Departures = new Map(),
): SessionVerdict {
  const post = sessionPost(fake, session.channel);
  if (!post) return { ending: 'lost', why: 'no message posted', overlap: false };
  const updates = fake.calls.filter(isUpdateOf(post));
  const processes = [post, ...updates].map((c) => c.via ?? '?');
  const overlap = overlaps(processes);
  const last = updates.at(-1);
  if (session.stop) {
    const answer = fake.responses.find((r) => r.id === session.stop!.responseId);
    if (!answer) return { ending: 'lost', why: 'Stop pressed, no answer', overlap };
    const stopToLastEditMs = Math.max(answer.at, last?.at ?? 0) - session.stop.at;
    const after = (at: number | undefined) => (at === undefined ? '-' : `+${at - session.stop!.at}`);
    const lookup = fake.calls.find(
      (c) => c.method === 'users.info' && c.args.user === session.user && c.at >= session.stop!.at,
    );
    const holder = [post, ...updates].filter((c) => c.at <= session.stop!.at).at(-1)?.via ?? '?';
    const gone = departures.get(holder);
    const left = gone ? ` (${gone.kind} ${((session.stop.at - gone.at) / 1000).toFixed(1)} s before the Stop)` : '';
    const stopTrace = `last shown by ${holder}${left}; ack ${after(session.stop.at + (session.stop.ackMs ?? NaN))}, users.info ${after(lookup?.at)}, last edit ${after(last?.at)}, answer ${after(answer.at)} ms`;
    if (last && last.at > answer.at)
      return {
        ending: 'lost',
        why: `edited after its Stop answer (${last.args.text})`,
        overlap,
        stopToLastEditMs,
        stopTrace,
      };
    if (!/Stopped/.test(answer.body)) return { ending: 'lost', why: 'Stop answered without "Stopped"', overlap };
    return { ending: 'stopped', overlap, stopToLastEditMs, stopTrace };
  }
  if (!last) return { ending: 'lost', why: 'never edited after its first frame', overlap };
  if (/interrupted/.test(last.args.text ?? '')) return { ending: 'interrupted', overlap };
  if (/Well done/.test(last.args.text ?? ''))
    return { ending: new Set(processes).size > 1 ? 'takenOver' : 'completed', overlap };
  return { ending: 'lost', why: `left showing "${last.args.text}"`, overlap };
}

/** The most chat.update calls per workspace token in any 60 s window. */
export function peakUpdatesPerMinute(fake: FakeSlack, tokens: readonly string[]): number[] {
  return tokens.map((token) => {
    const times = fake.calls
      .filter((c) => c.method === 'chat.update' && c.token === token)
      .map((c) => c.at)
      .sort((a, b) => a - b);
    let peak = 0;
    for (let i = 0, j = 0; i < times.length; i += 1) {
      while (times[i]! - times[j]! >= 60_000) j += 1;
      peak = Math.max(peak, i - j + 1);
    }
    return peak;
  });
}

/**
 * Nudges from the fake's side: each accepted post carrying a delivery id is mapped to its slot (person and time)
 * through `slotOf`; a slot posted twice is a duplicate, an expected slot never posted is lost.
 */
export function countNudges(
  fake: FakeSlack,
  slotOf: ReadonlyMap<string, string>,
  expected: readonly string[],
): { posted: number; duplicated: number; lost: number } {
  const perSlot = new Map<string, number>();
  let posted = 0;
  for (const list of fake.posted.values())
    for (const p of list) {
      if (!p.deliveryId) continue;
      posted += 1;
      const key = slotOf.get(p.deliveryId) ?? `unknown:${p.deliveryId}`;
      perSlot.set(key, (perSlot.get(key) ?? 0) + 1);
    }
  let duplicated = 0;
  for (const n of perSlot.values()) duplicated += Math.max(0, n - 1);
  return { posted, duplicated, lost: expected.filter((key) => !perSlot.has(key)).length };
}

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
