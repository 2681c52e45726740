import { randomUUID } from 'node:crypto';
import { GRANT_AUDIENCE, GRANT_ISSUER } from '@fusionflow/protocol';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postOffer, startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from '../test-peers.js';

/** SFU_MAX_VIEWERS: viewers past the budget are refused with 503 sfu_full and Retry-After; publishers never are. */
describe('viewer admission budget (SFU_MAX_VIEWERS)', () => {
  let t: TestSfu;
  let privateKey: CryptoKey;
  let pub: TestPublisher;
  let offer: string;
  const grant = (room: string, role: 'publish' | 'subscribe', jti: string = randomUUID()) =>
    new SignJWT({ room, role })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer(GRANT_ISSUER)
      .setAudience(GRANT_AUDIENCE)
      .setSubject(`user-${jti}`)
      .setIssuedAt()
      .setJti(jti)
      .setExpirationTime('5m')
      .sign(privateKey);
  const play = (token: string, room = 'busy') => postOffer(`${t.url}/api/whep/play/${room}`, offer, token);

  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' };
    t = await startTestSfu({ jwks: JSON.stringify({ keys: [jwk] }), maxViewers: 3, fullRetryAfterSeconds: 7 });
    pub = new TestPublisher();
    expect((await pub.publish(t.url, 'busy', await grant('busy', 'publish'))).status).toBe(201);
    await pub.connected();
    pub.start();
    const probe = new TestSubscriber();
    offer = await probe.offer();
    await probe.close();
  });
  afterAll(async () => {
    await pub.close();
    await t.close();
  });

  it('admits up to the budget, refuses the rest with 503 + Retry-After, keeps the viewers and the publisher', async () => {
    const viewers = [new TestSubscriber(), new TestSubscriber()];
    for (const v of viewers) expect((await v.play(t.url, 'busy', await grant('busy', 'subscribe'))).status).toBe(201);
    await waitFor(() => viewers.every((v) => v.videoPackets > 5), 15_000, 'media at the viewers');

    // One place left, a parallel burst of five: exactly one gets in.
    const burst = await Promise.all(Array.from({ length: 5 }, async () => play(await grant('busy', 'subscribe'))));
    expect(burst.map((r) => r.status).sort()).toEqual([201, 503, 503, 503, 503]);
    const refused = burst.find((r) => r.status === 503)!;
    expect(JSON.parse(refused.body)).toEqual({
      error: {
        code: 'sfu_full',
        message: expect.stringMatching(/as many viewers as it can carry/),
        details: { retryAfterSeconds: 7 },
      },
    });
    const res = await fetch(`${t.url}/api/whep/play/busy`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${await grant('busy', 'subscribe')}` },
      body: offer,
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    await res.body?.cancel();
    expect(t.sfu.viewerBudget.inUse).toBe(3);

    // Refusal comes after authorization: a stranger still hears 401.
    expect((await play('not-a-grant')).status).toBe(401);

    // The publisher's side is not the viewers' budget: another room's publisher gets in while it is full.
    const other = new TestPublisher();
    expect((await other.publish(t.url, 'other-room', await grant('other-room', 'publish'))).status).toBe(201);
    await other.connected();
    await other.close();

    // The viewers already watching keep receiving.
    const before = viewers.map((v) => v.videoPackets);
    await waitFor(() => viewers.every((v, i) => v.videoPackets > before[i]! + 10), 10_000, 'media goes on');

    // A place given back (DELETE) admits the next viewer.
    const admitted = burst.find((r) => r.status === 201)!;
    expect((await fetch(`${t.url}${admitted.location}`, { method: 'DELETE' })).status).toBe(200);
    expect(t.sfu.viewerBudget.inUse).toBe(2);
    const late = new TestSubscriber();
    expect((await late.play(t.url, 'busy', await grant('busy', 'subscribe'))).status).toBe(201);
    await waitFor(() => late.videoPackets > 0, 15_000, 'media at the late viewer');
    for (const v of [...viewers, late]) await v.close();
    for (const v of [...viewers, late]) await fetch(`${t.url}${v.location}`, { method: 'DELETE' });
    await waitFor(() => t.sfu.viewerBudget.inUse === 0, 10_000, 'every place given back');
  }, 60_000);

  it('lets a reload (a new session with the same grant) in when full: it replaces the old session', async () => {
    const token = await grant('busy', 'subscribe', randomUUID());
    const first = await play(token);
    expect(first.status).toBe(201);
    const others = await Promise.all([play(await grant('busy', 'subscribe')), play(await grant('busy', 'subscribe'))]);
    expect(others.map((r) => r.status)).toEqual([201, 201]);
    expect((await play(await grant('busy', 'subscribe'))).status).toBe(503);
    const reload = await play(token);
    expect(reload.status).toBe(201);
    await waitFor(() => t.sfu.viewerBudget.inUse === 3, 5000, 'the replaced session gave its place back');
    expect(t.sfu.rooms.session(first.location!.split('/').pop()!)).toBeUndefined();
    // Failed offers give their place back too.
    for (const r of [reload, ...others]) await fetch(`${t.url}${r.location}`, { method: 'DELETE' });
    expect((await play(await grant('busy', 'subscribe'), 'busy')).status).toBe(201);
    const broken = await postOffer(`${t.url}/api/whep/play/busy`, 'v=0\r\nnot sdp', await grant('busy', 'subscribe'));
    expect(broken.status).toBe(400);
    expect(t.sfu.viewerBudget.inUse).toBe(1);
  }, 60_000);
});
