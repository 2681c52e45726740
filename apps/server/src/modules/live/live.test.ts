import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signInternalRequest, verifyInternalRequest } from '@fusionflow/kit';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';

const secret = 'a-shared-secret-between-control-and-media';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in SFU: records what reaches it and answers like the real one. */
async function fakeSfu(): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === '/api/admin/rooms' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"rooms":[]}');
      } else if (req.url!.startsWith('/api/admin/')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"closed":true}');
      } else if (req.method === 'POST' && req.url!.startsWith('/api/whip/publish/')) {
        res
          .writeHead(201, {
            'content-type': 'application/sdp',
            location: '/api/whip/sessions/abc',
            etag: '"ufrag"',
            link: '<stun:stun.example.net>; rel="ice-server"',
          })
          .end(`answer to ${body.length} bytes`);
      } else {
        res.writeHead(200).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe.each(testDatabases())('live streaming on the control plane ($name)', (db) => {
  let t: TestPlatform;
  let sfu: Awaited<ReturnType<typeof fakeSfu>>;
  let owner: { token: string; id: string };
  let viewer: { token: string; id: string };
  let seq = 0;

  beforeAll(async () => {
    sfu = await fakeSfu();
    t = await startTestPlatform(db, { sfuUrl: sfu.url, sfuInternalSecret: secret, publisherGraceSeconds: 1 });
    owner = await t.signUp('Host', { role: 'streamer' });
    viewer = await t.signUp('Fan');
  });
  afterAll(async () => {
    await t.close();
    await new Promise((r) => sfu.server.close(r));
  });

  const newRoom = async () =>
    (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'Show' } })).body
      .id as string;

  const signed = (path: string, payload: unknown, signWith = secret, at = Date.now()) => {
    const body = JSON.stringify(payload);
    return t.call('POST', path, {
      raw: body,
      headers: { 'content-type': 'application/json', ...signInternalRequest(signWith, 'POST', path, body, at) },
    });
  };
  const event = (room: string, type: string, subscribers = 0) =>
    signed('/api/internal/sfu/events', {
      id: `e${++seq}`,
      type,
      room,
      sessionId: 's1',
      userId: owner.id,
      subscribers,
      at: new Date().toISOString(),
    });

  it('forwards WHIP/WHEP to the SFU with the SDP body and the Location, Link and ETag headers', async () => {
    const res = await t.call('POST', '/api/whip/publish/r1', {
      raw: 'v=0\r\nsdp offer',
      headers: { 'content-type': 'application/sdp', authorization: 'Bearer grant' },
    });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/sdp');
    expect(res.headers.location).toBe('/api/whip/sessions/abc');
    expect(res.headers.etag).toBe('"ufrag"');
    expect(res.headers.link).toContain('rel="ice-server"');
    expect(res.body).toBe('answer to 14 bytes');
    const got = sfu.seen.at(-1)!;
    expect(got).toMatchObject({ method: 'POST', url: '/api/whip/publish/r1', body: 'v=0\r\nsdp offer' });
    expect(got.headers['content-type']).toBe('application/sdp');
    expect(got.headers.authorization).toBe('Bearer grant');
    expect((await t.call('DELETE', '/api/whep/sessions/xyz')).status).toBe(200);
    expect(sfu.seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/whep/sessions/xyz' });
    // JSON (the layer choice) passes through as it was sent.
    await t.call('POST', '/api/whep/sessions/xyz/layer', { body: { rid: 'h' } });
    expect(sfu.seen.at(-1)).toMatchObject({ method: 'POST', url: '/api/whep/sessions/xyz/layer', body: '{"rid":"h"}' });
    expect(sfu.seen.at(-1)!.headers['content-type']).toBe('application/json');
    // The JSON API is untouched by the forwarding scope's body handling.
    expect(
      (
        await t.call('POST', '/api/rooms', {
          token: owner.token,
          raw: '{bad',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
  });

  it('turns a room live on publisher_started and follows the viewer count', async () => {
    const room = await newRoom();
    expect((await event(room, 'publisher_started')).status).toBe(204);
    expect((await t.call('GET', `/api/rooms/${room}`)).body.status).toBe('live');
    await event(room, 'subscriber_joined', 3);
    expect((await t.call('GET', `/api/rooms/${room}`)).body.viewerCount).toBe(3);
    await event(room, 'subscriber_left', 2);
    expect((await t.call('GET', `/api/rooms/${room}`)).body.viewerCount).toBe(2);
  });

  it('refuses unsigned, wrongly signed, stale and malformed internal calls', async () => {
    const room = await newRoom();
    const body = { id: 'x1', type: 'publisher_started', room, sessionId: 's', userId: null, subscribers: 0, at: '' };
    expect((await t.call('POST', '/api/internal/sfu/events', { body })).status).toBe(401);
    expect((await signed('/api/internal/sfu/events', body, 'another-secret-another-secret-another')).status).toBe(401);
    expect((await signed('/api/internal/sfu/events', body, secret, Date.now() - 5 * 60_000)).status).toBe(401);
    expect((await signed('/api/internal/sfu/events', { ...body, type: 'nonsense' })).status).toBe(400);
    expect((await t.call('GET', `/api/rooms/${room}`)).body.status).toBe('created');
  });

  it('ends a room whose publisher dropped and did not come back within the grace period, and closes it on the SFU', async () => {
    const dropped = await newRoom();
    const back = await newRoom();
    await event(dropped, 'publisher_started');
    await event(back, 'publisher_started');
    await event(dropped, 'publisher_stopped');
    await event(back, 'publisher_stopped');
    await event(back, 'publisher_started');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await t.call('GET', `/api/rooms/${dropped}`)).body.status).toBe('ended');
    expect((await t.call('GET', `/api/rooms/${back}`)).body.status).toBe('live');
    const close = sfu.seen.find((s) => s.method === 'DELETE' && s.url === `/api/admin/rooms/${dropped}`)!;
    expect(close).toBeDefined();
    expect(verifyInternalRequest(secret, { method: 'DELETE', path: close.url, body: '', headers: close.headers })).toBe(
      'ok',
    );
  });

  it('closes the SFU room when the owner ends the room (Stop)', async () => {
    const room = await newRoom();
    await event(room, 'publisher_started');
    expect((await t.call('POST', `/api/rooms/${room}/end`, { token: owner.token })).status).toBe(200);
    expect(sfu.seen.some((s) => s.method === 'DELETE' && s.url === `/api/admin/rooms/${room}`)).toBe(true);
  });

  it('gives the owner a stream key that the SFU trades for a publish grant', async () => {
    const room = await newRoom();
    const none = await t.call('GET', `/api/rooms/${room}/stream-key`, { token: owner.token });
    expect(none.body).toMatchObject({ exists: false, createdAt: null });
    expect(none.body.whipUrl).toMatch(new RegExp(`/api/whip/publish/${room}$`));
    expect((await t.call('POST', `/api/rooms/${room}/stream-key`, { token: viewer.token })).status).toBe(403);
    const first = (await t.call('POST', `/api/rooms/${room}/stream-key`, { token: owner.token })).body;
    expect(first.streamKey).toMatch(/^sk_[A-Za-z0-9_-]{32}$/);
    expect((await t.call('GET', `/api/rooms/${room}/stream-key`, { token: owner.token })).body.exists).toBe(true);

    const admitted = await signed('/api/internal/sfu/admit', { room, streamKey: first.streamKey });
    expect(admitted.status).toBe(200);
    const jwks = createLocalJWKSet((await t.call('GET', '/.well-known/jwks.json')).body);
    const { payload } = await jwtVerify(admitted.body.token, jwks, {
      issuer: 'fusionflow-control',
      audience: 'fusionflow-media',
    });
    expect(payload).toMatchObject({ sub: owner.id, room, role: 'publish' });

    expect((await signed('/api/internal/sfu/admit', { room, streamKey: 'sk_wrong' })).status).toBe(401);
    const other = await newRoom();
    expect((await signed('/api/internal/sfu/admit', { room: other, streamKey: first.streamKey })).status).toBe(401);
    const second = (await t.call('POST', `/api/rooms/${room}/stream-key`, { token: owner.token })).body;
    expect((await signed('/api/internal/sfu/admit', { room, streamKey: first.streamKey })).status).toBe(401);
    expect((await signed('/api/internal/sfu/admit', { room, streamKey: second.streamKey })).status).toBe(200);
    await t.call('POST', `/api/rooms/${room}/end`, { token: owner.token });
    expect((await signed('/api/internal/sfu/admit', { room, streamKey: second.streamKey })).status).toBe(401);
  });
});
