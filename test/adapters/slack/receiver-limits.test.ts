import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackcareHttpReceiver } from '../../../adapters/slack/receiver.js';
import { captureLogger } from '../../support/log.js';

/** A raw TCP client: what it received, and when the server closed the connection. */
const clients: Socket[] = [];
function rawClient(port: number): { socket: Socket; received: () => string; closed: Promise<number> } {
  const socket = connect(port, '127.0.0.1');
  clients.push(socket);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  // The server may reset a connection it stopped reading: that is the point, not a failure.
  socket.on('error', () => undefined);
  const started = Date.now();
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
  return { socket, received: () => received, closed };
}

const write = (socket: Socket, data: string | Buffer) =>
  new Promise<boolean>((resolve) => {
    if (socket.destroyed) return resolve(false);
    socket.write(data, (error) => resolve(!error));
  });

describe('Slack HTTP receiver: request size and slow clients', () => {
  let receiver: BackcareHttpReceiver | undefined;
  afterEach(async () => {
    for (const socket of clients.splice(0)) socket.destroy();
    await receiver?.stop();
    receiver = undefined;
  });

  async function start(options: { headersTimeoutMs?: number; requestTimeoutMs?: number } = {}) {
    const logs = captureLogger();
    receiver = new BackcareHttpReceiver({
      signingSecret: 'test-signing-secret-not-real',
      port: 0,
      host: '127.0.0.1',
      log: logs.log,
      healthy: async () => true,
      ...options,
    });
    await receiver.start();
    return { port: receiver.port, logs };
  }

  it('answers 413 once a streamed body passes the limit and closes the connection before the client has sent it all', async () => {
    const { port, logs } = await start();
    const client = rawClient(port);
    await new Promise<void>((resolve) => client.socket.once('connect', () => resolve()));
    // Chunked, so the size is not declared up front: the server has to count.
    await write(
      client.socket,
      'POST /slack/commands HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const total = 16 * 1024 * 1024;
    let sent = 0;
    let stoppedEarly = false;
    while (sent < total) {
      if (client.received() !== '' || client.socket.destroyed) {
        stoppedEarly = true;
        break;
      }
      const ok = await write(
        client.socket,
        Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]),
      );
      if (!ok) {
        stoppedEarly = true;
        break;
      }
      sent += chunk.length;
    }
    const closedAfter = await Promise.race([
      client.closed,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 3000)),
    ]);
    expect(stoppedEarly).toBe(true);
    expect(sent).toBeLessThan(total);
    expect(closedAfter).toBeGreaterThanOrEqual(0);
    expect(client.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(logs.lines().some((l) => l.event === 'slack.http.too_large')).toBe(true);
  });

  it('answers 413 at once when the declared Content-Length is over the limit, without waiting for the body', async () => {
    const { port } = await start();
    const client = rawClient(port);
    client.socket.write(
      'POST /slack/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"a":',
    );
    const closedAfter = await Promise.race([
      client.closed,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 3000)),
    ]);
    expect(closedAfter).toBeGreaterThanOrEqual(0);
    expect(client.received()).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('cuts off a client that sends part of its headers and then stalls', async () => {
    const { port } = await start({ headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    const client = rawClient(port);
    client.socket.write('POST /slack/commands HTTP/1.1\r\nHost: localhost\r\n');
    const closedAfter = await Promise.race([
      client.closed,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5000)),
    ]);
    expect(closedAfter).toBeGreaterThan(0);
    expect(closedAfter).toBeLessThan(3000);
  });

  it('cuts off a client that sends its headers and then trickles the body', async () => {
    const { port } = await start({ headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    const client = rawClient(port);
    client.socket.write(
      'POST /slack/commands HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncommand=',
    );
    const trickle = setInterval(() => client.socket.write('a'), 200);
    try {
      const closedAfter = await Promise.race([
        client.closed,
        new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5000)),
      ]);
      expect(closedAfter).toBeGreaterThan(0);
      expect(closedAfter).toBeLessThan(3500);
    } finally {
      clearInterval(trickle);
    }
  });
});

describe('Slack HTTP receiver: the replay check never eats the 3-second ack', () => {
  type Check = () => Promise<unknown>;
  async function startReceiver(
    firstSeen: (key: string) => Promise<boolean>,
    replayCheckMs = 1000,
    listener: (check: Check | undefined, ack: () => Promise<void>) => Promise<void> = async (_check, ack) => ack(),
    /** Whether the stand-in asks for the verdict after its ack, as Backcare's work does once it runs. */
    askVerdict = true,
  ) {
    const logs = captureLogger();
    const receiver = new BackcareHttpReceiver({
      signingSecret: 'test-signing-secret-not-real',
      port: 0,
      host: '127.0.0.1',
      log: logs.log,
      healthy: async () => true,
      firstSeen,
      replayCheckMs,
    });
    const verdicts: Promise<unknown>[] = [];
    let processed = 0;
    // A stand-in for Bolt: acks at once, as Backcare's listeners do, and keeps the replay verdict they wait for.
    receiver.init({
      processEvent: async (event: {
        ack: (body?: unknown) => Promise<void>;
        customProperties?: { replayCheck?: Check };
      }) => {
        processed += 1;
        const check = event.customProperties?.replayCheck;
        await listener(check, () => event.ack());
        if (check && askVerdict) verdicts.push(check());
      },
    } as never);
    await receiver.start();
    return { receiver, logs, verdicts, processed: () => processed };
  }

  it('a replay check that hangs (a locked or saturated database) does not delay the ack; its verdict is given up after its bound', async () => {
    const { postSigned } = await import('../../support/slack/http.js');
    const { slashCommand } = await import('../../support/slack/payloads.js');
    const { receiver, logs, verdicts, processed } = await startReceiver(() => new Promise<boolean>(() => undefined));
    try {
      const started = Date.now();
      const res = await postSigned(receiver.port, '/slack/commands', slashCommand('help'));
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
      // Acked before the check's bound: the database is not waited for before the ack at all.
      expect(Date.now() - started).toBeLessThan(800);
      expect(processed()).toBe(1);
      // Fails open after the bound: the listeners go on, and the slow check is logged.
      expect(await Promise.all(verdicts)).toEqual([true]);
      expect(logs.lines().some((l) => l.event === 'slack.http.replay_check_slow')).toBe(true);
    } finally {
      await receiver.stop();
    }
  });

  it('a replay to the same process is refused from memory, without asking the database', async () => {
    const { postSigned } = await import('../../support/slack/http.js');
    const { slashCommand } = await import('../../support/slack/payloads.js');
    const keys: string[] = [];
    const { receiver, logs, verdicts, processed } = await startReceiver(async (key) => (keys.push(key), true));
    try {
      const body = slashCommand('help');
      const timestamp = Math.floor(Date.now() / 1000);
      await postSigned(receiver.port, '/slack/commands', body, { timestamp });
      const replay = await postSigned(receiver.port, '/slack/commands', body, { timestamp });
      expect(replay.status).toBe(200);
      expect(processed()).toBe(1);
      expect(keys).toHaveLength(1);
      expect(await Promise.all(verdicts)).toEqual([true]);
      expect(logs.lines().filter((l) => l.event === 'slack.http.replayed')).toHaveLength(1);
    } finally {
      await receiver.stop();
    }
  });

  it('the database is asked only once the ack is out', async () => {
    const { postSigned } = await import('../../support/slack/http.js');
    const { slashCommand } = await import('../../support/slack/payloads.js');
    const order: string[] = [];
    const { receiver, verdicts } = await startReceiver(
      async () => (order.push('database'), true),
      1000,
      async (_check, ack) => {
        // Other requests' turns (microtasks and the next loop phase) pass before this one acks.
        await new Promise((resolve) => setImmediate(resolve));
        order.push('ack');
        await ack();
      },
    );
    try {
      await postSigned(receiver.port, '/slack/commands', slashCommand('help'));
      expect(await Promise.all(verdicts)).toEqual([true]);
      expect(order).toEqual(['ack', 'database']);
    } finally {
      await receiver.stop();
    }
  });

  it('a request on its own has its record written at its ack, not after waiting for a burst', async () => {
    const { postSigned } = await import('../../support/slack/http.js');
    const { slashCommand } = await import('../../support/slack/payloads.js');
    const order: string[] = [];
    const { receiver } = await startReceiver(
      async () => (order.push('database'), true),
      1000,
      async (_check, ack) => {
        order.push('ack');
        await ack();
      },
      false,
    );
    try {
      // Far apart, as people's requests usually are: neither is part of a burst.
      await postSigned(receiver.port, '/slack/commands', slashCommand('help'));
      expect(order).toEqual(['ack', 'database']);
      await new Promise((resolve) => setTimeout(resolve, 60));
      await postSigned(receiver.port, '/slack/commands', slashCommand('stats'));
      expect(order).toEqual(['ack', 'database', 'ack', 'database']);
    } finally {
      await receiver.stop();
    }
  });

  it('during a burst the database is asked once every request of it is acknowledged, not between the acks', async () => {
    const { postSigned } = await import('../../support/slack/http.js');
    const { slashCommand } = await import('../../support/slack/payloads.js');
    const order: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let listened = 0;
    const { receiver } = await startReceiver(
      async () => (order.push('database'), true),
      1000,
      async (_check, ack) => {
        listened += 1;
        const mine = listened;
        // Both are in before either is acknowledged (a burst); the second is slow to acknowledge, and the first
        // one's record waits for it.
        while (listened < 2) await new Promise((resolve) => setTimeout(resolve, 5));
        if (mine === 2) await held;
        order.push(`ack ${mine}`);
        await ack();
      },
      false,
    );
    try {
      const first = postSigned(receiver.port, '/slack/commands', slashCommand('help'));
      const second = postSigned(receiver.port, '/slack/commands', slashCommand('stats'));
      expect((await first).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(order).toEqual(['ack 1']);
      release();
      expect((await second).status).toBe(200);
      await vi.waitFor(() => expect(order).toEqual(['ack 1', 'ack 2', 'database', 'database']), { timeout: 2000 });
    } finally {
      await receiver.stop();
    }
  });

  it('a listener that needs the verdict to answer in its ack gets it first, and the database is asked once', async () => {
    const { postSigned } = await import('../../support/slack/http.js');
    const { slashCommand } = await import('../../support/slack/payloads.js');
    const order: string[] = [];
    const { receiver, verdicts } = await startReceiver(
      async () => (order.push('database'), false),
      1000,
      async (check, ack) => {
        order.push(`verdict ${String(await check?.())}`);
        await ack();
        order.push('ack');
      },
    );
    try {
      await postSigned(receiver.port, '/slack/commands', slashCommand('help'));
      expect(await Promise.all(verdicts)).toEqual([false]);
      expect(order).toEqual(['database', 'verdict false', 'ack']);
    } finally {
      await receiver.stop();
    }
  });

  it("the database's verdict (a replay another replica took) reaches the listeners", async () => {
    const { postSigned } = await import('../../support/slack/http.js');
    const { slashCommand } = await import('../../support/slack/payloads.js');
    const { receiver, verdicts } = await startReceiver(async () => false);
    try {
      await postSigned(receiver.port, '/slack/commands', slashCommand('help'));
      expect(await Promise.all(verdicts)).toEqual([false]);
    } finally {
      await receiver.stop();
    }
  });
});
