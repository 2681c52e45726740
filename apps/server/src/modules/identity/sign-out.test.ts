import { PROTOCOL_VERSION } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServerConfig } from '../../config.js';
import type { DatabaseHandle } from '../../db/database.js';
import { testDatabases } from '../../db/test-databases.js';
import { createPlatform, type Platform } from '../../main.js';
import { deleteRedisPrefix, testRedisUrl, uniqueRedisPrefix } from '../realtime/test-redis.js';
import { connectPeer, refusedHandshake, type TestPeer } from '../signaling/test-signaling.js';

const PASSWORD = 'correct horse battery';
const SECRET = 'sign-out-test-secret-0123456789abcdef';

interface Signed {
  token: string;
  cookie: string;
  email: string;
}

async function register(p: Platform, name: string): Promise<Signed> {
  const email = `${name.toLowerCase()}-${Math.random().toString(36).slice(2)}@example.com`;
  const res = await p.app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { email, password: PASSWORD, displayName: name },
  });
  const cookie = res.cookies.find((c) => c.name === 'ff_refresh')!.value;
  return { token: res.json().accessToken, cookie, email };
}

const logout = (p: Platform, cookie: string) =>
  p.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: `ff_refresh=${cookie}` } });
const me = (p: Platform, token: string) =>
  p.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });

/** Resolves with the error the server sent before it closed the connection. */
function closedWith(peer: TestPeer): Promise<{ code: string; closeCode?: number; reason: string }> {
  return new Promise((resolve) => {
    let error: { code: string; closeCode?: number } | undefined;
    peer.socket.on('error', (body: { code: string; closeCode?: number }) => {
      error = body;
    });
    peer.socket.once('disconnect', (reason) => resolve({ ...(error ?? { code: 'none' }), reason }));
  });
}

/**
 * Signing out ends the session now: its access tokens are refused and its real-time connections
 * close at once (the same user's other sign-ins are untouched), on one process and, through Redis,
 * on every process.
 */
function signOutSuite(setup: () => Promise<{ one: Platform; two: Platform; urls: [string, string] }>) {
  let one: Platform;
  let two: Platform;
  let urls: [string, string];
  const peers: TestPeer[] = [];
  beforeAll(async () => {
    ({ one, two, urls } = await setup());
  });
  afterAll(() => {
    for (const p of peers) p.close();
  });
  const connect = async (url: string, token: string) => {
    const p = await connectPeer(url, token);
    peers.push(p);
    return p;
  };

  it("closes the session's connections at once with session_ended and refuses its token, and only its own", async () => {
    const user = await register(one, 'Leaver');
    // A second sign-in of the same account (another device).
    const again = await one.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: user.email, password: PASSWORD },
    });
    const otherToken = again.json().accessToken as string;
    const here = await connect(urls[0], user.token);
    const there = await connect(urls[1], user.token);
    const otherDevice = await connect(urls[1], otherToken);
    expect((await me(two, user.token)).statusCode).toBe(200);
    const hereClosed = closedWith(here);
    const thereClosed = closedWith(there);

    expect((await logout(one, user.cookie)).statusCode).toBe(204);

    for (const closed of [await hereClosed, await thereClosed]) {
      expect(closed).toMatchObject({ code: 'session_ended', closeCode: 4401, reason: 'io server disconnect' });
    }
    for (const p of [one, two]) {
      const res = await me(p, user.token);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('session_ended');
    }
    for (const url of urls) {
      const refused = await refusedHandshake(url, { token: user.token, protocol: PROTOCOL_VERSION });
      expect(refused.data).toMatchObject({ code: 'session_ended', closeCode: 4401 });
    }
    // The other device's connection and token live on.
    expect(otherDevice.socket.connected).toBe(true);
    expect((await me(two, otherToken)).statusCode).toBe(200);
  });
}

describe.each(testDatabases())('signing out on one process ($name)', (db) => {
  let database: DatabaseHandle;
  let platform: Platform;
  signOutSuite(async () => {
    database = await db.open();
    platform = await createPlatform(testServerConfig({ port: 0 }), { database });
    const url = await platform.listen();
    return { one: platform, two: platform, urls: [url, url] };
  });
  afterAll(async () => {
    await platform?.close();
    await database?.close();
  });
});

const redisUrl = testRedisUrl();
describe.skipIf(!redisUrl)('signing out on two processes on one Redis', () => {
  const prefix = uniqueRedisPrefix();
  let database: DatabaseHandle;
  let one: Platform;
  let two: Platform;
  signOutSuite(async () => {
    database = await testDatabases()[0]!.open();
    const config = testServerConfig({ port: 0, redisUrl, redisKeyPrefix: prefix, accessTokenSecret: SECRET });
    one = await createPlatform(config, { database });
    two = await createPlatform(config, { database });
    return { one, two, urls: [await one.listen(), await two.listen()] };
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await database?.close();
    await deleteRedisPrefix(redisUrl!, prefix);
  });
});
