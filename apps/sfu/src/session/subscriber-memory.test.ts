import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenericNack, type RTCPeerConnection, RtcpTransportLayerFeedback } from 'werift';
import { releaseDtlsHandshakeState } from '../peer/dtls-handshake-state.js';
import { isPooled } from '../peer/session-keys.js';
import { startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from '../test-peers.js';
import type { SubscriberSession } from './subscriber-session.js';

/** werift's DTLS state of a peer's (bundled) transport. */
function dtlsState(pc: RTCPeerConnection) {
  const transport = pc.getTransceivers().find((t) => t.sender.dtlsTransport)?.sender.dtlsTransport;
  return (
    transport as unknown as {
      dtls: {
        sessionType: number;
        flight5?: unknown;
        dtls: { handshakeCache: Record<string, unknown>; lastFlight: unknown[]; lastMessage: unknown[] };
      };
    }
  ).dtls;
}

/** What a viewer costs the SFU in memory: no per-viewer copy of what only the handshake needed (issue 17). */
describe('a subscriber session’s memory', () => {
  let t: TestSfu;
  beforeAll(async () => {
    t = await startTestSfu();
  });
  afterAll(() => t.close());

  it('keeps no copy of the DTLS handshake once connected and no key in a pool slab, and still forwards and answers NACKs', async () => {
    const pub = new TestPublisher(false);
    expect((await pub.publish(t.url, 'memory')).status).toBe(201);
    await pub.connected();
    pub.start();
    const sub = new TestSubscriber();
    expect((await sub.play(t.url, 'memory')).status).toBe(201);
    await waitFor(() => sub.videoPackets > 10, 10_000, 'video at the viewer');

    const room = t.sfu.rooms.room('memory')!;
    const session = room.sessions().find((s) => s.kind === 'subscriber') as SubscriberSession;
    const client = dtlsState(session.pc);
    expect(client.sessionType).toBe(1); // the SFU is the viewer's DTLS client
    expect(Object.keys(client.dtls.handshakeCache)).toEqual([]);
    expect(client.dtls.lastFlight).toEqual([]);
    expect(client.dtls.lastMessage).toEqual([]);
    expect(client.flight5).toBeUndefined();
    // The session's keys live outside Node's shared pool, and werift's unused HMAC objects are gone.
    const transport = session.pc.getTransceivers().find((x) => x.sender.dtlsTransport)!.sender
      .dtlsTransport as unknown as {
      srtp: { localContext: Record<string, unknown>; remoteContext: Record<string, unknown> };
      srtcp: { localContext: Record<string, unknown>; remoteContext: Record<string, unknown> };
      dtls: { cipher: { masterSecret: Buffer } };
    };
    const contexts = [transport.srtp, transport.srtcp].flatMap((x) => [x.localContext, x.remoteContext]);
    const keys = contexts.flatMap((c) => [c.srtpSessionKey, c.srtpSessionSalt, c.srtcpSessionKey, c.masterKey]);
    keys.push(transport.dtls.cipher.masterSecret);
    for (const key of keys) expect(isPooled(key as Buffer)).toBe(false);
    for (const c of contexts) expect([c.srtpSessionAuth, c.srtcpSessionAuth]).toEqual([undefined, undefined]);
    // The publisher's transport (the SFU is its DTLS server) keeps its last flight to answer a retransmitted flight 5.
    const server = dtlsState(room.publisher!.pc);
    expect(server.dtls.lastMessage.length).toBeGreaterThan(0);

    // Media and NACKs work as before on the released transport.
    const [ssrc] = [...sub.ssrcs];
    const lost = sub.videoSeqs.slice(-2);
    const before = sub.videoSeqs.length;
    const video = sub.pc.getTransceivers().find((x) => x.kind === 'video')!;
    await video.receiver.dtlsTransport.sendRtcp([
      new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: ssrc!, lost }) }),
    ]);
    await waitFor(
      () => lost.every((s) => sub.videoSeqs.slice(before).includes(s)),
      5000,
      'the lost packets sent again',
    );
    await sub.close();
    await pub.close();
  }, 30_000);

  it('leaves a DTLS client alone while its handshake is under way, and a DTLS server always', () => {
    const socket = (sessionType: number, connected: boolean, flight: number) => ({
      dtls: {
        sessionType,
        connected,
        flight5: {},
        bufferFragmentedHandshakes: [],
        dtls: { flight, handshakeCache: { 1: {} }, lastFlight: [{}], lastMessage: [Buffer.alloc(1)] },
      },
    });
    const handshaking = socket(1, false, 5);
    expect(releaseDtlsHandshakeState(handshaking as never)).toBe(false);
    expect(handshaking.dtls.dtls.lastMessage).toHaveLength(1);
    const server = socket(2, true, 6);
    expect(releaseDtlsHandshakeState(server as never)).toBe(false);
    expect(server.dtls.dtls.lastMessage).toHaveLength(1);
    const connected = socket(1, true, 7);
    expect(releaseDtlsHandshakeState(connected as never)).toBe(true);
    expect(connected.dtls.dtls.lastMessage).toHaveLength(0);
    expect(releaseDtlsHandshakeState(undefined)).toBe(false);
  });
});
