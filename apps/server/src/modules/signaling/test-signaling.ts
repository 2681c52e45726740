import { PROTOCOL_VERSION, type ServerMessage, type ServerMessageName, ServerMessages } from '@fusionflow/protocol';
import { io, type Socket } from 'socket.io-client';

/** What a test peer received, by message name, in order. */
export interface TestPeer {
  readonly socket: Socket;
  /** The next message of this name (already received or still to come), optionally the next matching one. */
  next<N extends ServerMessageName>(
    name: N,
    match?: (body: ServerMessage<N>) => boolean,
    timeoutMs?: number,
  ): Promise<ServerMessage<N>>;
  /** Messages of this name received and not yet taken by next(). */
  pending<N extends ServerMessageName>(name: N): ServerMessage<N>[];
  emit(name: string, ...args: unknown[]): void;
  emitWithAck(name: string, body?: unknown): Promise<any>;
  close(): void;
}

/** Every message the server can send: the protocol's list, so a new message needs no change here. */
const NAMES = Object.keys(ServerMessages) as ServerMessageName[];

/** Connect a socket.io-client to a running platform and record everything it receives. */
export async function connectPeer(
  url: string,
  token: string,
  options: { protocol?: number | string; expectError?: boolean; headers?: Record<string, string> } = {},
): Promise<TestPeer> {
  const socket = io(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { token, protocol: options.protocol ?? PROTOCOL_VERSION },
    ...(options.headers ? { extraHeaders: options.headers } : {}),
  });
  const queues = new Map<string, unknown[]>(NAMES.map((n) => [n, []]));
  const waiters: { name: string; match: (b: any) => boolean; resolve: (b: any) => void }[] = [];
  for (const name of NAMES) {
    socket.on(name as 'error', (body: unknown) => {
      const i = waiters.findIndex((w) => w.name === name && w.match(body));
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(body);
      else queues.get(name)!.push(body);
    });
  }
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return {
    socket,
    next: (name, match = () => true, timeoutMs = 5000) => {
      const queue = queues.get(name)!;
      const i = queue.findIndex((b) => match(b as never));
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0] as never);
      return new Promise((resolve, reject) => {
        const waiter = { name, match: match as (b: any) => boolean, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          const at = waiters.indexOf(waiter);
          if (at >= 0) {
            waiters.splice(at, 1);
            reject(new Error(`no "${name}" message within ${timeoutMs} ms`));
          }
        }, timeoutMs).unref();
      });
    },
    pending: (name) => [...(queues.get(name) as never[])],
    emit: (name, ...args) => socket.emit(name, ...args),
    emitWithAck: (name, body) => (body === undefined ? socket.emitWithAck(name) : socket.emitWithAck(name, body)),
    close: () => socket.close(),
  };
}

/** The error a refused handshake carries: `{ message, data: { code, message, closeCode } }`. */
export async function refusedHandshake(
  url: string,
  auth: unknown,
  headers?: Record<string, string>,
): Promise<{ message: string; data: any }> {
  const socket = io(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: auth as object,
    ...(headers ? { extraHeaders: headers } : {}),
  });
  try {
    return await new Promise((resolve, reject) => {
      socket.once('connect', () => reject(new Error('the handshake was accepted')));
      socket.once('connect_error', (err) => resolve(err as never));
    });
  } finally {
    socket.close();
  }
}

/** An SDP-shaped string (the server relays SDP as an opaque, size-limited string). */
export const fakeSdp = (tag: string) => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=${tag}\r\nt=0 0\r\n`;
