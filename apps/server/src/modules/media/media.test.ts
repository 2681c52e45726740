import { createHmac } from 'node:crypto';
import { asRoomId, GrantClaims } from '@fusionflow/protocol';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';

describe.each(testDatabases())('grants and ICE servers on $name', (db) => {
  let t: TestPlatform;
  let owner: { token: string; id: string };
  let viewer: { token: string; id: string };
  let roomId: string;
  beforeAll(async () => {
    t = await startTestPlatform(db, {
      grantTtlSeconds: 120,
      turnUrls: [
        'turn:127.0.0.1:3478?transport=udp',
        'turn:127.0.0.1:3478?transport=tcp',
        'turns:127.0.0.1:5349?transport=tcp',
      ],
      turnSecret: 'coturn-shared-secret',
      turnTtlSeconds: 600,
      stunUrls: ['stun:127.0.0.1:3478'],
      publicUrl: 'https://live.example.com',
    });
    owner = await t.signUp('Owner', { role: 'streamer' });
    viewer = await t.signUp('Watcher');
    roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'Show' } })).body
      .id;
  });
  afterAll(() => t.close());

  const verify = async (token: string, currentDate?: Date) => {
    const jwks = (await t.call('GET', '/.well-known/jwks.json')).body;
    return jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: 'fusionflow-control',
      audience: 'fusionflow-media',
      algorithms: ['EdDSA'],
      ...(currentDate ? { currentDate } : {}),
    });
  };

  it('serves an Ed25519 public key (and never the private part)', async () => {
    const res = await t.call('GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(res.body.keys[0]).not.toHaveProperty('d');
  });

  it('gives the owner a publish grant the JWKS verifies, with room, role and expiry', async () => {
    const res = await t.call('POST', `/api/rooms/${roomId}/grants`, { token: owner.token, body: { role: 'publish' } });
    expect(res.status).toBe(200);
    expect(res.body.whipUrl).toBe(`https://live.example.com/api/whip/publish/${roomId}`);
    expect(res.body.whepUrl).toBeUndefined();
    expect(decodeProtectedHeader(res.body.token).alg).toBe('EdDSA');
    const { payload } = await verify(res.body.token);
    const claims = GrantClaims.parse(payload);
    expect(claims).toMatchObject({ sub: owner.id, room: roomId, role: 'publish' });
    expect(claims.exp - claims.iat).toBe(120);
    expect(new Date(res.body.expiresAt).getTime()).toBe(claims.exp * 1000);
    await expect(verify(res.body.token, new Date((claims.exp + 5) * 1000))).rejects.toThrow(/exp/);
  });

  it('gives any session a subscribe grant, never a publish grant for someone else’s room', async () => {
    const refused = await t.call('POST', `/api/rooms/${roomId}/grants`, {
      token: viewer.token,
      body: { role: 'publish' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('not_room_owner');
    const sub = await t.call('POST', `/api/rooms/${roomId}/grants`, {
      token: viewer.token,
      body: { role: 'subscribe' },
    });
    expect(sub.status).toBe(200);
    expect(sub.body.whepUrl).toBe(`https://live.example.com/api/whep/play/${roomId}`);
    expect((await verify(sub.body.token)).payload).toMatchObject({ role: 'subscribe', sub: viewer.id });
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken;
    expect(
      (await t.call('POST', `/api/rooms/${roomId}/grants`, { token: guest, body: { role: 'subscribe' } })).status,
    ).toBe(200);
    expect((await t.call('POST', `/api/rooms/${roomId}/grants`, { body: { role: 'subscribe' } })).status).toBe(401);
  });

  it('refuses grants for unknown, ended and call rooms and bad roles', async () => {
    expect(
      (await t.call('POST', '/api/rooms/missing/grants', { token: owner.token, body: { role: 'subscribe' } })).status,
    ).toBe(404);
    expect(
      (await t.call('POST', `/api/rooms/${roomId}/grants`, { token: owner.token, body: { role: 'admin' } })).status,
    ).toBe(400);
    const call = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'call', title: 'C' } })).body;
    const callGrant = await t.call('POST', `/api/rooms/${call.id}/grants`, {
      token: owner.token,
      body: { role: 'publish' },
    });
    expect(callGrant.status).toBe(409);
    expect(callGrant.body.error.code).toBe('wrong_room_kind');
    const done = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'D' } })).body;
    await t.call('POST', `/api/rooms/${done.id}/end`, { token: owner.token });
    const ended = await t.call('POST', `/api/rooms/${done.id}/grants`, {
      token: viewer.token,
      body: { role: 'subscribe' },
    });
    expect(ended.status).toBe(409);
    expect(ended.body.error.code).toBe('room_ended');
  });

  it('mints coturn REST credentials that verify against the shared secret', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await t.call('GET', '/api/ice-servers', { token: viewer.token });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.ttl).toBe(600);
    const [stun, turn] = res.body.iceServers;
    expect(stun).toEqual({ urls: ['stun:127.0.0.1:3478'] });
    // TURN over TLS (`turns:`, for networks that let only TLS out) is handed out with the same credentials.
    expect(turn.urls).toEqual([
      'turn:127.0.0.1:3478?transport=udp',
      'turn:127.0.0.1:3478?transport=tcp',
      'turns:127.0.0.1:5349?transport=tcp',
    ]);
    const [expiry, userId] = turn.username.split(':');
    expect(userId).toBe(viewer.id);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 600);
    expect(turn.credential).toBe(createHmac('sha1', 'coturn-shared-secret').update(turn.username).digest('base64'));
    expect(turn.credential).not.toBe(createHmac('sha1', 'another-secret').update(turn.username).digest('base64'));
    // A grant carries fresh ones in its response, and the same ones signed into the grant itself: the
    // SFU announces those in its WHIP/WHEP Link headers (it holds no TURN secret of its own).
    const grant = await t.call('POST', `/api/rooms/${roomId}/grants`, {
      token: viewer.token,
      body: { role: 'subscribe' },
    });
    const [, grantTurn] = grant.body.iceServers;
    expect(grantTurn.username).toMatch(new RegExp(`^\\d+:${viewer.id}$`));
    expect(grantTurn.credential).toBe(
      createHmac('sha1', 'coturn-shared-secret').update(grantTurn.username).digest('base64'),
    );
    const claims = GrantClaims.parse((await verify(grant.body.token)).payload);
    expect(claims.ice).toEqual(grant.body.iceServers);
    // Every grant has its own id: the SFU keeps one live session per grant.
    const again = await t.call('POST', `/api/rooms/${roomId}/grants`, {
      token: viewer.token,
      body: { role: 'subscribe' },
    });
    expect(GrantClaims.parse((await verify(again.body.token)).payload).jti).not.toBe(claims.jti);
  });

  it('gives guests STUN only, never TURN credentials (in ICE servers or grants), and anonymous callers nothing', async () => {
    const guest = (await t.call('POST', '/api/auth/guest')).body;
    const res = await t.call('GET', '/api/ice-servers', { token: guest.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.iceServers).toEqual([{ urls: ['stun:127.0.0.1:3478'] }]);
    expect(JSON.stringify(res.body)).not.toMatch(/credential|username|turn:/);
    const grant = await t.call('POST', `/api/rooms/${roomId}/grants`, {
      token: guest.accessToken,
      body: { role: 'subscribe' },
    });
    expect(grant.status).toBe(200);
    expect(grant.body.iceServers).toEqual([{ urls: ['stun:127.0.0.1:3478'] }]);
    expect(GrantClaims.parse((await verify(grant.body.token)).payload).ice).toEqual([
      { urls: ['stun:127.0.0.1:3478'] },
    ]);
    const anon = await t.call('GET', '/api/ice-servers');
    expect(anon.status).toBe(401);
  });

  it('puts TURN credentials for the owner into the grant a stream key is traded for (the encoder’s Link headers)', async () => {
    const key = (await t.call('POST', `/api/rooms/${roomId}/stream-key`, { token: owner.token })).body.streamKey;
    const token = await t.platform.services.live.admit(asRoomId(roomId), key);
    const claims = GrantClaims.parse((await verify(token!)).payload);
    expect(claims).toMatchObject({ sub: owner.id, role: 'publish' });
    const turn = claims.ice!.find((s) => s.username !== undefined)!;
    expect(turn.username).toMatch(new RegExp(`^\\d+:${owner.id}$`));
    expect(turn.credential).toBe(createHmac('sha1', 'coturn-shared-secret').update(turn.username!).digest('base64'));
  });

  it('hands out STUN only, or nothing, without TURN configured', async () => {
    const plain = await startTestPlatform(db);
    try {
      const user = await plain.signUp('Plain');
      const res = await plain.call('GET', '/api/ice-servers', { token: user.token });
      expect(res.body).toEqual({ iceServers: [], ttl: 3600 });
      // A grant's URL falls back to the request's own origin.
      const room = (
        await plain.call('POST', '/api/rooms', {
          token: (await plain.signUp('S', { role: 'streamer' })).token,
          body: { kind: 'live', title: 'x' },
        })
      ).body;
      const grant = await plain.call('POST', `/api/rooms/${room.id}/grants`, {
        token: user.token,
        body: { role: 'subscribe' },
        headers: { host: 'localhost:8080' },
      });
      expect(grant.body.whepUrl).toBe(`http://localhost:8080/api/whep/play/${room.id}`);
    } finally {
      await plain.close();
    }
  });

  it('keeps the same signing key across restarts (it lives in the database)', async () => {
    const { createPlatform } = await import('../../main.js');
    const { testServerConfig } = await import('../../config.js');
    const first = (await t.call('GET', '/.well-known/jwks.json')).body.keys[0].kid;
    const again = await createPlatform(testServerConfig(), { database: t.database });
    try {
      expect(again.services.grants.jwks().keys[0]!.kid).toBe(first);
    } finally {
      await again.close();
    }
  });
});
