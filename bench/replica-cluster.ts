/**
 * N replicas of the compiled bot on one database, behind a tiny load balancer: requests go to replicas that are
 * up (a replica leaves the rotation before it is stopped, as /readyz turning 503 does it for a real one), are
 * correctly signed, and move to another replica only when the connection was refused (never processed). Each
 * process gets its own Slack API base URL, `<fake>/r/<tag>/api/`, so the fake records which process made each
 * call; the tag changes at every (re)start (`r1g2`: slot 1, second process).
 */
import { request } from 'node:http';
import path from 'node:path';
import { freePorts, launch, signedSlackHeaders, waitForHttp, type Proc } from './app-process.js';
import type { FakeSlack } from './fake-slack.js';

const SIGNING_SECRET = 'bench-signing-secret-not-real';

interface Replica {
  slot: number;
  tag: string;
  port: number;
  proc: Proc;
  up: boolean;
}

export interface ClusterOptions {
  size: number;
  databaseUrl: string;
  fake: FakeSlack;
  dataDir: string;
  timeScale: number;
}

/** What happened to a replica process, for the run's line. */
export interface ClusterEvent {
  slot: number;
  /** The process stopped, and when the signal was sent (epoch ms). */
  tag: string;
  at: number;
  kind: 'restart' | 'kill';
  /** Exit code (SIGTERM), or the signal. */
  exit: string;
  /** SIGTERM (or SIGKILL) to exit, and exit to the new process ready (ms). */
  stopMs: number;
  readyMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function signedPost(port: number, urlPath: string, body: string): Promise<number> {
  const headers = signedSlackHeaders(SIGNING_SECRET, body);
  return new Promise((resolve, reject) => {
    // A new connection each time: a kept-alive socket to a killed replica would fail after sending.
    const req = request({ host: '127.0.0.1', port, path: urlPath, method: 'POST', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export class Cluster {
  readonly replicas: Replica[] = [];
  readonly events: ClusterEvent[] = [];
  #generation = 0;

  constructor(private readonly options: ClusterOptions) {}

  /** Starts slot 0 first (it migrates the database), then `after` (seeding), then the others together. */
  async start(after: () => Promise<void>): Promise<void> {
    this.replicas.push(await this.#spawn(0));
    await after();
    const rest = Array.from({ length: this.options.size - 1 }, (_, i) => this.#spawn(i + 1));
    this.replicas.push(...(await Promise.all(rest)));
  }

  async #spawn(slot: number): Promise<Replica> {
    this.#generation += 1;
    const tag = `r${slot}g${this.#generation}`;
    const [port, healthPort] = (await freePorts(2)) as [number, number];
    const { fake } = this.options;
    const proc = launch(
      process.execPath,
      [path.join('dist', 'src', 'main.js')],
      {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        BACKCARE_ADAPTER: 'slack',
        BACKCARE_DATA_DIR: path.join(this.options.dataDir, `r${slot}`),
        BACKCARE_SECRET: 'bench-secret-0123456789abcdef0123456789abcdef',
        BACKCARE_TIME_SCALE: String(this.options.timeScale),
        DATABASE_URL: this.options.databaseUrl,
        PORT: String(port),
        HEALTH_PORT: String(healthPort),
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: `${fake.origin}/r/${tag}/api/`,
        // OAuth mode: one installation per workspace, read from the shared database (the bench stores them).
        SLACK_CLIENT_ID: '1.2',
        SLACK_CLIENT_SECRET: 'bench-client-secret',
        SLACK_STATE_SECRET: 'bench-state-secret',
        ...(process.env.BENCH_LOG_DIR ? { LOG_LEVEL: 'info' } : {}),
      },
      process.env.BENCH_LOG_DIR && path.join(process.env.BENCH_LOG_DIR, `${tag}.log`),
    );
    await waitForHttp(`http://127.0.0.1:${healthPort}/readyz`, process.hrtime.bigint(), true, 120_000);
    return { slot, tag, port, proc, up: true };
  }

  /** The process tag of each slot now. */
  tags(): string[] {
    return this.replicas.map((r) => r.tag);
  }

  isUp(slot: number): boolean {
    return this.replicas[slot]?.up === true;
  }

  /** Takes a slot out of the rotation (before stopping it): no new request goes there. */
  drain(slot: number): void {
    this.replicas[slot]!.up = false;
  }

  /**
   * Sends to `slot` if it is up, otherwise (or when its connection is refused) to the next one that is, never to
   * `avoid`. Returns the slot that answered and the HTTP status.
   */
  async post(slot: number, urlPath: string, body: string, avoid?: number): Promise<{ slot: number; status: number }> {
    const deadline = Date.now() + 30_000;
    for (let k = 0; Date.now() < deadline; k += 1) {
      const replica = [...this.replicas.slice(slot), ...this.replicas.slice(0, slot)].find(
        (r) => r.up && r.slot !== avoid,
      );
      if (!replica) {
        await sleep(100);
        continue;
      }
      try {
        return { slot: replica.slot, status: await signedPost(replica.port, urlPath, body) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw error;
        await sleep(50);
        slot = (replica.slot + 1) % this.replicas.length;
      }
    }
    throw new Error(`no replica took ${urlPath} within 30 s`);
  }

  /** A rolling-deploy step: out of rotation, SIGTERM, wait for the exit, start a new process in the slot. */
  async restart(slot: number): Promise<void> {
    await this.#replace(slot, 'restart');
  }

  /** A crash: SIGKILL, then a new process in the slot. */
  async kill(slot: number): Promise<void> {
    await this.#replace(slot, 'kill');
  }

  async #replace(slot: number, kind: ClusterEvent['kind']): Promise<void> {
    const old = this.replicas[slot]!;
    old.up = false;
    const stopping = Date.now();
    old.proc.child.kill(kind === 'kill' ? 'SIGKILL' : 'SIGTERM');
    const { code, signal } = await old.proc.exited;
    const exited = Date.now();
    if (kind === 'restart' && code !== 0) process.stderr.write(`replica ${old.tag} exit ${code ?? signal}\n`);
    this.replicas[slot] = await this.#spawn(slot);
    this.events.push({
      slot,
      tag: old.tag,
      at: stopping,
      kind,
      exit: code !== null ? String(code) : String(signal),
      stopMs: exited - stopping,
      readyMs: Date.now() - exited,
    });
  }

  async stop(): Promise<void> {
    for (const r of this.replicas) r.up = false;
    await Promise.all(this.replicas.map((r) => r.proc.stop()));
  }
}
