/**
 * The compiled bot (or any node script) as a real child process for the benches that need one (acks,
 * replicas): free ports from the OS, start, wait for an HTTP answer, stop with SIGTERM (SIGKILL after 15 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import pg from 'pg';
import { computeSignature } from '../adapters/slack/verify.js';
import { projectRoot } from '../src/project-root.js';

export interface Proc {
  child: ChildProcess;
  /** Resolves once the process has exited: its code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few kilobytes it wrote on stderr (its logs). */
  stderr(): string;
  stop(): Promise<void>;
}

export function launch(cmd: string, args: string[], env: Record<string, string>, logFile?: string): Proc {
  const child = spawn(cmd, args, {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-4000);
    if (logFile) appendFileSync(logFile, c);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  void exited.then(({ code }) => {
    if (code && code !== 0) process.stderr.write(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}\n`);
  });
  return {
    child,
    exited,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

const sleep = (t: number) => new Promise((resolve) => setTimeout(resolve, t));

/** Polls until `url` answers (`wantOk`: with 200); returns ms since `since`. */
export async function waitForHttp(url: string, since: bigint, wantOk: boolean, maxMs = 60_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (!wantOk || res.status === 200) return Number(process.hrtime.bigint() - since) / 1e6;
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  throw new Error(`${url} did not answer within ${maxMs} ms`);
}

/**
 * Ports nothing listens on or connects from right now, from the OS (port 0), held open together so they differ.
 * Counting up from a fixed number collided with the ephemeral ports of the bench's own database connections
 * ("port already in use").
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** OAuth mode reads the installation from the database: put one there, as the install flow would. */
export async function installWorkspace(databaseUrl: string, teamId: string, botToken: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const installation = {
      team: { id: teamId, name: `Bench ${teamId}` },
      enterprise: undefined,
      isEnterpriseInstall: false,
      appId: 'A0BENCH',
      tokenType: 'bot',
      bot: { token: botToken, id: 'B0BOT', userId: 'U0BOT', scopes: ['commands', 'chat:write'] },
    };
    await client.query(
      `insert into slack_installations (install_key, team_id, is_enterprise_install, installation)
       values ($1, $2, false, $3) on conflict (install_key) do update set installation = excluded.installation`,
      [`T:${teamId}`, teamId, JSON.stringify(installation)],
    );
  } finally {
    await client.end();
  }
}

/** Headers of a Slack request signed as Slack signs it (form-encoded body, timestamp now). */
export function signedSlackHeaders(secret: string, body: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': String(Buffer.byteLength(body)),
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': computeSignature(secret, timestamp, body),
  };
}
