import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServerConfig } from '../../config.js';
import type { DatabaseHandle } from '../../db/database.js';
import { testDatabases } from '../../db/test-databases.js';
import { createPlatform, type Platform } from '../../main.js';
import { deleteRedisPrefix, testRedisUrl, uniqueRedisPrefix } from '../realtime/test-redis.js';
import { connectPeer, fakeSdp, type TestPeer } from './test-signaling.js';

const redisUrl = testRedisUrl();

/**
 * Two control-plane processes (two platforms in one test process, each with its own Socket.IO
 * server and Redis connections) on one Redis and one database: rooms, capacity, relay and
 * reconnect slots are shared.
 */
describe.skipIf(!redisUrl)('two server processes on one Redis', () => {
  const prefix = uniqueRedisPrefix();
  let database: DatabaseHandle;
  let one: Platform;
  let two: Platform;
  let urls: [string, string];
  const peers: TestPeer[] = [];
  const tokens: Record<string, string> = {};
  let owner: string;

  beforeAll(async () => {
    database = await testDatabases()[0]!.open();
    const config = testServerConfig({
      port: 0,
      redisUrl,
      redisKeyPrefix: prefix,
      accessTokenSecret: 'multi-process-secret-0123456789abcdef',
      reconnectGraceSeconds: 30,
    });
    one = await createPlatform(config, { database });
    two = await createPlatform(config, { database });
    urls = [await one.listen(), await two.listen()];
    for (const name of ['Owner', 'Ana', 'Ben', 'Cy', 'Dee', 'Eve']) {
      const res = await one.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: {
          email: `${name.toLowerCase()}-${prefix.replaceAll(':', '')}@example.com`,
          password: 'correct horse',
          displayName: name,
        },
      });
      tokens[name] = res.json().accessToken;
    }
    owner = tokens.Owner!;
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    await one?.close();
    await two?.close();
    await database?.close();
    await deleteRedisPrefix(redisUrl!, prefix);
  });

  const peer = async (name: string, on: 0 | 1) => {
    const p = await connectPeer(urls[on], tokens[name]!);
    peers.push(p);
    return p;
  };
  const newCall = async () => {
    const res = await two.app.inject({
      method: 'POST',
      url: '/api/rooms',
      headers: { authorization: `Bearer ${owner}` },
      payload: { kind: 'call', title: 'Across processes' },
    });
    return res.json().id as string;
  };

  it('announces joins, relays signals and media state between peers on different processes', async () => {
    const roomId = await newCall();
    const a = await peer('Ana', 0);
    const b = await peer('Ben', 1);
    a.emit('join', { roomId });
    const ja = await a.next('joined');
    b.emit('join', { roomId });
    const jb = await b.next('joined');
    expect(jb.roomState.peers.map((p) => p.peerId)).toEqual([ja.self.peerId, jb.self.peerId]);
    expect(await a.next('peer-joined')).toMatchObject({ peerId: jb.self.peerId, initiatorId: jb.self.peerId });

    b.emit('signal', { to: ja.self.peerId, kind: 'offer', payload: { sdp: fakeSdp('o'), session: 's' } });
    expect(await a.next('signal')).toMatchObject({ from: jb.self.peerId, kind: 'offer' });
    a.emit('media-state', { camera: true, mic: true, screen: false });
    expect(await b.next('media-state')).toMatchObject({ peerId: ja.self.peerId, state: { camera: true } });
  });

  it('enforces the call size across processes', async () => {
    const roomId = await newCall();
    const answers = await Promise.all(
      (['Ana', 'Ben', 'Cy', 'Dee', 'Eve'] as const).map(async (name, i) =>
        (await peer(name, (i % 2) as 0 | 1)).emitWithAck('join', { roomId }),
      ),
    );
    expect(answers.filter((a) => a.ok)).toHaveLength(4);
    expect(answers.filter((a) => !a.ok)).toEqual([
      { ok: false, error: expect.objectContaining({ code: 'room_full' }) },
    ]);
  });

  it('resumes a slot on the other process after the connection dropped', async () => {
    const roomId = await newCall();
    const a = await peer('Ana', 0);
    let b = await peer('Ben', 1);
    a.emit('join', { roomId });
    await a.next('joined');
    b.emit('join', { roomId });
    const jb = await b.next('joined');
    b.close();
    await a.next('room-state', (s) => s.peers.some((p) => !p.connected));
    b = await peer('Ben', 0);
    b.emit('join', { roomId, resume: jb.resumeToken });
    expect(await b.next('joined')).toMatchObject({ resumed: true, self: { peerId: jb.self.peerId } });
    await a.next('room-state', (s) => s.peers.every((p) => p.connected));
    // The old process's grace timer must not release the resumed slot.
    expect(one.services.presence.pendingTimers + two.services.presence.pendingTimers).toBe(1);
    await two.services.presence.members(roomId as never);
    expect((await one.services.presence.members(roomId as never)).map((m) => m.connected)).toEqual([true, true]);
  });

  it('carries chat across processes: the original to everyone in the room, once', async () => {
    const roomId = await newCall();
    const a = await peer('Cy', 0);
    const b = await peer('Dee', 1);
    const c = await peer('Eve', 1);
    a.emit('join', { roomId, language: 'en' });
    b.emit('join', { roomId, language: 'es' });
    c.emit('join', { roomId, language: 'en' });
    await Promise.all([a.next('joined'), b.next('joined'), c.next('joined')]);
    const ack = await a.emitWithAck('chat:send', { roomId, text: 'Hello across processes', clientId: 'x1' });
    expect(ack.ok).toBe(true);
    for (const p of [a, b, c]) expect(await p.next('chat:message')).toMatchObject({ id: ack.message.id });
    const sync = await c.emitWithAck('chat:send', { roomId, text: 'sync', clientId: 'x2' });
    expect(sync.ok).toBe(true);
    for (const p of [a, b, c]) {
      await p.next('chat:message', (m) => m.id === sync.message.id);
      expect(p.pending('chat:message')).toEqual([]);
    }
  });
});
