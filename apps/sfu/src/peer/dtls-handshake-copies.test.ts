import { beforeAll, describe, expect, it } from 'vitest';
import { DtlsClient, DtlsServer, RTCDtlsTransport } from 'werift';
import { waitFor } from '../test-peers.js';
import { clientHelloCookie, guardDtlsRetransmissions, isStaleRetransmission } from './dtls-retransmissions.js';

/**
 * werift's DTLS client and server over an in-memory link the test controls: it records every datagram, can hold a
 * direction and inject copies of earlier datagrams, as a lossy or reordering network (or a slow peer) would.
 */
class Direction {
  readonly sent: Buffer[] = [];
  held: Buffer[] | undefined;
  receiver: ((data: Buffer) => void) | undefined;
  send(data: Buffer): void {
    this.sent.push(Buffer.from(data));
    if (this.held) this.held.push(data);
    else this.deliver(data);
  }
  deliver(data: Buffer): void {
    const receiver = this.receiver;
    setImmediate(() => receiver?.(Buffer.from(data)));
  }
  hold(): void {
    this.held ??= [];
  }
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const d of held) this.deliver(d);
  }
}

function transport(out: Direction, into: Direction) {
  const t = {
    type: 'test',
    address: { address: '127.0.0.1', family: 'IPv4', port: 0 },
    closed: false,
    onData: (_data: Buffer, _addr: unknown) => {},
    send: async (data: Buffer) => out.send(data),
    close: async () => {
      t.closed = true;
    },
  };
  into.receiver = (data) => t.onData(data, {});
  return t;
}

/** The handshake message type of a datagram's first record (content type 22), or undefined. */
const handshakeType = (d: Buffer) => (d[0] === 22 && d.length > 13 ? d[13] : undefined);
/** The body of a datagram's first handshake message (13-byte record header, 12-byte handshake header). */
const handshake = (d: Buffer) => ({
  msg_type: d[13]!,
  length: d.readUIntBE(14, 3),
  fragment_offset: d.readUIntBE(19, 3),
  fragment_length: d.readUIntBE(22, 3),
  fragment: d.subarray(25),
});

interface Pair {
  client: DtlsClient;
  server: DtlsServer;
  toServer: Direction;
  toClient: Direction;
  received: { byServer: string[]; byClient: string[] };
  /** What werift reported through onError (RTCDtlsTransport marks DTLS failed on the first). */
  errors: unknown[];
  connected: () => boolean;
}

async function dtlsPair(): Promise<Pair> {
  const cert = await RTCDtlsTransport.SetupCertificate();
  const keys = {
    cert: cert.certPem,
    key: cert.privateKey,
    signatureHash: cert.signatureHash,
    extendedMasterSecret: true,
  };
  const toServer = new Direction();
  const toClient = new Direction();
  const server = new DtlsServer({ ...keys, certificateRequest: true, transport: transport(toClient, toServer) });
  const client = new DtlsClient({ ...keys, transport: transport(toServer, toClient) });
  const received = { byServer: [] as string[], byClient: [] as string[] };
  server.onData.subscribe((b) => received.byServer.push(b.toString()));
  client.onData.subscribe((b) => received.byClient.push(b.toString()));
  const errors: unknown[] = [];
  client.onError.subscribe((e) => errors.push(e));
  server.onError.subscribe((e) => errors.push(e));
  let up = 0;
  client.onConnect.subscribe(() => up++);
  server.onConnect.subscribe(() => up++);
  return { client, server, toServer, toClient, received, errors, connected: () => up >= 2 };
}

/** Both ways, after the handshake: application data decrypts on each side. */
async function exchange(p: Pair, text: string): Promise<void> {
  await p.client.send(Buffer.from(`${text} from client`));
  await p.server.send(Buffer.from(`${text} from server`));
  await waitFor(
    () => p.received.byServer.includes(`${text} from client`) && p.received.byClient.includes(`${text} from server`),
    3000,
    `${text} both ways`,
  );
  expect(p.errors).toEqual([]);
}

const close = (p: Pair) => {
  p.client.close();
  p.server.close();
};

describe('werift DTLS with copies of handshake flights (RFC 6347 §4.2.2, §4.2.4)', () => {
  beforeAll(() => guardDtlsRetransmissions());

  it('a server that answers late: the client discards the second HelloVerifyRequest and connects', async () => {
    const p = await dtlsPair();
    p.toClient.hold(); // the server's answers wait until the client has retransmitted its ClientHello
    void p.client.connect();
    await waitFor(() => p.toServer.sent.filter((d) => handshakeType(d) === 1).length >= 2, 5000, 'ClientHello twice');
    await waitFor(() => p.toClient.held!.filter((d) => handshakeType(d) === 3).length >= 2, 5000, 'two HVRs');
    p.toClient.release();
    await waitFor(p.connected, 10_000, 'connected');
    await exchange(p, 'late server');
    close(p);
  }, 20_000);

  it('a late copy of the first ClientHello reaching the server mid-handshake does not restart it', async () => {
    const p = await dtlsPair();
    p.toClient.hold();
    void p.client.connect();
    // HelloVerifyRequest, then the ClientHello with the cookie, then flight 4 held back.
    await waitFor(() => p.toClient.held!.some((d) => handshakeType(d) === 3), 5000, 'HVR');
    p.toClient.release();
    p.toClient.hold();
    await waitFor(() => p.toClient.held!.some((d) => handshakeType(d) === 14), 5000, 'flight 4');
    const firstHello = p.toServer.sent.find((d) => handshakeType(d) === 1)!;
    expect(clientHelloCookie(handshake(firstHello))?.length).toBe(0);
    p.toServer.deliver(firstHello);
    await new Promise((r) => setTimeout(r, 50));
    p.toClient.release();
    await waitFor(p.connected, 10_000, 'connected');
    await exchange(p, 'reordered hello');
    close(p);
  }, 20_000);

  it('a late copy of the second ClientHello once connected does not make the server drop its keys', async () => {
    const p = await dtlsPair();
    void p.client.connect();
    await waitFor(p.connected, 10_000, 'connected');
    await exchange(p, 'before');
    const secondHello = p.toServer.sent.find(
      (d) => handshakeType(d) === 1 && (clientHelloCookie(handshake(d))?.length ?? 0) > 0,
    )!;
    expect(secondHello).toBeDefined();
    p.toServer.deliver(secondHello);
    await new Promise((r) => setTimeout(r, 50));
    await exchange(p, 'after');
    close(p);
  }, 20_000);

  it('a retransmitted flight 4: before connecting the client repeats flight 5 with the same keys; after, ignores it', async () => {
    const p = await dtlsPair();
    // The client's datagrams go to the server one flight at a time, so flight 5 can be held back.
    p.toServer.hold();
    void p.client.connect();
    await waitFor(() => p.toServer.held!.some((d) => handshakeType(d) === 1), 5000, 'first hello');
    p.toServer.release();
    p.toServer.hold();
    await waitFor(() => p.toServer.held!.some((d) => handshakeType(d) === 1), 5000, 'second hello');
    p.toServer.release();
    p.toServer.hold();
    await waitFor(() => p.toServer.held!.some((d) => handshakeType(d) === 16), 5000, 'flight 5');
    const flight4 = p.toClient.sent.filter((d) => [2, 11, 12, 13, 14].includes(handshakeType(d) ?? 0));
    const keyPair = p.client.cipher.localKeyPair;
    const before = p.toServer.sent.length;
    for (const d of flight4) p.toClient.deliver(d);
    await waitFor(() => p.toServer.sent.length > before, 3000, 'flight 5 again');
    expect(p.client.cipher.localKeyPair).toBe(keyPair);
    p.toServer.release();
    await waitFor(p.connected, 10_000, 'connected');
    await exchange(p, 'flight 4 twice');

    const after = p.toServer.sent.length;
    for (const d of flight4) p.toClient.deliver(d);
    await new Promise((r) => setTimeout(r, 100));
    expect(p.client.cipher.localKeyPair).toBe(keyPair);
    expect(p.toServer.sent.length).toBe(after);
    await exchange(p, 'flight 4 once more');
    close(p);
  }, 20_000);
});

describe('isStaleRetransmission', () => {
  const client = (flight: number, connected = false) => ({ sessionType: 1, connected, dtls: { flight } });
  const server = (flight: number, connected = false, cookie?: Buffer) => ({
    sessionType: 2,
    connected,
    dtls: { flight, cookie },
  });
  const message = (msg_type: number, fragment = Buffer.alloc(0)) => ({
    msg_type,
    length: fragment.length,
    fragment_offset: 0,
    fragment_length: fragment.length,
    fragment,
  });
  const hello = (cookie: Buffer) =>
    message(1, Buffer.concat([Buffer.alloc(34, 0xfe), Buffer.from([0]), Buffer.from([cookie.length]), cookie]));

  it('client: HelloVerifyRequest once, flight 4 until flight 5 went out, nothing after connecting', () => {
    expect(isStaleRetransmission(client(1), message(3))).toBe(false);
    expect(isStaleRetransmission(client(3), message(3))).toBe(true);
    expect(isStaleRetransmission(client(3), message(2))).toBe(false);
    expect(isStaleRetransmission(client(5), message(2))).toBe(true);
    expect(isStaleRetransmission(client(5), message(12))).toBe(true);
    // The ServerHelloDone of a repeated flight 4 makes werift repeat flight 5.
    expect(isStaleRetransmission(client(5), message(14))).toBe(false);
    expect(isStaleRetransmission(client(7, true), message(14))).toBe(true);
    expect(isStaleRetransmission(client(5), message(20))).toBe(false);
    expect(isStaleRetransmission(client(7, true), message(20))).toBe(true);
  });

  it('server: a cookieless hello mid-handshake, the issued cookie once connected', () => {
    const cookie = Buffer.alloc(20, 7);
    expect(isStaleRetransmission(server(0), hello(Buffer.alloc(0)))).toBe(false);
    expect(isStaleRetransmission(server(2, false, cookie), hello(Buffer.alloc(0)))).toBe(false);
    expect(isStaleRetransmission(server(4, false, cookie), hello(Buffer.alloc(0)))).toBe(true);
    // A new handshake on a connected association starts without a cookie: werift renegotiates.
    expect(isStaleRetransmission(server(6, true, cookie), hello(Buffer.alloc(0)))).toBe(false);
    expect(isStaleRetransmission(server(4, false, cookie), hello(cookie))).toBe(false);
    expect(isStaleRetransmission(server(6, true, cookie), hello(cookie))).toBe(true);
    expect(isStaleRetransmission(server(6, true, cookie), hello(Buffer.alloc(20, 8)))).toBe(false);
    // Flight 5 copies are werift's cue to repeat flight 6.
    expect(isStaleRetransmission(server(6, true, cookie), message(20))).toBe(false);
  });

  it('reads the cookie of complete hellos only', () => {
    const cookie = Buffer.from('cookie');
    expect(clientHelloCookie(hello(cookie))).toEqual(cookie);
    expect(clientHelloCookie({ ...hello(cookie), fragment_length: 10 })).toBeUndefined();
    expect(clientHelloCookie(message(1, Buffer.alloc(30)))).toBeUndefined();
    expect(clientHelloCookie(message(1, Buffer.concat([Buffer.alloc(34), Buffer.from([0, 9, 1])])))).toBeUndefined();
  });
});
