import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Slack's Web API on loopback, strict where Slack is strict: `views.open` refuses a `trigger_id` older than
 * 3 seconds (`expired_trigger_id`), and each method answers 429 with `Retry-After` past its tier's rate
 * (per method per minute, as Slack's tiers are; `chat.postMessage` about one per second per channel).
 * Trigger ids are minted by the bench as `bench.<epoch ms>.<n>`, so the fake knows when the click happened.
 * Rates count per token, as Slack's do per workspace. A client whose base URL is `<origin>/r/<tag>/api/` is
 * recorded with `via: <tag>` (the replicas bench gives each process its own tag to see who made each call).
 */
export interface FakeSlack {
  /** Base URL for the Web API (pass as `slackApiUrl`), ending in `/api/`. */
  apiUrl: string;
  /** Base for `response_url`s: `<origin>/respond/<id>`. */
  origin: string;
  calls: FakeCall[];
  responses: { id: string; at: number; body: string }[];
  /** For each `views.open`: ms from the click (the trigger's time) to the call's arrival. */
  viewsOpenAfterMs: number[];
  /** Messages accepted by chat.postMessage, per channel, with the delivery id their metadata carried. */
  posted: Map<string, { ts: string; deliveryId: string | null; at: number }[]>;
  expiredTriggers: number;
  rateLimited: number;
  reset(): void;
  close(): Promise<void>;
}

export interface FakeCall {
  method: string;
  at: number;
  args: Record<string, string>;
  limited?: boolean;
  /** The bot token it was made with (Authorization header or `token` argument). */
  token?: string;
  /** The tag of the `/r/<tag>/api/` base URL it came through. */
  via?: string;
  /** chat.postMessage: the ts of the message it created. */
  ts?: string;
}

const TRIGGER_TTL_MS = 3000;

/** Calls per minute by method (Slack's tiers: 1 = 1+, 2 = 20+, 3 = 50+, 4 = 100+); unlisted methods: tier 3. */
const perMinute: Record<string, number> = {
  'auth.test': 1200,
  'users.info': 100,
  'users.profile.get': 100,
  'dnd.info': 50,
  'dnd.teamInfo': 20,
  'conversations.open': 50,
  'chat.update': 50,
  'chat.postEphemeral': 100,
  'views.open': 100,
  'views.update': 100,
  'views.publish': 100,
  'conversations.history': 50,
  'files.getUploadURLExternal': 100,
  'files.completeUploadExternal': 100,
};

export function mintTrigger(n: number, at = Date.now()): string {
  return `bench.${at}.${n}`;
}

function answerFor(method: string, args: Record<string, string>): Record<string, unknown> {
  switch (method) {
    case 'auth.test':
      return {
        ok: true,
        url: 'https://bench.slack.com/',
        team: 'Bench',
        user: 'backcare',
        team_id: args.team ?? 'T0BENCH',
        user_id: 'U0BOT',
        bot_id: 'B0BOT',
      };
    case 'users.info':
      return {
        ok: true,
        user: {
          id: args.user,
          team_id: 'T0BENCH',
          name: args.user,
          real_name: `Person ${args.user}`,
          tz: 'Europe/London',
          tz_offset: 0,
          is_admin: true,
          is_owner: false,
          is_bot: false,
          deleted: false,
          profile: { display_name: args.user },
        },
      };
    case 'users.profile.get':
      return { ok: true, profile: { status_text: '', status_emoji: '' } };
    case 'dnd.info':
      return { ok: true, dnd_enabled: false, snooze_enabled: false };
    case 'dnd.teamInfo':
      return {
        ok: true,
        users: Object.fromEntries(
          String(args.users ?? '')
            .split(',')
            .filter(Boolean)
            .map((u) => [u, { dnd_enabled: false }]),
        ),
      };
    case 'conversations.open':
      return { ok: true, channel: { id: `D${String(args.users ?? 'X').slice(1)}` } };
    case 'chat.update':
      return { ok: true, channel: args.channel, ts: args.ts, message: { text: args.text ?? '' } };
    case 'views.open':
    case 'views.update':
    case 'views.publish':
      return { ok: true, view: { id: `V${Date.now()}`, hash: 'h' } };
    case 'conversations.history':
      return { ok: true, messages: [], has_more: false };
    default:
      return { ok: true };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseArgs(raw: string, contentType: string | undefined): Record<string, string> {
  if (contentType?.includes('json')) {
    const parsed = JSON.parse(raw || '{}') as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

export interface FakeSlackOptions {
  /** Workspace-wide chat.postMessage rate (messages a second) past which it answers 429; default unlimited. */
  postsPerSecond?: number;
  /** Member ids `users.list` pages through (200 a page); default none. */
  members?: readonly string[];
}

/** `conversations.history`: the channel's messages in the window, newest first, with their metadata. */
function historyOf(
  messages: { ts: string; deliveryId: string | null }[],
  args: Record<string, string>,
): Record<string, unknown> {
  const oldest = Number(args.oldest ?? 0);
  const latest = Number(args.latest ?? Infinity);
  const limit = Number(args.limit ?? 100);
  const inWindow = messages.filter((m) => Number(m.ts) >= oldest && Number(m.ts) <= latest).reverse();
  return {
    ok: true,
    messages: inWindow.slice(0, limit).map((m) => ({
      type: 'message',
      ts: m.ts,
      ...(m.deliveryId
        ? { metadata: { event_type: 'backcare_nudge', event_payload: { delivery_id: m.deliveryId } } }
        : {}),
    })),
    has_more: inWindow.length > limit,
  };
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  let postWindow = { start: 0, count: 0 };
  let lastTs = 0;
  const windows = new Map<string, { start: number; count: number }>();
  const state: FakeSlack = {
    apiUrl: '',
    origin: '',
    calls: [],
    responses: [],
    viewsOpenAfterMs: [],
    posted: new Map(),
    expiredTriggers: 0,
    rateLimited: 0,
    reset() {
      state.calls.length = 0;
      state.responses.length = 0;
      state.viewsOpenAfterMs.length = 0;
      state.posted.clear();
      state.expiredTriggers = 0;
      state.rateLimited = 0;
      windows.clear();
    },
    close: async () => undefined,
  };

  /** True when this call is over its method's rate (per token; chat.postMessage: per channel per second). */
  function overRate(method: string, args: Record<string, string>, now: number, token: string): number | null {
    const perChannel = method === 'chat.postMessage';
    const key = perChannel ? `${method}:${args.channel ?? ''}` : `${token}:${method}`;
    const span = perChannel ? 1000 : 60_000;
    const limit = perChannel ? 3 : (perMinute[method] ?? 50);
    if (perChannel && options.postsPerSecond) {
      if (now - postWindow.start >= 1000) postWindow = { start: now, count: 0 };
      if (postWindow.count >= options.postsPerSecond)
        return Math.max(1, Math.ceil((postWindow.start + 1000 - now) / 1000));
      postWindow.count += 1;
    }
    const window = windows.get(key);
    if (!window || now - window.start >= span) {
      windows.set(key, { start: now, count: 1 });
      return null;
    }
    if (window.count >= limit) return Math.ceil((window.start + span - now) / 1000);
    window.count += 1;
    return null;
  }

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const now = Date.now();
      const raw = await readBody(req);
      const url = req.url ?? '';
      // files.uploadV2: the file body goes to the upload URL handed out by files.getUploadURLExternal.
      if (url.startsWith('/upload/')) return send(res, 200, { ok: true });
      if (url.startsWith('/respond/')) {
        state.responses.push({ id: url.slice('/respond/'.length), at: now, body: raw });
        return send(res, 200, { ok: true });
      }
      const route = /^(?:\/r\/([\w-]+))?\/api\/([\w.]+)/.exec(url);
      if (!route) return send(res, 404, { ok: false, error: 'unknown_method' });
      const method = route[2]!;
      const args = parseArgs(raw, req.headers['content-type']);
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? args.token ?? '';
      const call: FakeCall = { method, at: now, args, token, ...(route[1] ? { via: route[1] } : {}) };
      state.calls.push(call);
      const retryAfter = overRate(method, args, now, token);
      if (retryAfter !== null) {
        call.limited = true;
        state.rateLimited += 1;
        return send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });
      }
      if (method === 'views.open') {
        const clickedAt = Number(String(args.trigger_id ?? '').split('.')[1]);
        if (Number.isFinite(clickedAt)) state.viewsOpenAfterMs.push(now - clickedAt);
        if (!Number.isFinite(clickedAt) || now - clickedAt > TRIGGER_TTL_MS) {
          state.expiredTriggers += 1;
          return send(res, 200, { ok: false, error: 'expired_trigger_id' });
        }
      }
      if (method === 'files.getUploadURLExternal') {
        const id = `F${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`.toUpperCase();
        return send(res, 200, { ok: true, upload_url: `${state.origin}/upload/${id}`, file_id: id });
      }
      if (method === 'files.completeUploadExternal') {
        const files = JSON.parse(args.files ?? '[]') as { id: string; title?: string }[];
        return send(res, 200, { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? '' })) });
      }
      if (method === 'users.list') {
        const members = options.members ?? [];
        const from = Number(args.cursor || 0);
        const limit = Math.min(200, Number(args.limit ?? 200));
        const next = from + limit < members.length ? String(from + limit) : '';
        return send(res, 200, {
          ok: true,
          members: members
            .slice(from, from + limit)
            .map((id) => ({ id, profile: { status_text: '', status_emoji: '' } })),
          response_metadata: { next_cursor: next },
        });
      }
      if (method === 'conversations.history')
        return send(res, 200, historyOf(state.posted.get(args.channel ?? '') ?? [], args));
      if (method === 'chat.postMessage') {
        // Unique, increasing ts (Slack's message id); the metadata's delivery id is what the reconcile looks for.
        lastTs = Math.max(lastTs + 1, now * 1000);
        const ts = (lastTs / 1e6).toFixed(6);
        let deliveryId: string | null = null;
        try {
          const metadata = JSON.parse(args.metadata ?? 'null') as { event_payload?: { delivery_id?: unknown } } | null;
          deliveryId = metadata?.event_payload?.delivery_id != null ? String(metadata.event_payload.delivery_id) : null;
        } catch {
          // no metadata
        }
        const channel = args.channel ?? '';
        const list = state.posted.get(channel) ?? [];
        list.push({ ts, deliveryId, at: now });
        state.posted.set(channel, list);
        call.ts = ts;
        return send(res, 200, { ok: true, channel, ts, message: { text: args.text ?? '' } });
      }
      send(res, 200, answerFor(method, args));
    })().catch(() => {
      if (!res.headersSent) send(res, 500, { ok: false, error: 'fatal_error' });
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.origin = `http://127.0.0.1:${port}`;
  state.apiUrl = `${state.origin}/api/`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
