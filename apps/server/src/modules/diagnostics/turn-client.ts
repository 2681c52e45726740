import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect as tcpConnect } from 'node:net';
import { type PeerCertificate, connect as tlsConnect } from 'node:tls';
import {
  type Address,
  Attr,
  addAttribute,
  decodeStun,
  encodeStun,
  errorCodeOf,
  lifetime,
  longTermKey,
  MessageClass,
  Method,
  readXorAddress,
  type StunMessage,
  StunParseError,
  stunLength,
  stunMessage,
  textAttribute,
  UDP_TRANSPORT,
  xorAddress,
} from './stun-message.js';

/** One entry of TURN_URLS: `turn:host:port?transport=udp|tcp` or `turns:host:port?transport=tcp` (TLS). */
export interface TurnServerUrl {
  url: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
}

export function parseTurnUrl(url: string): TurnServerUrl {
  const m = /^(turns?):(\[[^\]]+\]|[^:?]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i.exec(url.trim());
  if (!m) throw new Error(`not a TURN URL: ${url}`);
  const secure = m[1]!.toLowerCase() === 'turns';
  const transport = secure ? 'tls' : ((m[4]?.toLowerCase() as 'udp' | 'tcp' | undefined) ?? 'udp');
  if (secure && m[4]?.toLowerCase() === 'udp') throw new Error(`turns: over UDP (DTLS) is not supported: ${url}`);
  return {
    url,
    host: m[2]!.replace(/^\[|\]$/g, ''),
    port: Number(m[3] ?? (secure ? 5349 : 3478)),
    transport,
  };
}

interface Transport {
  send(data: Buffer): void;
  close(): void;
}

export interface TurnClientOptions {
  /** How long one request may wait for its answer. */
  timeoutMs?: number;
  /** Extra trusted CA certificates for turns: (tests; production trusts the system's). */
  ca?: string | Buffer;
}

/**
 * A minimal TURN client over UDP, TCP or TLS: requests with retransmission (UDP), answers matched
 * by transaction id, Data indications handed to a listener. One allocation per client.
 */
export class TurnClient {
  readonly #pending = new Map<string, (m: StunMessage) => void>();
  #dataListener: ((data: Buffer, from: Address | undefined) => void) | undefined;
  #closed = false;

  private constructor(
    private readonly transport: Transport,
    readonly server: TurnServerUrl,
    readonly certificate: PeerCertificate | undefined,
    private readonly timeoutMs: number,
  ) {}

  static async connect(server: TurnServerUrl, o: TurnClientOptions = {}): Promise<TurnClient> {
    const timeoutMs = o.timeoutMs ?? 3000;
    let client: TurnClient | undefined;
    const onMessage = (raw: Buffer) => client?.received(raw);
    if (server.transport === 'udp') {
      const { address } = await lookup(server.host, { family: 4 });
      const socket: UdpSocket = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.on('message', (raw) => onMessage(raw));
      socket.on('error', () => {});
      client = new TurnClient(
        { send: (d) => socket.send(d, server.port, address), close: () => socket.close() },
        server,
        undefined,
        timeoutMs,
      );
      return client;
    }
    const stream =
      server.transport === 'tls'
        ? tlsConnect({
            host: server.host,
            port: server.port,
            servername: /^[\d.:]+$/.test(server.host) ? undefined : server.host,
            ...(o.ca ? { ca: o.ca } : {}),
          })
        : tcpConnect({ host: server.host, port: server.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.destroy();
        reject(new Error(`no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      stream.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.once(server.transport === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    stream.on('error', () => {});
    // STUN over a stream: messages back to back, each as long as its header says.
    let buffered = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        let length: number | undefined;
        try {
          length = stunLength(buffered);
        } catch {
          stream.destroy();
          return;
        }
        if (length === undefined || buffered.length < length) return;
        // RFC 6062 pads stream-framed messages to 4 bytes; STUN lengths already are.
        onMessage(buffered.subarray(0, length));
        buffered = buffered.subarray(length);
      }
    });
    const certificate = 'getPeerCertificate' in stream ? stream.getPeerCertificate() : undefined;
    client = new TurnClient(
      { send: (d) => stream.write(d), close: () => stream.destroy() },
      server,
      certificate,
      timeoutMs,
    );
    return client;
  }

  /** A datagram or framed message from the server. */
  private received(raw: Buffer): void {
    let m: StunMessage;
    try {
      m = decodeStun(raw);
    } catch (err) {
      if (err instanceof StunParseError) return;
      throw err;
    }
    if (m.cls === MessageClass.Indication && m.method === Method.Data) {
      const data = m.attributes.find((a) => a.type === Attr.Data)?.value;
      if (data) this.#dataListener?.(Buffer.from(data), readXorAddress(m, Attr.XorPeerAddress));
      return;
    }
    const waiter = this.#pending.get(m.transactionId.toString('hex'));
    if (waiter) waiter(m);
  }

  /** Data indications (what peers send to the relayed address). */
  onData(listener: (data: Buffer, from: Address | undefined) => void): void {
    this.#dataListener = listener;
  }

  /** Send a request and wait for its answer (success or error); retransmitted over UDP. */
  request(m: StunMessage, key?: Buffer): Promise<StunMessage> {
    if (this.#closed) return Promise.reject(new Error('the TURN client is closed'));
    const raw = encodeStun(m, key);
    const id = m.transactionId.toString('hex');
    return new Promise<StunMessage>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      const finish = () => {
        for (const t of timers) clearTimeout(t);
        this.#pending.delete(id);
      };
      this.#pending.set(id, (answer) => {
        finish();
        resolve(answer);
      });
      this.transport.send(raw);
      if (this.server.transport === 'udp') {
        for (let at = 250; at < this.timeoutMs; at *= 2) timers.push(setTimeout(() => this.transport.send(raw), at));
      }
      timers.push(
        setTimeout(() => {
          finish();
          reject(new TurnTimeout(`no answer within ${this.timeoutMs} ms`));
        }, this.timeoutMs),
      );
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.clear();
    this.transport.close();
  }
}

export class TurnTimeout extends Error {}

/** What a real allocation attempt found, before it is put in words (see turn-check.ts). */
export type TurnProbe =
  | { outcome: 'ok'; realm: string; relayed: Address; mapped: Address | undefined; rttMs: number }
  | { outcome: 'unreachable'; error: string }
  | { outcome: 'tls_untrusted'; error: string }
  | { outcome: 'open'; relayed: Address | undefined }
  | { outcome: 'wrong_realm'; realm: string; expected: string }
  | { outcome: 'rejected'; realm: string; code: number; reason: string }
  | { outcome: 'refused'; realm: string; code: number; reason: string }
  | { outcome: 'relay_closed'; realm: string; relayed: Address; mapped: Address | undefined }
  | { outcome: 'peer_denied'; realm: string; relayed: Address; peer: string; code: number; reason: string };

export interface TurnProbeOptions extends TurnClientOptions {
  username: string;
  credential: string;
  /** The realm coturn should answer with (TURN_REALM); unset: any. */
  expectedRealm?: string;
  /** How long to wait for the test datagram to come back through the relay. */
  relayTimeoutMs?: number;
}

const PROBE = Buffer.from('fusionflow-doctor relay probe');
/** Node's codes for a TLS certificate it does not trust (expired, self-signed, wrong name, unknown CA). */
const TLS_TRUST = /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/**
 * A real TURN allocation with the given REST credentials, then a relay round trip: a UDP socket of
 * this machine, as the peer, sends a datagram to the relayed address, which must come back as a
 * Data indication. Frees the allocation afterwards. Never throws; `certificate` is the TLS
 * server's, when the transport is TLS and the handshake worked.
 */
export async function probeTurn(
  server: TurnServerUrl,
  o: TurnProbeOptions,
): Promise<{ probe: TurnProbe; certificate: PeerCertificate | undefined }> {
  let client: TurnClient;
  try {
    client = await TurnClient.connect(server, o);
  } catch (err) {
    const code = String((err as NodeJS.ErrnoException).code ?? '');
    const error = `${(err as Error).message}${code ? ` (${code})` : ''}`;
    return {
      probe: { outcome: TLS_TRUST.test(code) ? 'tls_untrusted' : 'unreachable', error },
      certificate: undefined,
    };
  }
  const peer = createSocket('udp4');
  peer.on('error', () => {});
  try {
    return { probe: await allocateAndRelay(client, peer, o), certificate: client.certificate };
  } catch (err) {
    return { probe: { outcome: 'unreachable', error: (err as Error).message }, certificate: client.certificate };
  } finally {
    client.close();
    try {
      peer.close();
    } catch {
      // never bound
    }
  }
}

async function allocateAndRelay(client: TurnClient, peer: UdpSocket, o: TurnProbeOptions): Promise<TurnProbe> {
  const started = performance.now();
  const allocate = () =>
    addAttribute(
      addAttribute(stunMessage(Method.Allocate), Attr.RequestedTransport, UDP_TRANSPORT),
      Attr.Lifetime,
      lifetime(60),
    );
  let answer = await client.request(allocate());
  if (answer.cls === MessageClass.Success) {
    return { outcome: 'open', relayed: readXorAddress(answer, Attr.XorRelayedAddress) };
  }
  const challenge = errorCodeOf(answer);
  const realm = textAttribute(answer, Attr.Realm) ?? '';
  let nonce = textAttribute(answer, Attr.Nonce);
  if (challenge?.code !== 401 || nonce === undefined) {
    return { outcome: 'refused', realm, code: challenge?.code ?? 0, reason: challenge?.reason ?? 'no error code' };
  }
  if (o.expectedRealm !== undefined && realm !== o.expectedRealm) {
    return { outcome: 'wrong_realm', realm, expected: o.expectedRealm };
  }
  const key = longTermKey(o.username, realm, o.credential);
  const signed = (m: StunMessage) => {
    addAttribute(m, Attr.Username, o.username);
    addAttribute(m, Attr.Realm, realm);
    addAttribute(m, Attr.Nonce, nonce!);
    return client.request(m, key);
  };
  answer = await signed(allocate());
  // A stale nonce (438) is answered once with the fresh one.
  if (answer.cls === MessageClass.Error && errorCodeOf(answer)?.code === 438) {
    nonce = textAttribute(answer, Attr.Nonce) ?? nonce;
    answer = await signed(allocate());
  }
  if (answer.cls !== MessageClass.Success) {
    const e = errorCodeOf(answer) ?? { code: 0, reason: 'no error code' };
    return { outcome: e.code === 401 ? 'rejected' : 'refused', realm, code: e.code, reason: e.reason };
  }
  const rttMs = performance.now() - started;
  const relayed = readXorAddress(answer, Attr.XorRelayedAddress);
  const mapped = readXorAddress(answer, Attr.XorMappedAddress);
  if (!relayed) return { outcome: 'refused', realm, code: 0, reason: 'no relayed address in the answer' };
  try {
    // The peer is this machine as the TURN server sees it (the mapped address), on a socket of its own.
    await new Promise<void>((resolve) => peer.bind(0, resolve));
    const peerAddress = { address: mapped?.address ?? '127.0.0.1', port: peer.address().port };
    const permission = await signed(
      addAttribute(stunMessage(Method.CreatePermission), Attr.XorPeerAddress, xorAddress(peerAddress)),
    );
    if (permission.cls !== MessageClass.Success) {
      const e = errorCodeOf(permission) ?? { code: 0, reason: 'no error code' };
      return { outcome: 'peer_denied', realm, relayed, peer: peerAddress.address, code: e.code, reason: e.reason };
    }
    const through = await new Promise<boolean>((resolve) => {
      const send = () => peer.send(PROBE, relayed.port, relayed.address);
      const resend = setInterval(send, 300);
      const timer = setTimeout(() => {
        clearInterval(resend);
        resolve(false);
      }, o.relayTimeoutMs ?? 2000);
      client.onData((data) => {
        if (!data.equals(PROBE)) return;
        clearInterval(resend);
        clearTimeout(timer);
        resolve(true);
      });
      send();
    });
    if (!through) return { outcome: 'relay_closed', realm, relayed, mapped };
    return { outcome: 'ok', realm, relayed, mapped, rttMs };
  } finally {
    // Free the allocation (LIFETIME 0); the answer does not matter.
    await signed(addAttribute(stunMessage(Method.Refresh), Attr.Lifetime, lifetime(0))).catch(() => undefined);
  }
}
