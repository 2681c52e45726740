import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDtls, type RTCPeerConnection } from 'werift';
import { startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from '../test-peers.js';

/**
 * The SFU is the DTLS client of every WHEP viewer. A viewer whose DTLS server answers late (a slow peer, a saturated
 * core) makes the client retransmit its ClientHello before the HelloVerifyRequest arrives; the server answers both
 * copies. Stock werift 0.24 threw on the second HelloVerifyRequest, marked DTLS failed, and the viewer never got a
 * packet. These tests delay every DTLS datagram the viewer sends.
 */
function delayDtlsSends(pc: RTCPeerConnection, delayMs: number): { sent: number } {
  const stats = { sent: 0 };
  const connection = pc.iceTransports[0]!.connection;
  const send = connection.send.bind(connection);
  connection.send = async (data: Buffer) => {
    if (isDtls(data)) {
      stats.sent++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    return send(data);
  };
  return stats;
}

describe('DTLS handshake retransmissions (RFC 6347 §4.2.4)', () => {
  let t: TestSfu;
  let pub: TestPublisher;
  beforeAll(async () => {
    t = await startTestSfu();
    pub = new TestPublisher();
    expect((await pub.publish(t.url, 'slow-dtls')).status).toBe(201);
    await pub.connected();
    pub.start();
  });
  afterAll(async () => {
    await pub.close();
    await t.close();
  });

  it('connects to a viewer whose DTLS server answers both copies of a retransmitted ClientHello, and media flows', async () => {
    const sub = new TestSubscriber();
    const offer = await sub.offer();
    // The viewer offers actpass and the SFU answers active: the viewer is the DTLS server.
    const stats = delayDtlsSends(sub.pc, 800);
    const res = await fetch(`${t.url}/api/whep/play/slow-dtls`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: offer,
    });
    expect(res.status).toBe(201);
    const answer = await res.text();
    expect(answer).toMatch(/a=setup:active/);
    await sub.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    await waitFor(() => sub.videoPackets > 10 && sub.audioPackets > 10, 20_000, 'media through a slow DTLS server');
    // The server did answer a retransmission: more than its two flights (HelloVerifyRequest and flight 4+6) went out.
    expect(stats.sent).toBeGreaterThan(7);
    expect(t.sfu.rooms.room('slow-dtls')?.subscriberCount).toBe(1);
    await sub.close();
  }, 30_000);
});
