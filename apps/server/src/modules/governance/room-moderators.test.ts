import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import type { TestPlatform } from '../../test-support.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';
import { createRoom, startGovernancePlatform } from './test-governance.js';

describe.each(testDatabases())('channel moderators ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  const sockets: TestPeer[] = [];

  beforeAll(async () => {
    t = await startGovernancePlatform(db);
    url = await t.platform.listen();
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
  const appoint = (token: string, roomId: string, userId: string) =>
    t.call('POST', `/api/rooms/${roomId}/moderators`, { token, body: { userId } });

  it('moderate the room they were appointed to, and no other', async () => {
    const owner = await t.signUp('Owner A', { role: 'streamer' });
    const otherOwner = await t.signUp('Owner B', { role: 'streamer' });
    const mod = await t.signUp('Channel Mod');
    const viewer = await t.signUp('Chatty');
    const roomA = await createRoom(t, owner.token, 'live', 'A');
    const roomB = await createRoom(t, otherOwner.token, 'live', 'B');

    const added = await appoint(owner.token, roomA, mod.id);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ roomId: roomA, userId: mod.id, displayName: 'Channel Mod', addedBy: owner.id });
    expect((await t.call('GET', `/api/rooms/${roomA}/moderators`, { token: mod.token })).body.moderators).toHaveLength(
      1,
    );

    // In A: the moderator's chat state says so, and delete, mute, ban and settings work.
    const modA = await join(mod.token, roomA);
    expect((await modA.next('chat:state')).canModerate).toBe(true);
    const viewerA = await join(viewer.token, roomA);
    const msg = await viewerA.emitWithAck('chat:send', { roomId: roomA, text: 'rude words', clientId: 'a1' });
    expect(await modA.emitWithAck('chat:delete', { roomId: roomA, messageId: msg.message.id })).toEqual({ ok: true });
    expect(
      await modA.emitWithAck('chat:moderate', {
        roomId: roomA,
        action: 'mute',
        userId: viewer.id,
        durationSeconds: 30,
      }),
    ).toEqual({ ok: true });
    expect(await modA.emitWithAck('chat:settings', { roomId: roomA, slowModeSeconds: 3 })).toMatchObject({ ok: true });
    // …but not against the owner, platform staff or another channel moderator.
    const staff = await t.signUpAs('Platform Mod', 'moderator');
    const secondMod = await t.signUp('Second Mod');
    await appoint(owner.token, roomA, secondMod.id);
    for (const target of [owner.id, staff.id, secondMod.id]) {
      const res = await modA.emitWithAck('chat:moderate', { roomId: roomA, action: 'ban', userId: target });
      expect(res.ok, target).toBe(false);
      expect(res.error.code).toBe('forbidden');
    }

    // In B: nothing.
    const modB = await join(mod.token, roomB);
    expect((await modB.next('chat:state')).canModerate).toBe(false);
    const viewerB = await join(viewer.token, roomB);
    const msgB = await viewerB.emitWithAck('chat:send', { roomId: roomB, text: 'hello B', clientId: 'b1' });
    for (const [event, body] of [
      ['chat:delete', { roomId: roomB, messageId: msgB.message.id }],
      ['chat:moderate', { roomId: roomB, action: 'ban', userId: viewer.id }],
      ['chat:settings', { roomId: roomB, slowModeSeconds: 60 }],
    ] as const) {
      const res = await modB.emitWithAck(event, body);
      expect(res.ok, event).toBe(false);
      expect(res.error.code).toBe('forbidden');
    }
    expect((await t.call('GET', `/api/rooms/${roomB}/moderators`, { token: mod.token })).status).toBe(403);

    const audit = await t.call('GET', `/api/admin/audit?roomId=${roomA}&actorId=${mod.id}`, {
      token: (await t.signUpAs('Audit Admin', 'admin')).token,
    });
    expect(audit.body.events.map((e: { action: string; actorRole: string }) => [e.action, e.actorRole])).toEqual([
      ['chat.settings', 'channel_moderator'],
      ['chat.mute', 'channel_moderator'],
      ['chat.delete', 'channel_moderator'],
    ]);

    // Removed: the powers end.
    expect((await t.call('DELETE', `/api/rooms/${roomA}/moderators/${mod.id}`, { token: owner.token })).status).toBe(
      204,
    );
    const after = await modA.emitWithAck('chat:moderate', { roomId: roomA, action: 'unmute', userId: viewer.id });
    expect(after.ok).toBe(false);
    expect((await t.call('DELETE', `/api/rooms/${roomA}/moderators/${mod.id}`, { token: owner.token })).status).toBe(
      404,
    );
  });

  it('are appointed by the room’s owner or an admin only', async () => {
    const owner = await t.signUp('Owner C', { role: 'streamer' });
    const mod = await t.signUp('Mod C');
    const stranger = await t.signUp('Stranger');
    const room = await createRoom(t, owner.token, 'live', 'C');
    expect((await appoint(owner.token, room, mod.id)).status).toBe(201);
    // Neither a stranger nor a channel moderator appoints or removes anyone.
    for (const token of [stranger.token, mod.token]) {
      const res = await appoint(token, room, stranger.id);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('not_room_owner');
      expect((await t.call('DELETE', `/api/rooms/${room}/moderators/${mod.id}`, { token })).status).toBe(403);
    }
    expect((await appoint(owner.token, room, owner.id)).status).toBe(400);
    const admin = await t.signUpAs('Admin C', 'admin');
    expect((await appoint(admin.token, room, stranger.id)).status).toBe(201);
    // Appointing twice is one appointment.
    expect((await appoint(owner.token, room, stranger.id)).status).toBe(201);
    expect((await t.call('GET', `/api/rooms/${room}/moderators`, { token: owner.token })).body.moderators).toHaveLength(
      2,
    );
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
    expect((await appoint(guest, room, stranger.id)).status).toBe(403);
  });
});
