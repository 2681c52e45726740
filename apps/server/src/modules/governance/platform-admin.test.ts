import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import type { TestPlatform } from '../../test-support.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';
import { buy, createRoom, key, startGovernancePlatform } from './test-governance.js';

describe.each(testDatabases())('live now, platform words and studios ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  let admin: { token: string; id: string };
  const sockets: TestPeer[] = [];

  beforeAll(async () => {
    t = await startGovernancePlatform(db);
    url = await t.platform.listen();
    admin = await t.signUpAs('Platform Admin', 'admin');
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.close();
  });

  const join = async (token: string, roomId: string) => {
    const peer = await connectPeer(url, token);
    sockets.push(peer);
    peer.emit('join', { roomId });
    await peer.next('joined');
    return peer;
  };

  it('lists every live broadcast and call, and ends one with a reason its audience is told', async () => {
    const streamer = await t.signUp('Live Streamer', { role: 'streamer' });
    const caller = await t.signUp('Caller');
    const live = await createRoom(t, streamer.token, 'live', 'Live show');
    await t.call('PATCH', `/api/rooms/${live}`, { token: streamer.token, body: { status: 'live' } });
    const call = await createRoom(t, caller.token, 'call', 'A call');
    await join(caller.token, call);
    const res = await t.call('GET', '/api/admin/live', { token: admin.token });
    expect(res.status).toBe(200);
    const byId = new Map(res.body.rooms.map((r: { roomId: string }) => [r.roomId, r]));
    expect(byId.get(live)).toMatchObject({ kind: 'live', ownerName: 'Live Streamer', viewers: 0, node: 'embedded' });
    expect(byId.get(call)).toMatchObject({ kind: 'call', viewers: 1, node: 'p2p' });
    expect((byId.get(live) as { durationSeconds: number }).durationSeconds).toBeGreaterThanOrEqual(0);

    const viewer = await join((await t.signUp('Watcher')).token, live);
    const ended = await t.call('POST', `/api/admin/live/${live}/end`, {
      token: admin.token,
      body: { reason: 'breaks the terms of service' },
    });
    expect(ended.status).toBe(200);
    expect(ended.body.status).toBe('ended');
    const told = await viewer.next('room-state', (s) => s.status === 'ended');
    expect(told.endReason).toBe('breaks the terms of service');
    const audit = await t.call('GET', `/api/admin/audit?roomId=${live}&action=live.end`, { token: admin.token });
    expect(audit.body.events[0]).toMatchObject({ actorId: admin.id, reason: 'breaks the terms of service' });
    expect((await t.call('POST', `/api/admin/live/${live}/end`, { token: admin.token, body: {} })).status).toBe(400);
  });

  it('blocks platform-wide words in every room, merged with each room’s own list, tips included', async () => {
    const owner = await t.signUp('Word Owner', { role: 'streamer' });
    const room = await createRoom(t, owner.token);
    const host = await join(owner.token, room);
    await host.emitWithAck('chat:settings', { roomId: room, blockedWords: ['pineapple'] });
    const set = await t.call('PUT', '/api/admin/blocked-words', {
      token: admin.token,
      body: { words: ['Scam', 'free coins'] },
    });
    expect(set.body.words).toEqual(['scam', 'free coins']);
    expect((await t.call('GET', '/api/admin/blocked-words', { token: admin.token })).body.words).toEqual([
      'scam',
      'free coins',
    ]);
    const fan = await t.signUp('Word Fan');
    const peer = await join(fan.token, room);
    for (const text of ['this is a SCAM', 'get free coins here', 'pineapple pizza']) {
      const res = await peer.emitWithAck('chat:send', { roomId: room, text, clientId: `w${text.length}` });
      expect(res.ok, text).toBe(false);
      expect(res.error.code).toBe('message_blocked');
    }
    expect((await peer.emitWithAck('chat:send', { roomId: room, text: 'hello there', clientId: 'ok1' })).ok).toBe(true);
    await buy(t, fan.token);
    const tip = await t.call('POST', `/api/rooms/${room}/tips`, {
      token: fan.token,
      headers: { 'idempotency-key': key() },
      body: { amount: 1, message: 'scam' },
    });
    expect(tip.status).toBe(422);
    // The room's own list stays the room's.
    const state = await host.emitWithAck('chat:settings', { roomId: room });
    expect(state.blockedWords).toEqual(['pineapple']);
    const audit = await t.call('GET', '/api/admin/audit?action=platform.blocked_words', { token: admin.token });
    expect(audit.body.events[0].details).toEqual({ added: ['scam', 'free coins'], removed: [] });
  });

  it('creates studios, attaches and detaches streamers, and shows the share they get', async () => {
    const created = await t.call('POST', '/api/admin/studios', {
      token: admin.token,
      body: { email: 'Studio@Example.com', displayName: 'Big Studio', password: 'studio password 1' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      displayName: 'Big Studio',
      email: 'studio@example.com',
      sharePercent: 30,
      streamers: [],
      earned: 0,
    });
    const studioId = created.body.id as string;
    const login = await t.call('POST', '/api/auth/login', {
      body: { email: 'studio@example.com', password: 'studio password 1' },
    });
    expect(login.body.user.role).toBe('studio');
    const taken = await t.call('POST', '/api/admin/studios', {
      token: admin.token,
      body: { email: 'studio@example.com', displayName: 'Again', password: 'studio password 1' },
    });
    expect(taken.body.error.code).toBe('email_taken');

    const streamer = await t.signUp('Studio Streamer', { role: 'streamer' });
    const viewer = await t.signUp('Not A Streamer');
    const attached = await t.call('POST', `/api/admin/studios/${studioId}/streamers`, {
      token: admin.token,
      body: { userId: streamer.id },
    });
    expect(attached.body.streamers).toEqual([{ id: streamer.id, displayName: 'Studio Streamer' }]);
    expect(
      (
        await t.call('POST', `/api/admin/studios/${studioId}/streamers`, {
          token: admin.token,
          body: { userId: viewer.id },
        })
      ).status,
    ).toBe(400);
    // A tip to the attached streamer: the studio's 30 %.
    const room = await createRoom(t, streamer.token);
    const fan = await t.signUp('Studio Fan');
    await buy(t, fan.token);
    await t.call('POST', `/api/rooms/${room}/tips`, {
      token: fan.token,
      headers: { 'idempotency-key': key() },
      body: { amount: 10 },
    });
    const listed = (await t.call('GET', '/api/admin/studios', { token: admin.token })).body.studios.find(
      (s: { id: string }) => s.id === studioId,
    );
    expect(listed.earned).toBe(3);
    const detached = await t.call('DELETE', `/api/admin/studios/${studioId}/streamers/${streamer.id}`, {
      token: admin.token,
    });
    expect(detached.body.streamers).toEqual([]);
    expect(
      (await t.call('DELETE', `/api/admin/studios/${studioId}/streamers/${streamer.id}`, { token: admin.token }))
        .status,
    ).toBe(404);
    const audit = await t.call('GET', `/api/admin/audit?targetId=${streamer.id}`, { token: admin.token });
    expect(audit.body.events.map((e: { action: string }) => e.action)).toEqual(['studio.detach', 'studio.attach']);
  });
});
