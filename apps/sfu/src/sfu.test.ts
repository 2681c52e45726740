import { createHmac, randomUUID } from 'node:crypto';
import { signInternalRequest } from '@fusionflow/kit';
import { GRANT_AUDIENCE, GRANT_ISSUER } from '@fusionflow/protocol';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenericNack, RtcpSrPacket, RtcpTransportLayerFeedback } from 'werift';
import { loadSfuConfig } from './config.js';
import { PUBLISHER_STALE_MS } from './room/room.js';
import type { SubscriberSession } from './session/subscriber-session.js';
import { postOffer, startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from './test-peers.js';

const udpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWRAP').length;

async function withPublisher(t: TestSfu, room: string, token?: string) {
  const pub = new TestPublisher();
  const res = await pub.publish(t.url, room, token);
  expect(res.status, res.body).toBe(201);
  await pub.connected();
  pub.start();
  return pub;
}

/** Read server-sent events of a session until `until` says stop. */
async function readEvents(url: string, until: (events: { type: string; [k: string]: unknown }[]) => boolean) {
  const res = await fetch(url);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  const events: { type: string; [k: string]: unknown }[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value);
    let i = buffer.indexOf('\n\n');
    while (i >= 0) {
      const block = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      if (data) events.push(JSON.parse(data.slice(6)));
      i = buffer.indexOf('\n\n');
    }
  }
  await reader.cancel().catch(() => {});
  return events;
}

describe('WHIP and WHEP with werift peers', () => {
  let t: TestSfu;
  beforeAll(async () => {
    t = await startTestSfu({ disconnectGraceSeconds: 1 });
  });
  afterAll(() => t.close());

  it('publishes and plays: 201 with the answer, session URL, ETag and Link headers; media reaches the subscriber', async () => {
    const pub = new TestPublisher();
    const res = await pub.publish(t.url, 'show-1');
    expect(res.status).toBe(201);
    expect(res.contentType).toBe('application/sdp');
    expect(res.body).toMatch(/^v=0/);
    expect(res.location).toMatch(/^\/api\/whip\/sessions\/[A-Za-z0-9_-]{22}$/);
    expect(res.etag).toMatch(/^"[^"]+"$/);
    expect(res.links.some((l) => l.includes('rel="urn:ietf:params:whep:ext:core:server-sent-events"'))).toBe(true);
    await pub.connected();
    pub.start();

    const sub = new TestSubscriber();
    const played = await sub.play(t.url, 'show-1');
    expect(played.status).toBe(201);
    expect(played.location).toMatch(/^\/api\/whep\/sessions\//);
    expect(played.links.some((l) => l.includes('urn:ietf:params:whep:ext:core:layer'))).toBe(true);
    await waitFor(() => sub.videoPackets > 20 && sub.audioPackets > 20, 10_000, 'media at the subscriber');
    // The fast path starts a subscriber on a keyframe, asked for when it joined.
    expect(sub.firstVideoPayload?.[1]).toBe(0);
    expect(pub.plis).toBeGreaterThan(0);
    // One SSRC per stream, and sequence numbers without gaps.
    expect(sub.ssrcs.size).toBe(1);
    const seqs = sub.videoSeqs.slice(0, 20);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1]! + 1) & 0xffff);

    // Layer choice (no simulcast here: accepted, nothing to switch).
    const layer = (body: string) =>
      fetch(`${t.url}${played.location}/layer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    expect((await layer('{"rid":"h"}')).status).toBe(200);
    expect((await layer('{"rid":null}')).status).toBe(200);
    expect((await layer('{"rid":"not a rid!"}')).status).toBe(400);
    // The WHEP draft's body: the video m-line's index (the test subscriber offers video first), no rid = automatic.
    expect((await layer('{"mediaId":"0","spatialLayerId":0,"temporalLayerId":1}')).status).toBe(200);
    expect((await layer('{"mediaId":"0","maxHeight":360}')).status).toBe(200);
    expect((await layer('{"mediaId":"1","rid":"h"}')).status).toBe(400);
    expect((await layer('{"rid":"h","extra":true}')).status).toBe(400);
    // The draft's names for the same choice: `encodingId` is the rid; spatial/temporal layers are taken (not SVC here).
    const session = t.sfu.rooms.session(played.location!.split('/').pop()!) as SubscriberSession;
    const chosen: (string | null)[] = [];
    const setLayer = session.setLayer.bind(session);
    session.setLayer = (rid) => {
      chosen.push(rid);
      setLayer(rid);
    };
    expect((await layer('{"mediaId":"0","encodingId":"h","spatialLayer":0,"temporalLayer":1}')).status).toBe(200);
    expect((await layer('{"rid":"h","encodingId":"l"}')).status).toBe(400);
    // whep.js's unselectLayer: DELETE, back to automatic.
    expect((await fetch(`${t.url}${played.location}/layer`, { method: 'DELETE' })).status).toBe(200);
    expect(chosen).toEqual(['h', null]);

    await waitFor(() => t.events.types().includes('subscriber_joined'), 5000, 'joined event');
    expect(t.events.events.find((e) => e.type === 'publisher_started')).toMatchObject({
      room: 'show-1',
      subscribers: 0,
    });
    expect(t.events.events.find((e) => e.type === 'subscriber_joined')).toMatchObject({
      room: 'show-1',
      subscribers: 1,
    });

    // Subscriber leaves with DELETE: gone from the room, reported, nothing else touched.
    const del = await fetch(`${t.url}${sub.location}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(t.sfu.rooms.room('show-1')?.subscriberCount).toBe(0);
    await waitFor(() => t.events.types().includes('subscriber_left'), 5000, 'left event');
    expect((await fetch(`${t.url}${sub.location}`, { method: 'DELETE' })).status).toBe(404);
    await sub.close();

    // Publisher leaves: the room is pruned.
    expect((await fetch(`${t.url}${pub.location}`, { method: 'DELETE' })).status).toBe(200);
    await pub.close();
    expect(t.sfu.rooms.room('show-1')).toBeUndefined();
    expect(t.events.types().at(-1)).toBe('publisher_stopped');
  });

  it('answers NACKs from the retransmission cache and sends sender reports', async () => {
    const pub = await withPublisher(t, 'nack');
    const sub = new TestSubscriber();
    expect((await sub.play(t.url, 'nack')).status).toBe(201);
    await waitFor(() => sub.videoPackets > 10, 10_000, 'media');
    const video = sub.pc.getTransceivers().find((x) => x.kind === 'video')!;
    const reports: RtcpSrPacket[] = [];
    video.receiver.dtlsTransport.onRtcp.subscribe((p) => {
      if (p instanceof RtcpSrPacket) reports.push(p);
    });
    const [ssrc] = [...sub.ssrcs];
    const lost = sub.videoSeqs.slice(-3);
    const before = sub.videoSeqs.length;
    await video.receiver.dtlsTransport.sendRtcp([
      new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: ssrc!, lost }) }),
    ]);
    const room = t.sfu.rooms.room('nack')!;
    await waitFor(
      () => {
        room.metrics.flush();
        return room.metrics.totals.retransmitted >= lost.length;
      },
      5000,
      'retransmissions',
    );
    expect(room.metrics.totals.nacks).toBeGreaterThan(0);
    // The resent packets arrive again, with their original (rewritten) sequence numbers.
    await waitFor(
      () => lost.every((s) => sub.videoSeqs.slice(before).filter((x) => x === s).length >= 1),
      5000,
      'resent',
    );
    await waitFor(() => reports.some((r) => r.ssrc === ssrc), 5000, 'a sender report');
    const sr = reports.find((r) => r.ssrc === ssrc)!;
    expect(sr.senderInfo.packetCount).toBeGreaterThan(0);
    await sub.close();
    await pub.close();
  });

  it('tells subscribers when the publisher goes, closes them and prunes the room', async () => {
    const pub = await withPublisher(t, 'ending');
    const sub = new TestSubscriber();
    const played = await sub.play(t.url, 'ending');
    await waitFor(() => sub.videoPackets > 5, 10_000, 'media');
    const events = readEvents(`${t.url}${played.location}/events`, (e) => e.some((x) => x.type === 'ended'));
    await new Promise((r) => setTimeout(r, 100));
    await fetch(`${t.url}${pub.location}`, { method: 'DELETE' });
    const seen = await events;
    expect(seen.find((e) => e.type === 'viewers')).toMatchObject({ count: 1 });
    expect(seen.at(-1)).toEqual({ type: 'ended', reason: 'publisher_left' });
    expect(t.sfu.rooms.room('ending')).toBeUndefined();
    expect((await fetch(`${t.url}${played.location}`, { method: 'DELETE' })).status).toBe(404);
    await sub.close();
    await pub.close();
  });

  it('closes a session whose peer vanishes, after the disconnect grace period', async () => {
    const pub = await withPublisher(t, 'vanish');
    const sub = new TestSubscriber();
    await sub.play(t.url, 'vanish');
    await waitFor(() => sub.videoPackets > 5, 10_000, 'media');
    await sub.close(); // no DELETE: the SFU notices on its own
    await waitFor(() => t.sfu.rooms.room('vanish')?.subscriberCount === 0, 20_000, 'subscriber closed');
    await pub.close();
    await waitFor(() => t.sfu.rooms.room('vanish') === undefined, 20_000, 'room pruned');
  });

  it('trickles candidates with PATCH and restarts ICE with new credentials', async () => {
    const pub = await withPublisher(t, 'ice');
    const frag =
      'a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n';
    const session = t.sfu.rooms.session(pub.location!.split('/').pop()!)!;
    const etag = session.etag;
    const trickle = await fetch(`${t.url}${pub.location}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': etag },
      body: 'a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n',
    });
    expect(trickle.status).toBe(204);
    const stale = await fetch(`${t.url}${pub.location}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '"other"' },
      body: 'a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n',
    });
    expect(stale.status).toBe(412);
    expect((await stale.json()).error.code).toBe('precondition_failed');
    const wrongType = await fetch(`${t.url}${pub.location}`, {
      method: 'PATCH',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(wrongType.status).toBe(415);
    const restart = await fetch(`${t.url}${pub.location}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '*' },
      body: frag,
    });
    expect(restart.status).toBe(200);
    expect(restart.headers.get('content-type')).toBe('application/trickle-ice-sdpfrag');
    const answer = await restart.text();
    expect(answer).toMatch(/a=ice-ufrag:/);
    expect(answer).toMatch(/a=candidate:/);
    expect(restart.headers.get('etag')).not.toBe(etag);
    await fetch(`${t.url}${pub.location}`, { method: 'DELETE' });
    await pub.close();
  });

  it('answers CORS preflights and advertises what it accepts', async () => {
    const pre = await fetch(`${t.url}/api/whip/publish/any`, {
      method: 'OPTIONS',
      headers: { origin: 'https://encoder.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('accept-post')).toBe('application/sdp');
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
    const session = await fetch(`${t.url}/api/whep/sessions/x`, { method: 'OPTIONS' });
    expect(session.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
  });
});

describe('WHIP/WHEP errors', () => {
  let t: TestSfu;
  let offer: string;
  beforeAll(async () => {
    t = await startTestSfu({ maxSubscribersPerRoom: 1, maxSdpBytes: 8192, authToken: 'global-secret-token' });
    const p = new TestPublisher();
    offer = await p.offer();
    await p.close();
  });
  afterAll(() => t.close());
  const auth = 'global-secret-token';

  const expectError = async (res: Response | Promise<Response>, status: number, code: string) => {
    const r = await res;
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect((await r.json()).error.code).toBe(code);
  };
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${auth}`, ...headers },
      body,
    });

  it('400 for malformed SDP and bad room names, and leaves no room behind', async () => {
    await expectError(post('/api/whip/publish/bad-sdp', 'hello'), 400, 'invalid_sdp');
    await expectError(
      post('/api/whip/publish/bad-sdp', 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n'),
      400,
      'invalid_sdp',
    );
    await expectError(post('/api/whip/publish/bad-sdp', ''), 400, 'invalid_sdp');
    await expectError(post(`/api/whip/publish/${'x'.repeat(65)}`, offer), 400, 'bad_request');
    await expectError(post('/api/whip/publish/bad.room', offer), 400, 'bad_request');
    // Over the router's parameter limit: the same error shape, not the framework's own body.
    await expectError(post(`/api/whip/publish/${'x'.repeat(300)}`, offer), 400, 'validation_failed');
    await expectError(
      fetch(`${t.url}/api/whep/sessions/${'x'.repeat(300)}`, { method: 'DELETE' }),
      400,
      'validation_failed',
    );
    expect(t.sfu.rooms.roomCount).toBe(0);
  });

  it('401 without or with wrong credentials', async () => {
    await expectError(post('/api/whip/publish/r', offer, { authorization: '' }), 401, 'unauthorized');
    await expectError(post('/api/whip/publish/r', offer, { authorization: 'Bearer nope' }), 401, 'unauthorized');
  });

  it('413 for an SDP larger than allowed, 415 for another content type', async () => {
    await expectError(post('/api/whip/publish/r', `${offer}${'a=x\r\n'.repeat(3000)}`), 413, 'payload_too_large');
    await expectError(
      post('/api/whip/publish/r', offer, { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    await expectError(
      post('/api/whip/publish/r', JSON.stringify({ sdp: offer }), { 'content-type': 'application/json' }),
      415,
      'unsupported_media_type',
    );
  });

  it('409 with Retry-After to play a room nobody publishes to (the WHEP draft); 409 for a second publisher; 403 when the room is full', async () => {
    const empty = await post('/api/whep/play/empty', offer);
    expect(empty.headers.get('retry-after')).toBe('2');
    await expectError(empty, 409, 'no_publisher');
    const pub = await withPublisher(t, 'busy', auth);
    const second = new TestPublisher();
    await expectError(post('/api/whip/publish/busy', await second.offer()), 409, 'publisher_exists');
    await second.close();
    const s1 = new TestSubscriber();
    expect((await s1.play(t.url, 'busy', auth)).status).toBe(201);
    const s2 = new TestSubscriber();
    await expectError(post('/api/whep/play/busy', await s2.offer()), 403, 'room_full');
    await s2.close();
    await s1.close();
    await pub.close();
    await t.sfu.rooms.closeRoom('busy');
  });

  it('429 when a client sends too many requests', async () => {
    const limited = await startTestSfu({ rateLimitPerMinute: 2 });
    try {
      const go = () =>
        fetch(`${limited.url}/api/whep/play/x`, {
          method: 'POST',
          headers: { 'content-type': 'application/sdp' },
          body: offer,
        });
      await go();
      await go();
      const third = await go();
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await third.json()).error.code).toBe('rate_limited');
    } finally {
      await limited.close();
    }
  });

  it('believes X-Forwarded-For only from trusted proxies (SFU_TRUST_PROXY), and then only what they appended', async () => {
    const direct = await startTestSfu({ rateLimitPerMinute: 2 });
    const proxied = await startTestSfu({ rateLimitPerMinute: 2, trustProxy: ['127.0.0.1'] });
    try {
      const go = (base: string, forwardedFor: string) =>
        fetch(`${base}/api/whep/play/x`, {
          method: 'POST',
          headers: { 'content-type': 'application/sdp', 'x-forwarded-for': forwardedFor },
          body: offer,
        });
      // By default nothing is believed: a fresh header each time does not escape the limit.
      const off = [];
      for (let i = 0; i < 3; i++) off.push((await go(direct.url, `198.51.100.${i}`)).status);
      expect(off[2]).toBe(429);
      // Behind a trusted proxy, the address it appended counts, not what the client wrote before it.
      const behind = [];
      for (let i = 0; i < 3; i++) behind.push((await go(proxied.url, `198.51.100.${i}, 203.0.113.7`)).status);
      expect(behind[2]).toBe(429);
      expect((await go(proxied.url, '203.0.113.7, 203.0.113.8')).status).not.toBe(429);
    } finally {
      await direct.close();
      await proxied.close();
    }
  });

  it('refuses SFU_TRUST_PROXY=true at start-up with a message saying what to set', () => {
    expect(() => loadSfuConfig({ SFU_TRUST_PROXY: 'true' })).toThrow(/SFU_TRUST_PROXY: `true` \(trust every hop\)/);
    expect(loadSfuConfig({ SFU_TRUST_PROXY: 'loopback' }).trustProxy).toEqual(['loopback']);
    expect(loadSfuConfig({}).trustProxy).toBe(false);
  });
});

describe('authorization', () => {
  let offer: string;
  beforeAll(async () => {
    const p = new TestPublisher();
    offer = await p.offer();
    await p.close();
  });
  const status = (url: string, path: string, token?: string) =>
    postOffer(`${url}${path}`, offer, token).then((r) => ({
      status: r.status,
      code: r.body.startsWith('{') ? JSON.parse(r.body).error.code : undefined,
    }));

  it('keeps seed 004’s order: room token, then global token, then JWT', async () => {
    const t = await startTestSfu({
      roomTokens: { alpha: 'alpha-token' },
      authToken: 'global-token',
      jwtSecret: 'a-jwt-secret-that-is-long-enough-for-hs256',
    });
    try {
      // A token opens a session; publishing to an empty room needs no publisher, playing does (409 no_publisher: authorized, nobody live).
      expect((await status(t.url, '/api/whep/play/alpha', 'alpha-token')).status).toBe(409);
      expect((await status(t.url, '/api/whep/play/beta', 'alpha-token')).status).toBe(401);
      expect((await status(t.url, '/api/whep/play/beta', 'global-token')).status).toBe(409);
      expect((await status(t.url, '/api/whep/play/alpha', 'global-token')).status).toBe(409);
      const key = new TextEncoder().encode('a-jwt-secret-that-is-long-enough-for-hs256');
      const jwt = await new SignJWT({ room: 'beta', role: 'subscribe' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1m')
        .sign(key);
      expect((await status(t.url, '/api/whep/play/beta', jwt)).status).toBe(409);
      expect((await status(t.url, '/api/whip/publish/beta', jwt)).code).toBe('forbidden');
      expect((await status(t.url, '/api/whep/play/gamma', jwt)).code).toBe('forbidden');
      expect((await status(t.url, '/api/whep/play/beta')).code).toBe('unauthorized');
    } finally {
      await t.close();
    }
  });

  it('executes grants verified with the JWKS: room, role and expiry', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' };
    const t = await startTestSfu({ jwks: JSON.stringify({ keys: [jwk] }) });
    const grant = (claims: { room: string; role: string }, exp: string | number = '5m', iss = GRANT_ISSUER) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
        .setIssuer(iss)
        .setAudience(GRANT_AUDIENCE)
        .setSubject('user-1')
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(exp)
        .sign(privateKey);
    try {
      const pub = new TestPublisher();
      const res = await pub.publish(t.url, 'granted', await grant({ room: 'granted', role: 'publish' }));
      expect(res.status).toBe(201);
      await pub.connected();
      expect(t.sfu.rooms.room('granted')!.publisher!.userId).toBe('user-1');
      expect(
        (await status(t.url, '/api/whip/publish/other', await grant({ room: 'granted', role: 'publish' }))).code,
      ).toBe('forbidden');
      const sub = await grant({ room: 'granted', role: 'subscribe' });
      const subRes = await status(t.url, '/api/whip/publish/granted2', sub.replace('granted', 'granted'));
      expect(subRes.status).toBe(403);
      expect((await status(t.url, '/api/whip/publish/g3', await grant({ room: 'g3', role: 'subscribe' }))).code).toBe(
        'forbidden',
      );
      expect((await status(t.url, '/api/whep/play/granted', sub)).status).toBe(201);
      const expired = await grant({ room: 'granted', role: 'subscribe' }, Math.floor(Date.now() / 1000) - 60);
      expect(await status(t.url, '/api/whep/play/granted', expired)).toEqual({ status: 401, code: 'token_expired' });
      const foreign = await grant({ room: 'granted', role: 'subscribe' }, '5m', 'someone-else');
      expect((await status(t.url, '/api/whep/play/granted', foreign)).code).toBe('unauthorized');
      const otherKey = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const forged = await new SignJWT({ room: 'granted', role: 'subscribe' })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
        .setIssuer(GRANT_ISSUER)
        .setAudience(GRANT_AUDIENCE)
        .setSubject('x')
        .setIssuedAt()
        .setJti('j')
        .setExpirationTime('5m')
        .sign(otherKey.privateKey);
      expect((await status(t.url, '/api/whep/play/granted', forged)).code).toBe('unauthorized');
      await pub.close();
    } finally {
      await t.close();
    }
  });

  it('is open only when nothing is configured', async () => {
    const t = await startTestSfu();
    try {
      expect(t.sfu.auth.open).toBe(true);
      expect((await status(t.url, '/api/whep/play/free')).status).toBe(409);
    } finally {
      await t.close();
    }
  });
});

describe('grants: one live session per grant, ICE servers from the grant', () => {
  let t: TestSfu;
  let privateKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' };
    t = await startTestSfu({ jwks: JSON.stringify({ keys: [jwk] }), stunUrls: ['stun:sfu-own.example:3478'] });
  });
  afterAll(() => t.close());
  const grant = (room: string, role: 'publish' | 'subscribe', extra: Record<string, unknown> = {}) =>
    new SignJWT({ room, role, ...extra })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer(GRANT_ISSUER)
      .setAudience(GRANT_AUDIENCE)
      .setSubject(typeof extra.sub === 'string' ? extra.sub : 'viewer-1')
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime('5m')
      .sign(privateKey);
  const sessionIdOf = (sub: TestSubscriber) => sub.location!.split('/').pop()!;

  it('a second WHEP POST with the same grant replaces the first session; a burst leaves one', async () => {
    const pub = await withPublisher(t, 'one-grant', await grant('one-grant', 'publish'));
    const room = t.sfu.rooms.room('one-grant')!;
    const token = await grant('one-grant', 'subscribe');
    const first = new TestSubscriber();
    expect((await first.play(t.url, 'one-grant', token)).status).toBe(201);
    await waitFor(() => first.videoPackets > 5, 10_000, 'media at the first session');
    const firstEvents = readEvents(`${t.url}${first.location}/events`, (e) => e.some((x) => x.type === 'ended'));

    // The viewer reloads the page: the same grant, a new peer connection.
    const second = new TestSubscriber();
    expect((await second.play(t.url, 'one-grant', token)).status).toBe(201);
    expect((await firstEvents).at(-1)).toEqual({ type: 'ended', reason: 'replaced' });
    expect(t.sfu.rooms.session(sessionIdOf(first))).toBeUndefined();
    await waitFor(() => second.videoPackets > 5, 10_000, 'media at the new session');
    expect(room.subscriberCount).toBe(1);

    // Many POSTs at once with that one grant: every one is answered, one session stays.
    const burst = Array.from({ length: 8 }, () => new TestSubscriber());
    const answers = await Promise.all(burst.map((b) => b.play(t.url, 'one-grant', token)));
    expect(answers.map((a) => a.status)).toEqual(burst.map(() => 201));
    await waitFor(() => room.subscriberCount === 1, 5000, 'one session left');
    const live = room.info().subscribers;
    expect(live).toHaveLength(1);
    expect(burst.map(sessionIdOf)).toContain(live[0]!.id);
    expect(t.events.events.some((e) => e.type === 'subscriber_left' && e.reason === 'replaced')).toBe(true);

    // Another grant of the same viewer (a second tab asked for its own) is a session of its own.
    const other = new TestSubscriber();
    expect((await other.play(t.url, 'one-grant', await grant('one-grant', 'subscribe'))).status).toBe(201);
    expect(room.subscriberCount).toBe(2);

    // One publisher per room: the same publish grant cannot open a second one.
    const again = new TestPublisher();
    expect((await again.publish(t.url, 'one-grant', await grant('one-grant', 'publish'))).status).toBe(409);
    for (const p of [first, second, ...burst, other, again]) await p.close();
    await pub.close();
    await t.sfu.rooms.closeRoom('one-grant');
  });

  it('a publisher that went silent is replaced by the same user’s new session (a reloaded studio); never while it sends, never by someone else', async () => {
    const pub = await withPublisher(t, 'comeback', await grant('comeback', 'publish', { sub: 'streamer-1' }));
    const viewer = new TestSubscriber();
    expect((await viewer.play(t.url, 'comeback', await grant('comeback', 'subscribe'))).status).toBe(201);
    await waitFor(() => viewer.videoPackets > 5, 10_000, 'media');
    const oldId = t.sfu.rooms.room('comeback')!.publisher!.id;
    const publishAs = async (sub: string) => {
      const p = new TestPublisher();
      const res = await p.publish(t.url, 'comeback', await grant('comeback', 'publish', { sub }));
      return { p, res };
    };

    // While the publisher sends, not even its own user replaces it; someone else never does.
    const early = await publishAs('streamer-1');
    expect(early.res.status).toBe(409);
    expect(JSON.parse(early.res.body).error.code).toBe('publisher_exists');

    // Its page goes away without a DELETE or a DTLS close: the peer connection lingers, no media comes.
    pub.stop();
    await new Promise((r) => setTimeout(r, PUBLISHER_STALE_MS + 500));
    const intruder = await publishAs('someone-else');
    expect(intruder.res.status).toBe(409);
    expect(t.sfu.rooms.room('comeback')!.publisher!.id).toBe(oldId);

    const back = await publishAs('streamer-1');
    expect(back.res.status, back.res.body).toBe(201);
    expect(t.sfu.rooms.session(oldId)).toBeUndefined();
    expect(t.events.events.some((e) => e.type === 'publisher_stopped' && e.reason === 'replaced')).toBe(true);
    await back.p.connected();
    back.p.start();
    const again = new TestSubscriber();
    expect((await again.play(t.url, 'comeback', await grant('comeback', 'subscribe'))).status).toBe(201);
    await waitFor(() => again.videoPackets > 5, 10_000, 'media of the new session');
    for (const p of [viewer, again, early.p, intruder.p, back.p, pub]) await p.close();
    await t.sfu.rooms.closeRoom('comeback');
  });

  it('announces the ICE servers the grant carries (TURN credentials included), not its own', async () => {
    const pub = await withPublisher(t, 'ice-room', await grant('ice-room', 'publish'));
    const ice = [
      { urls: ['stun:stun.example.net:3478'] },
      {
        urls: ['turn:turn.example.net:3478?transport=udp', 'turns:turn.example.net:5349'],
        username: '1900000000:viewer-1',
        credential: 'bWludGVkIGJ5IHRoZSBjb250cm9sIHBsYW5l',
      },
    ];
    const withIce = new TestSubscriber();
    const played = await withIce.play(t.url, 'ice-room', await grant('ice-room', 'subscribe', { ice }));
    expect(played.status).toBe(201);
    const iceLinks = played.links.filter((l) => l.includes('rel="ice-server"'));
    expect(iceLinks).toEqual([
      '<stun:stun.example.net:3478>; rel="ice-server"',
      '<turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="1900000000:viewer-1"; credential="bWludGVkIGJ5IHRoZSBjb250cm9sIHBsYW5l"; credential-type="password"',
      '<turns:turn.example.net:5349>; rel="ice-server"; username="1900000000:viewer-1"; credential="bWludGVkIGJ5IHRoZSBjb250cm9sIHBsYW5l"; credential-type="password"',
    ]);
    // A grant without ICE servers (a guest's, with no STUN configured upstream): the SFU's STUN only.
    const plain = new TestSubscriber();
    const plainPlayed = await plain.play(t.url, 'ice-room', await grant('ice-room', 'subscribe'));
    expect(plainPlayed.links.filter((l) => l.includes('rel="ice-server"'))).toEqual([
      '<stun:sfu-own.example:3478>; rel="ice-server"',
    ]);
    // A grant whose ICE servers are not what the protocol allows is no grant.
    const bad = await postOffer(
      `${t.url}/api/whep/play/ice-room`,
      await new TestSubscriber().offer(),
      await grant('ice-room', 'subscribe', { ice: [{ urls: 42 }] }),
    );
    expect(bad.status).toBe(401);
    for (const p of [withIce, plain]) await p.close();
    await pub.close();
    await t.sfu.rooms.closeRoom('ice-room');
  });

  it('holds a TURN secret only when standalone and authenticated, and says so', async () => {
    const jwks = t.sfu.config.jwks!;
    await expect(startTestSfu({ jwks, turnSecret: 'coturn-secret', turnUrls: ['turn:x:3478'] })).rejects.toThrow(
      /standalone SFU only/,
    );
    await expect(
      startTestSfu({ controlUrl: 'http://127.0.0.1:9', internalSecret: 'x'.repeat(32), turnSecret: 'coturn-secret' }),
    ).rejects.toThrow(/standalone SFU only/);
    await expect(startTestSfu({ turnSecret: 'coturn-secret' })).rejects.toThrow(/without authentication/);
    const standalone = await startTestSfu({
      authToken: 'standalone-token',
      turnSecret: 'coturn-secret',
      turnUrls: ['turn:127.0.0.1:3478'],
    });
    try {
      const pub = new TestPublisher();
      const res = await pub.publish(standalone.url, 'solo', 'standalone-token');
      expect(res.status).toBe(201);
      const turn = res.links.find((l) => l.startsWith('<turn:'))!;
      const [, username, credential] = /username="([^"]+)"; credential="([^"]+)"/.exec(turn)!;
      expect(credential).toBe(createHmac('sha1', 'coturn-secret').update(username!).digest('base64'));
      await pub.close();
    } finally {
      await standalone.close();
    }
  });
});

describe('admin API', () => {
  const secret = 'an-internal-secret-of-at-least-32-chars';
  let t: TestSfu;
  beforeAll(async () => {
    t = await startTestSfu({ internalSecret: secret });
  });
  afterAll(() => t.close());

  const call = (method: string, path: string, headers?: Record<string, string>) =>
    fetch(`${t.url}${path}`, { method, headers: headers ?? signInternalRequest(secret, method, path, '') });

  it('lists rooms and sessions, kicks a session, closes a room; refuses unsigned and stale calls', async () => {
    const pub = await withPublisher(t, 'admin-room');
    const sub = new TestSubscriber();
    const played = await sub.play(t.url, 'admin-room');
    await waitFor(() => sub.videoPackets > 3, 10_000, 'media');
    const list = await (await call('GET', '/api/admin/rooms')).json();
    expect(list.rooms).toHaveLength(1);
    expect(list.rooms[0].publisher.kind).toBe('publisher');
    expect(list.rooms[0].subscribers).toHaveLength(1);
    expect((await call('GET', '/api/admin/rooms', {})).status).toBe(401);
    expect(
      (
        await call(
          'GET',
          '/api/admin/rooms',
          signInternalRequest(secret, 'GET', '/api/admin/rooms', '', Date.now() - 120_000),
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await call(
          'GET',
          '/api/admin/rooms',
          signInternalRequest('another-secret-another-secret-xx', 'GET', '/api/admin/rooms', ''),
        )
      ).status,
    ).toBe(401);
    const id = played.location!.split('/').pop()!;
    expect((await call('DELETE', `/api/admin/sessions/${id}`)).status).toBe(200);
    expect(t.sfu.rooms.room('admin-room')!.subscriberCount).toBe(0);
    expect((await call('DELETE', `/api/admin/sessions/${id}`)).status).toBe(404);
    expect((await call('DELETE', '/api/admin/rooms/admin-room')).status).toBe(200);
    expect(t.sfu.rooms.room('admin-room')).toBeUndefined();
    expect((await call('DELETE', '/api/admin/rooms/admin-room')).status).toBe(404);
    await sub.close();
    await pub.close();
  });

  it('serves /healthz and the live_* metrics', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    const pub = await withPublisher(t, 'metered');
    const sub = new TestSubscriber();
    await sub.play(t.url, 'metered');
    await waitFor(() => sub.videoPackets > 5, 10_000, 'media');
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/^live_rooms 1$/m);
    expect(text).toMatch(/^live_subscribers\{room="metered"\} 1$/m);
    expect(text).toMatch(/^live_rtp_packets_total\{room="metered"\} [1-9]\d*$/m);
    expect(text).toMatch(/^live_rtp_bytes_total\{room="metered"\} [1-9]\d*$/m);
    expect(text).toMatch(/^live_plis_total\{room="metered"\} [1-9]\d*$/m);
    for (const name of ['live_nacks_total', 'live_dropped_packets_total', 'live_rtp_forwarded_packets_total']) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
    await sub.close();
    await pub.close();
    await t.sfu.rooms.closeRoom('metered');
  });
});

describe('grant revocation (admin API)', () => {
  const secret = 'an-internal-secret-of-at-least-32-chars';
  let t: TestSfu;
  let privateKey: CryptoKey;
  const closing: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' };
    t = await startTestSfu({ internalSecret: secret, jwks: JSON.stringify({ keys: [jwk] }) });
  });
  afterAll(async () => {
    for (const c of closing) await c.close();
    await t.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const grant = (sub: string, room: string, role: 'publish' | 'subscribe', issuedAt = now()) =>
    new SignJWT({ room, role })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer(GRANT_ISSUER)
      .setAudience(GRANT_AUDIENCE)
      .setSubject(sub)
      .setIssuedAt(issuedAt)
      .setJti(randomUUID())
      .setExpirationTime('5m')
      .sign(privateKey);
  const revoke = (body: unknown, sign = true) => {
    const raw = JSON.stringify(body);
    return fetch(`${t.url}/api/admin/revocations`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(sign ? signInternalRequest(secret, 'POST', '/api/admin/revocations', raw) : {}),
      },
      body: raw,
    });
  };
  const play = async (room: string, token: string) => {
    const sub = new TestSubscriber();
    closing.push(sub);
    return { sub, res: await sub.play(t.url, room, token) };
  };
  const sessionsOf = (userId: string) =>
    t.sfu.rooms
      .list()
      .flatMap((r) => r.subscribers)
      .filter((s) => s.userId === userId)
      .map((s) => s.room)
      .sort();

  it("ends a user's sessions in a room (or everywhere) and refuses the grants they hold", async () => {
    for (const room of ['banned-here', 'elsewhere']) {
      const pub = await withPublisher(t, room, await grant('host', room, 'publish'));
      closing.push(pub);
    }
    // Two tabs on the room they get banned from (a grant each: one grant opens one session), one on
    // another room; and someone else watching.
    const held = [
      await grant('fan', 'banned-here', 'subscribe', now() - 20),
      await grant('fan', 'banned-here', 'subscribe', now() - 20),
    ];
    const tabs: [string, string][] = [
      ['banned-here', held[0]!],
      ['banned-here', held[1]!],
      ['elsewhere', await grant('fan', 'elsewhere', 'subscribe')],
    ];
    for (const [room, token] of tabs) expect((await play(room, token)).res.status).toBe(201);
    expect((await play('banned-here', await grant('bystander', 'banned-here', 'subscribe'))).res.status).toBe(201);
    expect(sessionsOf('fan')).toEqual(['banned-here', 'banned-here', 'elsewhere']);

    expect((await revoke({ userId: 'fan', room: 'banned-here', issuedBefore: now() - 10 }, false)).status).toBe(401);
    expect((await (await revoke({ userId: 'fan', room: 'banned-here' })).json()).error.code).toBe('validation_failed');
    const res = await revoke({ userId: 'fan', room: 'banned-here', issuedBefore: now() - 10 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ kicked: 2 });
    // Closed by the time the call answers: nothing to wait for.
    expect(sessionsOf('fan')).toEqual(['elsewhere']);
    expect(sessionsOf('bystander')).toEqual(['banned-here']);

    // The grant they still hold no longer opens the room; a grant issued after (an unban) does.
    const again = await play('banned-here', held[0]!);
    expect(again.res.status).toBe(403);
    expect(JSON.parse(again.res.body).error.code).toBe('grant_revoked');
    expect((await play('banned-here', await grant('fan', 'banned-here', 'subscribe'))).res.status).toBe(201);

    // Everywhere (a platform suspension): every session of the user, in every room.
    const all = await revoke({ userId: 'fan', issuedBefore: now() });
    expect(await all.json()).toEqual({ kicked: 2 });
    expect(sessionsOf('fan')).toEqual([]);
    const elsewhere = await play('elsewhere', await grant('fan', 'elsewhere', 'subscribe', now() - 1));
    expect(JSON.parse(elsewhere.res.body).error.code).toBe('grant_revoked');
    expect(sessionsOf('bystander')).toEqual(['banned-here']);
  });
});

describe('lifecycle', () => {
  it('opens and closes 200 sessions and leaves no room, session, socket or timer behind', async () => {
    const t = await startTestSfu({ disconnectGraceSeconds: 1, rateLimitPerMinute: 100_000 });
    const baseSockets = udpSockets();
    const baseTimers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    try {
      const pub = await withPublisher(t, 'leak');
      const client = new TestSubscriber();
      const offer = await client.offer();
      await client.close();
      // A few real subscribers that connect and receive media…
      const live: TestSubscriber[] = [];
      for (let i = 0; i < 4; i++) {
        const s = new TestSubscriber();
        expect((await s.play(t.url, 'leak')).status).toBe(201);
        live.push(s);
      }
      await waitFor(() => live.every((s) => s.videoPackets > 0), 15_000, 'live subscribers');
      // …and 195 sessions that are answered and deleted (the same offer, never connected).
      for (let batch = 0; batch < 13; batch++) {
        const created = await Promise.all(
          Array.from({ length: 15 }, () => postOffer(`${t.url}/api/whep/play/leak`, offer)),
        );
        for (const c of created) expect(c.status).toBe(201);
        await Promise.all(created.map((c) => fetch(`${t.url}${c.location}`, { method: 'DELETE' })));
      }
      expect(t.sfu.rooms.sessionCount).toBe(5);
      for (const s of live) await s.close();
      await fetch(`${t.url}${pub.location}`, { method: 'DELETE' });
      await pub.close();
      await waitFor(() => t.sfu.rooms.roomCount === 0 && t.sfu.rooms.sessionCount === 0, 20_000, 'everything closed');
      await waitFor(() => udpSockets() <= baseSockets, 10_000, 'sockets closed');
      expect(udpSockets()).toBeLessThanOrEqual(baseSockets);
      const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      expect(timers).toBeLessThanOrEqual(baseTimers + 10);
    } finally {
      await t.close();
    }
  }, 120_000);
});
