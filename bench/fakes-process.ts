/**
 * The acks bench's stand-ins for what is remote in production (Slack's Web API, a far-away database) in processes
 * of their own. In the bench's own process, every `views.open` or `chat.postMessage` the app made, and every
 * database round trip the proxy held, ran on the event loop that timestamps the acks: the busier Backcare was
 * after its acks, the later the bench read them. Bare Bolt makes no such calls, so that error fell on one side only.
 *
 * Run as a child (`fork`) with one argument: `fake-slack`, or `delay-proxy <host> <port> <ms>`. It sends
 * `{ ready, ... }` once listening, then answers `{ id, ... }` to `{ id, op }` messages over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDelayProxy } from './delay-proxy.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';

/** What the acks bench reads of the fake Slack after a scenario (calls kept to method and whether it was limited). */
export interface FakeSlackSnapshot {
  /** `channel`: the channel argument of chat.postMessage (a DM is `D` + the person's id without its `U`). */
  calls: { method: string; limited: boolean; channel?: string }[];
  responses: number;
  viewsOpenAfterMs: number[];
  expiredTriggers: number;
}

export interface RemoteFakeSlack {
  apiUrl: string;
  origin: string;
  reset(): Promise<void>;
  /** Calls plus responses seen so far: cheap enough to poll while waiting for the app to go quiet. */
  seen(): Promise<number>;
  snapshot(): Promise<FakeSlackSnapshot>;
  close(): Promise<void>;
}

type Reply = { id: number } & Record<string, unknown>;

function child(
  args: string[],
): Promise<{ proc: ChildProcess; ready: Record<string, unknown>; ask: (op: string) => Promise<Reply> }> {
  // Inherits the bench's execArgv (tsx's loader), so the child runs this very TypeScript file.
  const proc = fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let next = 0;
  const waiting = new Map<number, (reply: Reply) => void>();
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`bench fake ${args[0]} exited ${code} before it was ready`)));
    proc.on('message', (message: Record<string, unknown>) => {
      if (message.ready) {
        resolve({
          proc,
          ready: message,
          ask: (op) =>
            new Promise<Reply>((answer) => {
              next += 1;
              waiting.set(next, answer);
              proc.send({ id: next, op });
            }),
        });
        return;
      }
      const id = Number(message.id);
      waiting.get(id)?.(message as Reply);
      waiting.delete(id);
    });
  });
}

const stop = (proc: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });

export async function startRemoteFakeSlack(): Promise<RemoteFakeSlack> {
  const { proc, ready, ask } = await child(['fake-slack']);
  return {
    apiUrl: String(ready.apiUrl),
    origin: String(ready.origin),
    reset: async () => {
      await ask('reset');
    },
    seen: async () => Number((await ask('seen')).seen),
    snapshot: async () => (await ask('snapshot')).snapshot as FakeSlackSnapshot,
    close: () => stop(proc),
  };
}

export async function startRemoteDelayProxy(
  target: { host: string; port: number },
  delayMs: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const { proc, ready } = await child(['delay-proxy', target.host, String(target.port), String(delayMs)]);
  return { port: Number(ready.port), close: () => stop(proc) };
}

function snapshotOf(fake: FakeSlack): FakeSlackSnapshot {
  return {
    calls: fake.calls.map((c) => ({
      method: c.method,
      limited: Boolean(c.limited),
      ...(c.method === 'chat.postMessage' && c.args.channel ? { channel: c.args.channel } : {}),
    })),
    responses: fake.responses.length,
    viewsOpenAfterMs: [...fake.viewsOpenAfterMs],
    expiredTriggers: fake.expiredTriggers,
  };
}

async function serve(role: string, args: string[]): Promise<void> {
  const send = (message: Record<string, unknown>) => process.send?.(message);
  if (role === 'fake-slack') {
    const fake = await startFakeSlack();
    process.on('message', (message: { id: number; op: string }) => {
      if (message.op === 'reset') fake.reset();
      if (message.op === 'seen') send({ id: message.id, seen: fake.calls.length + fake.responses.length });
      else send({ id: message.id, ...(message.op === 'snapshot' ? { snapshot: snapshotOf(fake) } : {}) });
    });
    process.once('SIGTERM', () => void fake.close().then(() => process.exit(0)));
    send({ ready: true, apiUrl: fake.apiUrl, origin: fake.origin });
  } else if (role === 'delay-proxy') {
    const [host, port, delayMs] = args;
    const proxy = await startDelayProxy({ host: host!, port: Number(port) }, Number(delayMs));
    process.once('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
    send({ ready: true, port: proxy.port });
  }
  // The bench going away (even killed) closes the IPC channel: go with it.
  process.once('disconnect', () => process.exit(0));
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  void serve(process.argv[2] ?? '', process.argv.slice(3));
}
