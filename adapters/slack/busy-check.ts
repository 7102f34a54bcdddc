import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { Logger } from '../../src/config/logger.js';
import { classifySlackError } from './slack-api.js';

/**
 * Is a person busy on Slack right now (do-not-disturb, a huddle, a meeting status)? Asked before every nudge, so
 * it is batched: when many people are due together, `dnd.teamInfo` answers for up to 50 of them in one call,
 * and profiles come from a short-lived cache that `users.list` (200 people a page) fills when many are due at
 * once; `users.profile.get` is used one by one only for a handful. A nudge then costs one Web API call (the post)
 * plus a share of these batched checks.
 *
 * Slack returns `snooze_*` ("notifications paused by hand") only for the token's own user, so with a bot token a
 * snooze cannot be seen; `dnd.teamInfo` does not carry it at all. Lookups that fail count as "not busy": a
 * Slack hiccup must not silently stop someone's nudges.
 */

/** Slack's own limit for `dnd.teamInfo`'s `users` list. */
const DND_BATCH_MAX = 50;
const USERS_LIST_PAGE = 200;
/** Past this many profiles wanted at once, paging through `users.list` is cheaper than one call each. */
const LIST_THRESHOLD = 20;
const MAX_LIST_PAGES = 100;
const DEFAULT_WINDOW_MS = 25;
/** Statuses change by the hour (calendar sync); a nudge checked within two minutes of another sees the same. */
const DEFAULT_PROFILE_TTL_MS = 2 * 60_000;
const MAX_CACHED_PROFILES = 50_000;

const dndEntrySchema = z.looseObject({
  dnd_enabled: z.boolean().optional(),
  next_dnd_start_ts: z.number().optional(),
  next_dnd_end_ts: z.number().optional(),
});
const dndTeamSchema = z.looseObject({ users: z.record(z.string(), dndEntrySchema).default({}) });

const profileSchema = z.looseObject({
  status_text: z.string().optional(),
  status_emoji: z.string().optional(),
  status_expiration: z.number().optional(),
  huddle_state: z.string().optional(),
});
export type SlackProfile = z.infer<typeof profileSchema>;
const profileAnswerSchema = z.looseObject({ profile: profileSchema.optional() });
const usersListSchema = z.looseObject({
  members: z.array(z.looseObject({ id: z.string(), profile: profileSchema.optional() })).default([]),
  response_metadata: z.looseObject({ next_cursor: z.string().optional() }).optional(),
});

type DndEntry = z.infer<typeof dndEntrySchema>;

/**
 * Collects keys asked for within `windowMs` (or until `max` are waiting) and answers them with one `run`.
 * One batcher per workspace token: a batch never mixes workspaces.
 */
function createBatcher<V>(options: {
  max: number;
  windowMs: number;
  run: (keys: string[]) => Promise<Map<string, V>>;
}) {
  let pending = new Map<string, ((value: V | undefined) => void)[]>();
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = new Map();
    const keys = [...batch.keys()];
    if (keys.length === 0) return;
    options.run(keys).then(
      (found) => {
        for (const [key, waiters] of batch) for (const resolve of waiters) resolve(found.get(key));
      },
      () => {
        for (const waiters of batch.values()) for (const resolve of waiters) resolve(undefined);
      },
    );
  }

  return {
    get(key: string): Promise<V | undefined> {
      return new Promise((resolve) => {
        const waiters = pending.get(key);
        if (waiters) waiters.push(resolve);
        else pending.set(key, [resolve]);
        if (pending.size >= options.max) flush();
        else timer ??= setTimeout(flush, options.windowMs);
      });
    },
    get idle(): boolean {
      return pending.size === 0;
    },
  };
}

export interface BusyCheckOptions {
  client: (token: string) => WebClient;
  log: Logger;
  now: () => Date;
  windowMs?: number;
  profileTtlMs?: number;
}

export interface BusyLookups {
  /** The person's do-not-disturb state, or undefined when Slack could not say. */
  dnd(token: string, userId: string): Promise<DndEntry | undefined>;
  /** The person's profile status fields, or undefined when Slack could not say. */
  profile(token: string, userId: string): Promise<SlackProfile | undefined>;
}

export function createBusyLookups(options: BusyCheckOptions): BusyLookups {
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const ttlMs = options.profileTtlMs ?? DEFAULT_PROFILE_TTL_MS;
  const dndBatchers = new Map<string, ReturnType<typeof createBatcher<DndEntry>>>();
  const profileBatchers = new Map<string, ReturnType<typeof createBatcher<SlackProfile>>>();
  // Insertion order doubles as age order: the oldest entries are dropped first when the cache is full.
  const profiles = new Map<string, { profile: SlackProfile; at: number }>();

  function remember(token: string, userId: string, profile: SlackProfile): void {
    const key = `${token}\u0000${userId}`;
    profiles.delete(key);
    profiles.set(key, { profile, at: options.now().getTime() });
    while (profiles.size > MAX_CACHED_PROFILES) profiles.delete(profiles.keys().next().value!);
  }

  function failed(event: string, error: unknown): void {
    options.log.warn({ event, failure: classifySlackError(error) }, `${event}: treating as available`);
  }

  async function dndOf(token: string, userIds: string[]): Promise<Map<string, DndEntry>> {
    try {
      const answer = dndTeamSchema.parse(await options.client(token).dnd.teamInfo({ users: userIds.join(',') }));
      return new Map(Object.entries(answer.users));
    } catch (error) {
      failed('slack.dnd_failed', error);
      return new Map();
    }
  }

  async function profilesOf(token: string, userIds: string[]): Promise<Map<string, SlackProfile>> {
    const found = new Map<string, SlackProfile>();
    const client = options.client(token);
    if (userIds.length >= LIST_THRESHOLD) {
      const wanted = new Set(userIds);
      let cursor: string | undefined;
      try {
        for (let page = 0; page < MAX_LIST_PAGES && wanted.size > 0; page += 1) {
          const list = usersListSchema.parse(
            await client.users.list({ limit: USERS_LIST_PAGE, ...(cursor ? { cursor } : {}) }),
          );
          for (const member of list.members) {
            if (!member.profile) continue;
            remember(token, member.id, member.profile);
            if (wanted.delete(member.id)) found.set(member.id, member.profile);
          }
          cursor = list.response_metadata?.next_cursor || undefined;
          if (!cursor) break;
        }
      } catch (error) {
        failed('slack.users_list_failed', error);
      }
      return found;
    }
    await Promise.all(
      userIds.map(async (userId) => {
        try {
          const { profile } = profileAnswerSchema.parse(await client.users.profile.get({ user: userId }));
          if (!profile) return;
          remember(token, userId, profile);
          found.set(userId, profile);
        } catch (error) {
          failed('slack.profile_failed', error);
        }
      }),
    );
    return found;
  }

  /** One batcher per token, dropped again once idle so departed workspaces do not pile up. */
  function batcherFor<V>(
    batchers: Map<string, ReturnType<typeof createBatcher<V>>>,
    token: string,
    max: number,
    run: (token: string, keys: string[]) => Promise<Map<string, V>>,
  ) {
    for (const [key, batcher] of batchers) if (key !== token && batcher.idle) batchers.delete(key);
    let batcher = batchers.get(token);
    if (!batcher) {
      batcher = createBatcher<V>({ max, windowMs, run: (keys) => run(token, keys) });
      batchers.set(token, batcher);
    }
    return batcher;
  }

  return {
    dnd: (token, userId) => batcherFor(dndBatchers, token, DND_BATCH_MAX, dndOf).get(userId),
    async profile(token, userId) {
      const cached = profiles.get(`${token}\u0000${userId}`);
      if (cached && options.now().getTime() - cached.at < ttlMs) return cached.profile;
      return batcherFor(profileBatchers, token, USERS_LIST_PAGE, profilesOf).get(userId);
    },
  };
}
