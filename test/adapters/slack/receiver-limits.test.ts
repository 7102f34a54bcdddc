import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
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
  it('a replay check that hangs (a locked or saturated database) is given up after its bound and the request is acked', async () => {
    const { postSigned } = await import('../../support/slack/http.js');
    const { slashCommand } = await import('../../support/slack/payloads.js');
    const logs = captureLogger();
    const receiver = new BackcareHttpReceiver({
      signingSecret: 'test-signing-secret-not-real',
      port: 0,
      host: '127.0.0.1',
      log: logs.log,
      healthy: async () => true,
      firstSeen: () => new Promise<boolean>(() => undefined),
      replayCheckMs: 300,
    });
    let processed = 0;
    // A stand-in for Bolt: acks at once, as Backcare's listeners do.
    receiver.init({
      processEvent: async (event: { ack: (body?: unknown) => Promise<void> }) => {
        processed += 1;
        await event.ack();
      },
    } as never);
    await receiver.start();
    try {
      const started = Date.now();
      const res = await postSigned(receiver.port, '/slack/commands', slashCommand('help'));
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(processed).toBe(1);
      expect(logs.lines().some((l) => l.event === 'slack.http.replay_check_slow')).toBe(true);
    } finally {
      await receiver.stop();
    }
  });
});
