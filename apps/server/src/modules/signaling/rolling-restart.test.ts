import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServerConfig } from '../../config.js';
import type { DatabaseHandle } from '../../db/database.js';
import { testDatabases } from '../../db/test-databases.js';
import { createPlatform, type Platform } from '../../main.js';
import { deleteRedisPrefix, testRedisUrl, uniqueRedisPrefix } from '../realtime/test-redis.js';
import { nodeCallClient, reaches } from './test-call-clients.js';

const redisUrl = testRedisUrl();

/**
 * The load balancer in front of the control planes (nginx's upstream in production): new TCP
 * connections go to the first backend in rotation; taking one out of rotation is how a rolling
 * restart drains it (existing connections stay until their process closes them).
 */
class FrontProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  rotation: string[] = [];

  constructor() {
    this.#server = createServer((client) => {
      const target = this.rotation[0];
      if (!target) return client.destroy();
      const url = new URL(target);
      const upstream = tcpConnect(Number(url.port), url.hostname);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/**
 * A rolling restart: two control-plane processes on one Redis and one database behind a front
 * proxy, a call of two SDK clients (werift peers, real media) in progress. Each process in turn
 * leaves the rotation and shuts down as SIGTERM does, and a new one takes its place: every time,
 * the clients' sockets reconnect to the process still up, take back their call slots (same peer
 * ids, `resumed`), and media keeps flowing.
 */
describe.skipIf(!redisUrl)('a rolling restart of the control plane', () => {
  const prefix = uniqueRedisPrefix();
  let database: DatabaseHandle;
  const platforms: Platform[] = [];
  const proxy = new FrontProxy();
  const closers: (() => void)[] = [];
  let front: string;

  const config = testServerConfig({
    port: 0,
    redisUrl,
    redisKeyPrefix: prefix,
    accessTokenSecret: 'rolling-restart-secret-0123456789abcdef',
    reconnectGraceSeconds: 30,
  });
  const start = async () => {
    const p = await createPlatform(config, { database });
    platforms.push(p);
    return { platform: p, url: await p.listen() };
  };

  beforeAll(async () => {
    database = await testDatabases()[0]!.open();
    front = await proxy.listen();
  });
  afterAll(async () => {
    for (const close of closers) close();
    await proxy.close();
    for (const p of platforms) await p.close();
    await database?.close();
    await deleteRedisPrefix(redisUrl!, prefix);
  });

  it('moves every socket to the process still up and resumes the call slots, twice', async () => {
    const one = await start();
    const two = await start();
    proxy.rotation = [one.url, two.url];

    const register = async (name: string) => {
      const res = await one.platform.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: {
          email: `${name}-${prefix.replaceAll(':', '')}@example.com`,
          password: 'correct horse',
          displayName: name,
        },
      });
      return res.json().accessToken as string;
    };
    const ana = await register('ana');
    const ben = await register('ben');
    const room = await one.platform.app.inject({
      method: 'POST',
      url: '/api/rooms',
      headers: { authorization: `Bearer ${ana}` },
      payload: { kind: 'call', title: 'Rolling' },
    });
    const roomId = room.json().id as string;

    const clients = [nodeCallClient(front, ana), nodeCallClient(front, ben)];
    closers.push(...clients.map((c) => c.close));
    const [a, b] = clients.map((c) => c.client) as [(typeof clients)[0]['client'], (typeof clients)[0]['client']];
    a.setMedia({ camera: true, mic: true });
    b.setMedia({ camera: true, mic: true });
    const aId = (await a.join(roomId)).self.peerId;
    const bId = (await b.join(roomId)).self.peerId;
    await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);
    expect(one.platform.services.realtime.io.of('/').sockets.size).toBe(2);

    const restart = async (old: Awaited<ReturnType<typeof start>>, other: Awaited<ReturnType<typeof start>>) => {
      const resumed = [a, b].map((c) => c.once('joined', (m) => m.resumed));
      // Drain: out of the rotation, then the shutdown SIGTERM triggers (its sockets are closed).
      proxy.rotation = [other.url];
      await old.platform.close('SIGTERM');
      const [ja, jb] = await Promise.all(resumed);
      expect(ja!.self.peerId).toBe(aId);
      expect(jb!.self.peerId).toBe(bId);
      expect(other.platform.services.realtime.io.of('/').sockets.size).toBe(2);
      const members = await other.platform.services.presence.members(roomId as never);
      expect(members.map((m) => [m.peerId, m.connected]).sort()).toEqual(
        [
          [aId, true],
          [bId, true],
        ].sort(),
      );
      // The media between the peers never depended on the control plane.
      await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);
      expect(a.peers.map((p) => p.state.peerId)).toEqual([bId]);
      // The restarted process rejoins the rotation.
      const replacement = await start();
      proxy.rotation = [other.url, replacement.url];
      return replacement;
    };

    const three = await restart(one, two);
    await restart(two, three);
    expect(a.status).toBe('joined');
    expect(b.status).toBe('joined');
  }, 120_000);
});
