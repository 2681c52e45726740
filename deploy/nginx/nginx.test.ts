import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTraceparent, WhepPlayer } from '@fusionflow/client';
import { PROTOCOL_VERSION } from '@fusionflow/protocol';
import { io } from 'socket.io-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../apps/server/src/db/test-databases.js';
import { LoopbackPeerConnection, publishSynthetic } from '../../apps/server/src/modules/live/test-media.js';
import { startTestPlatform, type TestPlatform } from '../../apps/server/src/test-support.js';
import { makeTestCertificates, type TestCertificates } from '../../test/support/certificates.js';
import { freeTcpPort, type Nginx, startNginx } from '../../test/support/nginx.js';
import { tools } from '../../test/support/tools.js';

const nginxTool = tools.nginx();
const openssl = tools.openssl();

/**
 * Debian's nginx running deploy/nginx/fusionflow.conf as shipped (ports, certificate and upstream
 * swapped for the test's), with a certificate from a test CA, in front of a real platform and its
 * embedded SFU. Everything a browser does goes through it here: HTTP/2, WebSockets, WHIP/WHEP
 * with PATCH and DELETE, event streams, cached assets; and what must not pass does not.
 */
describe.skipIf(!nginxTool.available || !openssl.available)('the nginx gateway (deploy/nginx/fusionflow.conf)', () => {
  let certs: TestCertificates;
  let t: TestPlatform;
  let nginx: Nginx;
  let webDir: string;
  let agent: Agent;
  const closers: (() => Promise<void> | void)[] = [];
  /** fetch through nginx, trusting the test CA. */
  const get = (path: string, init: Parameters<typeof undiciFetch>[1] = {}) =>
    undiciFetch(`${nginx.url}${path}`, { dispatcher: agent, ...init });
  const fetchLike = ((input: string, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher: agent })) as never;
  /** How many requests reached the app for a route (its own request counter). */
  const served = async (route: string) => {
    const text = (await t.call('GET', '/metrics')).body as string;
    let n = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('http_requests_total{') && line.includes(`route="${route}"`))
        n += Number(line.split(' ').pop());
    }
    return n;
  };

  beforeAll(async () => {
    certs = makeTestCertificates();
    agent = new Agent({ connect: { ca: certs.ca }, allowH2: false });
    // A built web app's shape: an index and a hashed asset.
    webDir = mkdtempSync(join(tmpdir(), 'ff-web-'));
    mkdirSync(join(webDir, 'assets'));
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>FusionFlow</title>');
    writeFileSync(join(webDir, 'assets', 'app-3f2a1c.js'), 'console.log("fusionflow");\n');
    const port = await freeTcpPort();
    t = await startTestPlatform(
      testDatabases()[0]!,
      {
        port: 0,
        sfuEmbedded: true,
        // TRUST_PROXY=1 as in production: exactly one proxy hop, this nginx.
        trustProxy: 1,
        publicUrl: `https://localhost:${port}`,
        webDir,
        loginRatePerIpPerMinute: 3,
        signalingMaxConnectionsPerIp: 2,
      },
      { env: { PATH: process.env.PATH, ICE_ADDRESSES: '127.0.0.1', ICE_ONLY_ADDRESSES: 'true', LOG_LEVEL: 'silent' } },
    );
    const upstream = await t.platform.listen();
    nginx = await startNginx({ upstreams: [upstream], certFile: certs.certFile, keyFile: certs.keyFile, port });
  }, 60_000);
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await nginx?.stop();
    await t?.close();
    await agent?.close();
    certs?.remove();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('speaks HTTP/2 over TLS with the certificate, and sends plain HTTP to HTTPS', async () => {
    const session = http2Connect(nginx.url, { ca: certs.ca });
    closers.push(() => session.close());
    const { status, alpn, body } = await new Promise<{ status: number; alpn: string; body: string }>(
      (resolve, reject) => {
        const req = session.request({ ':path': '/api/rooms', accept: 'application/json' });
        let body = '';
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (d) => (body += d));
        req.on('end', () => resolve({ status, alpn: String(session.alpnProtocol), body }));
        req.on('error', reject);
      },
    );
    expect(alpn).toBe('h2');
    expect(status).toBe(200);
    expect(JSON.parse(body)).toHaveProperty('rooms');

    const plain = await undiciFetch(`${nginx.httpUrl}/rooms/abc?x=1`, { redirect: 'manual' });
    expect(plain.status).toBe(301);
    expect(plain.headers.get('location')).toBe('https://localhost/rooms/abc?x=1');
  });

  it('closes /api/internal/ and /metrics however the path is spelled, and lets /api/admin/ reach the app', async () => {
    const before = await served('/api/internal/sfu/events');
    for (const path of [
      '/api/internal/sfu/events',
      '/api/%69nternal/sfu/events',
      '/api//internal/sfu/events',
      '/api/./internal/sfu/events',
      '/api/rooms/../internal/sfu/events',
      '/api/internal%2Fsfu/events',
    ]) {
      const res = await get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, path).toBe(404);
      await res.text();
    }
    expect(await served('/api/internal/sfu/events')).toBe(before);
    for (const path of ['/metrics', '/metrics/targets', '/metrics?x']) expect((await get(path)).status, path).toBe(404);

    const admin = await get('/api/admin/payouts');
    expect(admin.status).toBe(401);
    expect(((await admin.json()) as any).error.code).toBe('unauthorized');
    const user = await t.signUp('Not An Admin');
    const forbidden = await get('/api/admin/diagnostics', { headers: { authorization: `Bearer ${user.token}` } });
    expect(forbidden.status).toBe(403);
  });

  it('gives the app the client address nginx saw: a forged X-Forwarded-For does not dodge the login limit', async () => {
    const attempt = (forged: string) =>
      get('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forged, 'x-forwarded-host': 'evil.example' },
        body: JSON.stringify({ email: 'nobody@example.com', password: 'wrong password' }),
      });
    const statuses: number[] = [];
    for (const forged of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) {
      const res = await attempt(forged);
      statuses.push(res.status);
      await res.text();
    }
    // LOGIN_RATE_PER_IP_PER_MINUTE=3: the fourth attempt from 127.0.0.1 is refused, whatever it claims.
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Another client (another loopback source address), even one claiming to be the first, is counted at its own.
    const elsewhere = new Agent({ connect: { ca: certs.ca }, localAddress: '127.0.0.2', allowH2: false });
    closers.push(() => elsewhere.close());
    const other = await undiciFetch(`${nginx.url}/api/auth/login`, {
      dispatcher: elsewhere,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '127.0.0.1' },
      body: JSON.stringify({ email: 'nobody@example.com', password: 'wrong password' }),
    });
    const otherBody = await other.text();
    expect(other.status, otherBody).toBe(401);

    // X-Forwarded-Proto: the app knows the browser used HTTPS, so the session cookie is Secure.
    const registered = await get('/api/auth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `secure-${Date.now()}@example.com`,
        password: 'correct horse battery',
        displayName: 'Secure',
      }),
    });
    expect(registered.status).toBe(201);
    expect(registered.headers.get('set-cookie')).toMatch(/ff_refresh=[^;]+;.*Secure/i);
  });

  it('carries Socket.IO over a WebSocket upgrade', async () => {
    const host = await t.signUp('Socket Host');
    const room = await t.call('POST', '/api/rooms', { token: host.token, body: { kind: 'call', title: 'Gateway' } });
    const socket = io(nginx.url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: host.token, protocol: PROTOCOL_VERSION },
      ca: certs.ca,
    } as never);
    closers.push(() => void socket.close());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const joined = await new Promise<any>((resolve) => {
      socket.once('joined', resolve);
      socket.emit('join', { roomId: room.body.id });
    });
    expect(joined.self.role).toBe('host');
    expect(socket.io.engine.transport.name).toBe('websocket');
    // nginx logs a request when it ends: the upgraded connection, once closed.
    socket.close();
    const upgraded = /"GET \/socket\.io\/\?EIO=4&transport=websocket HTTP\/1\.1" 101 \d+ "websocket"/;
    for (let i = 0; i < 50 && !upgraded.test(nginx.accessLog()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(nginx.accessLog()).toMatch(upgraded);
  });

  it('counts Socket.IO connections at the client address nginx saw, not at nginx', async () => {
    const user = await t.signUp('Socket Counter');
    const connect = (localAddress: string) => {
      const socket = io(nginx.url, {
        path: '/socket.io',
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        auth: { token: user.token, protocol: PROTOCOL_VERSION },
        ca: certs.ca,
        localAddress,
      } as never);
      closers.push(() => void socket.close());
      return new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', (err: any) => resolve(err.data?.code ?? err.message));
      });
    };
    // SIGNALING_MAX_CONNECTIONS_PER_IP=2: a third socket from 127.0.0.1 is refused; 127.0.0.2 is another client.
    expect(await connect('127.0.0.1')).toBe('connected');
    expect(await connect('127.0.0.1')).toBe('connected');
    expect(await connect('127.0.0.1')).toBe('too_many_connections');
    expect(await connect('127.0.0.2')).toBe('connected');
  });

  it('passes WHIP and WHEP: offers, Location and Link, trickle PATCH, unbuffered events, DELETE', async () => {
    const streamer = await t.signUp('Gateway Streamer', { role: 'streamer' });
    const room = await t.call('POST', '/api/rooms', {
      token: streamer.token,
      body: { kind: 'live', title: 'Via nginx' },
    });
    const grant = await t.call('POST', `/api/rooms/${room.body.id}/grants`, {
      token: streamer.token,
      body: { role: 'publish' },
    });
    // Grants name the public origin (PUBLIC_URL): the gateway.
    expect(grant.body.whipUrl).toBe(`${nginx.url}/api/whip/publish/${room.body.id}`);
    const { publisher, stop } = await publishSynthetic({
      url: grant.body.whipUrl,
      token: grant.body.token,
      fetch: fetchLike,
      traceparent: newTraceparent(),
    });
    closers.push(stop);
    expect(publisher.location).toMatch(new RegExp(`^${nginx.url}/api/whip/sessions/[\\w-]+$`));

    // The publisher's event stream, through nginx, stays open and delivers each event as it happens.
    const events = await get(`${new URL(publisher.location!).pathname}/events`);
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    const reader = events.body!.getReader();
    closers.push(() => reader.cancel().catch(() => undefined));
    let streamed = '';
    const streamUntil = async (text: string) => {
      while (!streamed.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the event stream ended before ${text}`);
        streamed += Buffer.from(value).toString();
      }
    };

    for (let i = 0; i < 100; i++) {
      if ((await t.call('GET', `/api/rooms/${room.body.id}`)).body.status === 'live') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const guest = await get('/api/auth/guest', { method: 'POST' });
    const guestToken = ((await guest.json()) as any).accessToken as string;
    const playGrant = await get(`/api/rooms/${room.body.id}/grants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${guestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'subscribe' }),
    });
    const play = (await playGrant.json()) as any;
    const offer = new LoopbackPeerConnection();
    closers.push(() => offer.close());
    offer.addTransceiver('video', { direction: 'recvonly' });
    offer.addTransceiver('audio', { direction: 'recvonly' });
    await offer.setLocalDescription(await offer.createOffer());
    await new Promise((r) => setTimeout(r, 500));
    const posted = await get(new URL(play.whepUrl).pathname, {
      method: 'POST',
      headers: { authorization: `Bearer ${play.token}`, 'content-type': 'application/sdp' },
      body: offer.localDescription!.sdp,
    });
    expect(posted.status).toBe(201);
    const location = posted.headers.get('location')!;
    expect(location).toMatch(/^\/api\/whep\/sessions\/[\w-]+$/);
    expect(posted.headers.get('link')).toContain('rel="urn:ietf:params:whep:ext:core:server-sent-events"');
    expect(posted.headers.get('etag')).toBeTruthy();
    expect(posted.headers.get('accept-patch')).toBe('application/trickle-ice-sdpfrag');
    await offer.setRemoteDescription({ type: 'answer', sdp: await posted.text() });

    // The viewer's arrival reaches the publisher's open stream at once (nothing held in a buffer).
    await streamUntil('event: viewers\ndata: {"type":"viewers","count":1}');

    // Trickle ICE (PATCH), then DELETE; the session is gone afterwards.
    const patched = await get(location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '*' },
      body: 'a=end-of-candidates\r\n',
    });
    expect([200, 204]).toContain(patched.status);
    await patched.text();
    const deleted = await get(location, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    await deleted.text();
    const gone = await get(location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/trickle-ice-sdpfrag' },
      body: 'a=end-of-candidates\r\n',
    });
    expect(gone.status).toBe(404);
    await gone.text();

    // The player SDK through nginx too.
    const player = new WhepPlayer({
      url: play.whepUrl,
      token: play.token,
      fetch: fetchLike,
      RTCPeerConnection: LoopbackPeerConnection as never,
      gatherTimeoutMs: 1000,
    });
    closers.push(() => player.stop());
    await player.start();
    expect(player.location).toMatch(new RegExp(`^${nginx.url}/api/whep/sessions/`));
  }, 60_000);

  it('caches hashed assets for a year, and serves them once from the app', async () => {
    const first = await get('/assets/app-3f2a1c.js');
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('fusionflow');
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(first.headers.get('x-cache-status')).toBe('MISS');
    const second = await get('/assets/app-3f2a1c.js');
    await second.text();
    expect(second.headers.get('x-cache-status')).toBe('HIT');
    // The page itself is never cached by nginx.
    const page = await get('/rooms/abc', { headers: { accept: 'text/html' } });
    expect(page.headers.get('x-cache-status')).toBeNull();
    expect(await page.text()).toContain('<title>FusionFlow</title>');
  });
});
