import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNALING_PATH } from '@fusionflow/protocol';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { SignalingConnection, type SignalingStatus } from './signaling-connection.js';

/** A bare Socket.IO server on the signaling path that accepts everyone; counts the connections it was given. */
async function bareServer(
  transports: Array<'polling' | 'websocket'> = ['polling', 'websocket'],
): Promise<{ url: string; io: Server; http: HttpServer; connections: () => number; transports: string[] }> {
  const http = createServer();
  const io = new Server(http, { path: SIGNALING_PATH, transports });
  let connections = 0;
  const used: string[] = [];
  io.on('connection', (socket) => {
    connections++;
    used.push(socket.conn.transport.name);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    io,
    http,
    connections: () => connections,
    transports: used,
  };
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

function statusIs(connection: SignalingConnection, wanted: SignalingStatus): Promise<void> {
  return new Promise((resolve) => {
    if (connection.status === wanted) resolve();
    const off = connection.on('status', (s) => {
      if (s !== wanted) return;
      off();
      resolve();
    });
  });
}

describe('SignalingConnection transports', () => {
  async function connectTo(server: Awaited<ReturnType<typeof bareServer>>) {
    open.push(() => new Promise((resolve) => server.io.close(() => resolve())));
    const connection = new SignalingConnection({ url: server.url, token: () => 't' });
    open.push(async () => connection.close());
    connection.connect();
    await statusIs(connection, 'connected');
  }

  it('connects over a WebSocket from the start (no long-polling phase to upgrade from)', async () => {
    const server = await bareServer();
    await connectTo(server);
    expect(server.transports).toEqual(['websocket']);
  });

  it('falls back to long-polling where WebSockets are refused', async () => {
    const server = await bareServer(['polling']);
    await connectTo(server);
    expect(server.transports).toEqual(['polling']);
  });
});

describe('SignalingConnection.reconnectNow', () => {
  // Retries an hour apart: without reconnectNow these tests would never see the connection come back.
  const patient = { reconnectionDelay: 3_600_000, reconnectionDelayMax: 3_600_000, transports: ['websocket'] };

  /** A connection to a bare server, connected; both closed after the test. */
  async function connected() {
    const server = await bareServer();
    open.push(() => new Promise((resolve) => server.io.close(() => resolve())));
    const connection = new SignalingConnection({ url: server.url, token: () => 't', socketOptions: patient });
    open.push(async () => connection.close());
    connection.connect();
    await statusIs(connection, 'connected');
    return { server, connection };
  }

  it('cuts a retry’s backoff short: the connection is back at once', async () => {
    const { server, connection } = await connected();
    // The transport dies under the client (as a network switch kills it): Socket.IO would retry in an hour.
    for (const socket of server.io.sockets.sockets.values()) socket.conn.close();
    await statusIs(connection, 'reconnecting');
    connection.reconnectNow();
    await statusIs(connection, 'connected');
    expect(server.connections()).toBe(2);
  });

  it('drops a connection made on the old network and connects again', async () => {
    const { server, connection } = await connected();
    const first = connection.id;
    const statuses: SignalingStatus[] = [];
    connection.on('status', (s) => statuses.push(s));
    connection.reconnectNow();
    await statusIs(connection, 'connected');
    expect(statuses).toEqual(['reconnecting', 'connected']);
    expect(connection.id).not.toBe(first);
    expect(server.connections()).toBe(2);
  });

  it('does nothing once closed', async () => {
    const { server, connection } = await connected();
    connection.close();
    connection.reconnectNow();
    await new Promise((r) => setTimeout(r, 100));
    expect(connection.status).toBe('closed');
    expect(server.connections()).toBe(1);
  });
});
