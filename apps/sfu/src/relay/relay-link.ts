import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { RelayCipher } from './relay-cipher.js';
import { encodeBye, RelayMessage } from './relay-wire.js';

/** A relay whose other side is silent this long is closed (each side sends at least once a second). */
export const RELAY_TIMEOUT_MS = 5000;
export const RELAY_HEARTBEAT_MS = 1000;

/** A UDP socket for one relay, bound on the node's relay address (SFU_RELAY_HOST) at a port the OS picks. */
export function bindRelaySocket(host: string): Promise<Socket> {
  const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export interface RelayLinkOptions {
  socket: Socket;
  cipher: RelayCipher;
  /** Each authenticated message from the other side (`fresh`: not a replay; see RelayCipher.open). */
  receive: (message: Buffer, fresh: boolean) => void;
  /** Told once, when the link closes (its own `close`, a `bye`, or the other side's silence). */
  closed: (reason: string) => void;
}

/**
 * One relay's datagram path: seals what it sends to the other side's address, opens what arrives from that address
 * only (anything else, or anything that does not authenticate, is dropped), notices silence, says `bye` on close.
 */
export class RelayLink {
  #peer: { host: string; port: number } | undefined;
  #lastHeard = performance.now();
  readonly #watchdog: NodeJS.Timeout;
  #closed = false;
  sent = 0;
  received = 0;

  constructor(private readonly o: RelayLinkOptions) {
    o.socket.on('message', (datagram, from) => {
      const peer = this.#peer;
      if (!peer || from.port !== peer.port || from.address !== peer.host) return;
      const opened = o.cipher.open(datagram);
      if (!opened) return;
      this.#lastHeard = performance.now();
      this.received++;
      if (opened.plain[0] === RelayMessage.bye) {
        if (opened.fresh) this.close(`relay_${opened.plain.subarray(1).toString('utf8') || 'closed'}`, false);
        return;
      }
      o.receive(opened.plain, opened.fresh);
    });
    o.socket.on('error', () => this.close('relay_socket_error', false));
    this.#watchdog = setInterval(() => {
      if (performance.now() - this.#lastHeard > RELAY_TIMEOUT_MS) this.close('relay_timeout', false);
    }, RELAY_HEARTBEAT_MS);
  }

  get port(): number {
    return this.o.socket.address().port;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Where the other side's socket is (from the signed request or answer). */
  connect(host: string, port: number): void {
    this.#peer = { host, port };
    this.#lastHeard = performance.now();
  }

  send(plain: Buffer): void {
    const peer = this.#peer;
    if (!peer || this.#closed) return;
    this.sent++;
    this.o.socket.send(this.o.cipher.seal(plain), peer.port, peer.host);
  }

  close(reason: string, sayBye = true): void {
    if (this.#closed) return;
    if (sayBye) this.send(encodeBye(reason));
    this.#closed = true;
    clearInterval(this.#watchdog);
    // The bye is queued on the socket: close it once that send has gone.
    setImmediate(() => {
      try {
        this.o.socket.close();
      } catch {
        // Already closed.
      }
    });
    this.o.closed(reason);
  }
}
