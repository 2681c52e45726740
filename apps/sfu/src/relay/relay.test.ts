import { randomUUID } from 'node:crypto';
import { signInternalRequest } from '@fusionflow/kit';
import { GRANT_AUDIENCE, GRANT_ISSUER, RELAY_PATH } from '@fusionflow/protocol';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PictureLossIndication, RtcpPayloadSpecificFeedback } from 'werift';
import { startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from '../test-peers.js';
import { RelayMessage } from './relay-wire.js';

const SECRET = 'relay-test-secret-0123456789abcdef';
const udpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWRAP').length;

describe('relays: a room’s viewers on another node, fed from its origin', () => {
  let origin: TestSfu;
  let edge: TestSfu;
  let privateKey: CryptoKey;
  let baseline = 0;
  beforeAll(async () => {
    baseline = udpSockets();
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    privateKey = pair.privateKey;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' }] });
    origin = await startTestSfu({ jwks, internalSecret: SECRET, nodeId: 'node-a', disconnectGraceSeconds: 1 });
    edge = await startTestSfu({ jwks, internalSecret: SECRET, nodeId: 'node-b', disconnectGraceSeconds: 1 });
  });
  afterAll(async () => {
    await edge.close();
    await origin.close();
  });

  const grant = (room: string, role: 'publish' | 'subscribe', relay?: boolean) =>
    new SignJWT({ room, role, ...(relay ? { relay: { node: 'node-a', url: origin.url } } : {}) })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer(GRANT_ISSUER)
      .setAudience(GRANT_AUDIENCE)
      .setSubject(`user-${randomUUID()}`)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime('5m')
      .sign(privateKey);

  const publish = async (room: string) => {
    const pub = new TestPublisher();
    expect((await pub.publish(origin.url, room, await grant(room, 'publish'))).status).toBe(201);
    await pub.connected();
    pub.start();
    return pub;
  };
  const playOnEdge = async (room: string) => {
    const sub = new TestSubscriber();
    const res = await sub.play(edge.url, room, await grant(room, 'subscribe', true));
    expect(res.status, res.body).toBe(201);
    return sub;
  };

  /** Leave as a player does (WHEP DELETE), then close the peer. */
  const leave = async (base: string, peer: TestSubscriber | TestPublisher) => {
    if (peer.location) await fetch(`${base}${peer.location}`, { method: 'DELETE' });
    await peer.close();
  };

  it('viewers on the edge get audio and video through one relay; every node counts the whole audience', async () => {
    const pub = await publish('wide');
    const local = new TestSubscriber();
    expect((await local.play(origin.url, 'wide', await grant('wide', 'subscribe'))).status).toBe(201);
    const far = await Promise.all([playOnEdge('wide'), playOnEdge('wide'), playOnEdge('wide')]);
    await waitFor(
      () => [local, ...far].every((s) => s.videoPackets > 20 && s.audioPackets > 10),
      15_000,
      'media everywhere',
    );
    expect(far.every((s) => s.keyframes > 0)).toBe(true);

    const originRoom = origin.sfu.rooms.room('wide')!;
    const edgeRoom = edge.sfu.rooms.room('wide')!;
    expect(originRoom.edgeRelays).toHaveLength(1);
    expect(originRoom.edgeRelays[0]!.edge).toBe('node-b');
    expect(edgeRoom.relayFrom).toBe('node-a');
    expect(edgeRoom.publisher).toBeUndefined();
    await waitFor(() => originRoom.audience === 4 && edgeRoom.audience === 4, 5000, 'the audience summed');
    // The edge's events carry the whole audience, so the control plane's count is the room's.
    const late = await playOnEdge('wide');
    await waitFor(
      () => edge.events.events.some((e) => e.type === 'subscriber_joined' && e.subscribers === 5),
      10_000,
      'an edge event with the whole audience',
    );
    far.push(late);

    // One copy per edge: the origin sends each packet once to the edge, however many viewers it feeds there.
    const relay = originRoom.edgeRelays[0]!;
    const sentBefore = relay.link.sent;
    const packetsBefore = far[0]!.videoPackets;
    await new Promise((r) => setTimeout(r, 1000));
    const relayed = relay.link.sent - sentBefore;
    const perViewer = far[0]!.videoPackets - packetsBefore;
    expect(relayed).toBeLessThan(perViewer * 2 + 10); // video and audio of one copy, not three
    expect(relayed).toBeGreaterThan(perViewer);

    await leave(origin.url, local);
    for (const s of far) await leave(edge.url, s);
    await leave(origin.url, pub);
    await waitFor(() => edge.sfu.rooms.room('wide') === undefined, 10_000, 'the edge room pruned');
  });

  it('a NACK the edge’s cache cannot answer is answered from the origin; a keyframe request reaches the publisher', async () => {
    const pub = await publish('repair');
    const sub = await playOnEdge('repair');
    await waitFor(() => sub.videoPackets > 20, 15_000, 'media');
    const relay = origin.sfu.rooms.room('repair')!.edgeRelays[0]!;

    // The relay loses one video packet on its way to the edge: the edge never has it. The viewer's receiver asks
    // for it (werift NACKs gaps by itself), the edge's cache misses, and the edge asks the origin.
    const videoIndex = relay.tracks.findIndex((t) => t.kind === 'video');
    const send = relay.link.send.bind(relay.link);
    let dropped = -1;
    let resent = false;
    relay.link.send = (plain: Buffer) => {
      const media = plain[0] === RelayMessage.media && plain[1] === videoIndex;
      if (media && (plain[3]! & 2) !== 0 && plain.readUInt16BE(4) === dropped) resent = true;
      else if (media && dropped < 0) {
        dropped = plain.readUInt16BE(4);
        return;
      }
      send(plain);
    };
    await waitFor(() => resent, 5000, 'the origin resending the lost packet to the edge');
    const from = sub.videoSeqs.length;
    await waitFor(() => sub.videoSeqs.length > from + 20, 5000, 'more media');
    // The viewer's sequence has no hole: the lost packet reached it.
    const got = [...new Set(sub.videoSeqs)].sort((a, b) => a - b);
    expect(got.at(-1)! - got[0]! + 1).toBe(got.length);
    const video = sub.pc.getTransceivers().find((x) => x.kind === 'video')!;

    const plis = pub.plis;
    await new Promise((r) => setTimeout(r, 1100)); // past the keyframe throttle
    // A PLI as a browser sends it (werift's own receiver would name an SSRC the SFU's router gives to a receiver).
    await video.receiver.dtlsTransport.sendRtcp([
      new RtcpPayloadSpecificFeedback({
        feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc: [...sub.ssrcs][0]! }),
      }),
    ]);
    await waitFor(() => pub.plis > plis, 5000, 'the publisher asked for a keyframe');

    await leave(edge.url, sub);
    await leave(origin.url, pub);
  });

  it('when the publisher goes, the edge’s viewers are told; an edge with no viewers left lets its relay go', async () => {
    const pub = await publish('ending');
    const a = await playOnEdge('ending');
    const b = await playOnEdge('ending');
    await waitFor(() => a.videoPackets > 5 && b.videoPackets > 5, 15_000, 'media');
    const originRoom = origin.sfu.rooms.room('ending')!;
    await leave(edge.url, a);
    await leave(edge.url, b);
    await waitFor(() => originRoom.edgeRelays.length === 0, 10_000, 'the relay let go');
    await waitFor(() => edge.sfu.rooms.room('ending') === undefined, 5000, 'the edge room pruned');

    const c = await playOnEdge('ending');
    await waitFor(() => c.videoPackets > 5, 15_000, 'media again');
    await fetch(`${origin.url}${pub.location}`, { method: 'DELETE' });
    await waitFor(() => edge.sfu.rooms.room('ending') === undefined, 10_000, 'the edge room ended with the publisher');
    expect(edge.events.events.some((e) => e.type === 'subscriber_left' && e.reason === 'publisher_left')).toBe(true);
    await c.close();
    await pub.close();
  });

  it('refuses relay requests that are unsigned, malformed or for a room nobody publishes; a viewer with no origin to relay from gets 409', async () => {
    const body = JSON.stringify({
      room: 'nobody',
      edge: 'node-x',
      host: '127.0.0.1',
      port: 40000,
      key: 'A'.repeat(43),
    });
    const post = (b: string, signed = true) =>
      fetch(`${origin.url}${RELAY_PATH}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(signed ? signInternalRequest(SECRET, 'POST', RELAY_PATH, b) : {}),
        },
        body: b,
      });
    expect((await post(body, false)).status).toBe(401);
    const forged = await fetch(`${origin.url}${RELAY_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signInternalRequest('not-the-secret', 'POST', RELAY_PATH, body),
      },
      body,
    });
    expect(forged.status).toBe(401);
    const bad = JSON.stringify({ room: 'nobody', edge: 'node-x', host: 'evil.example', port: 0, key: 'x' });
    const malformed = await post(bad);
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('validation_failed');
    const none = await post(body);
    expect(none.status).toBe(409);
    expect((await none.json()).error.code).toBe('no_publisher');

    const sub = new TestSubscriber();
    const res = await sub.play(edge.url, 'nobody', await grant('nobody', 'subscribe', true));
    expect(res.status).toBe(409);
    expect(JSON.parse(res.body).error.code).toBe('no_publisher');
    await sub.close();
    expect(edge.sfu.rooms.room('nobody')).toBeUndefined();
  });

  it('leaves no relay socket behind', async () => {
    await waitFor(() => origin.sfu.rooms.roomCount === 0 && edge.sfu.rooms.roomCount === 0, 20_000, 'rooms gone');
    await waitFor(() => udpSockets() <= baseline + 0, 20_000, 'sockets closed');
  });
});
