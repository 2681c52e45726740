import { randomUUID } from 'node:crypto';
import { signInternalRequest } from '@fusionflow/kit';
import { type SfuRoomInfo, SfuRoomsResponse } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RTCPeerConnection } from 'werift';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';
import { offerFrom } from './test-media.js';

const secret = 'ban-media-internal-secret-0123456789abcdef';

/**
 * A room ban on the control plane, against the real SFU (the embedded child process): the banned
 * viewer's sessions in that room are closed by the time the moderator's ban is acknowledged, the
 * grant they still hold no longer opens the room, and their tips into it are refused.
 */
describe.each(testDatabases())('a room ban ends the banned user’s media ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  const pcs: RTCPeerConnection[] = [];
  const sockets: TestPeer[] = [];

  beforeAll(async () => {
    t = await startTestPlatform(db, {
      port: 0,
      sfuEmbedded: true,
      sfuInternalSecret: secret,
      paymentsDevProvider: 'true',
    });
    url = await t.platform.listen();
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const pc of pcs) await pc.close();
    await t?.close();
  });

  const grant = async (token: string, roomId: string, role: 'publish' | 'subscribe') =>
    t.call('POST', `/api/rooms/${roomId}/grants`, { token, body: { role } });
  const session = async (path: string, token: string, direction: 'sendonly' | 'recvonly') => {
    const { pc, sdp } = await offerFrom(direction);
    pcs.push(pc);
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
      body: sdp,
    });
    const body = await res.text();
    if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
    return { status: res.status, body };
  };
  const sfuRoom = async (roomId: string): Promise<SfuRoomInfo | undefined> => {
    const path = '/api/admin/rooms';
    const res = await fetch(`${t.platform.sfuUrl()}${path}`, { headers: signInternalRequest(secret, 'GET', path, '') });
    return SfuRoomsResponse.parse(await res.json()).rooms.find((r) => r.room === roomId);
  };

  it('closes their SFU sessions before the ban is acknowledged, refuses their grant and their tips', async () => {
    const owner = await t.signUp('Streamer', { role: 'streamer' });
    const fan = await t.signUp('Troll');
    const bystander = await t.signUp('Bystander');
    const roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'Show' } }))
      .body.id as string;
    const publish = await grant(owner.token, roomId, 'publish');
    expect((await session(`/api/whip/publish/${roomId}`, publish.body.token, 'sendonly')).status).toBe(201);
    const held = (await grant(fan.token, roomId, 'subscribe')).body.token as string;
    // Two tabs of the troll (a grant each: one grant opens one session), and somebody else watching.
    const secondTab = (await grant(fan.token, roomId, 'subscribe')).body.token as string;
    for (const token of [held, secondTab, (await grant(bystander.token, roomId, 'subscribe')).body.token]) {
      expect((await session(`/api/whep/play/${roomId}`, token, 'recvonly')).status).toBe(201);
    }
    const watching = (await sfuRoom(roomId))!.subscribers.map((s) => s.userId);
    expect(watching.sort()).toEqual([bystander.id, fan.id, fan.id].sort());

    const packs = (await t.call('GET', '/api/wallet/packs')).body.packs as { id: string; priceCents: number }[];
    const bought = await t.call('POST', '/api/wallet/purchases', {
      token: fan.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { packId: packs[0]!.id, expectedPriceCents: packs[0]!.priceCents },
    });
    expect(bought.status).toBe(201);

    const host = await connectPeer(url, owner.token);
    sockets.push(host);
    host.emit('join', { roomId });
    await host.next('joined');
    expect(await host.emitWithAck('chat:moderate', { roomId, action: 'ban', userId: fan.id })).toEqual({ ok: true });
    // Acknowledged: the troll's sessions are gone already, the bystander's is not.
    expect((await sfuRoom(roomId))!.subscribers.map((s) => s.userId)).toEqual([bystander.id]);

    const replay = await session(`/api/whep/play/${roomId}`, held, 'recvonly');
    expect(replay.status).toBe(403);
    expect(JSON.parse(replay.body).error.code).toBe('grant_revoked');
    const fresh = await grant(fan.token, roomId, 'subscribe');
    expect(fresh.status).toBe(403);
    expect(fresh.body.error.code).toBe('banned');
    const tip = await t.call('POST', `/api/rooms/${roomId}/tips`, {
      token: fan.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { amount: 5 },
    });
    expect(tip.status).toBe(403);
    expect(tip.body.error.code).toBe('banned');
    expect((await t.call('GET', '/api/wallet', { token: fan.token })).body.balance).toBe(bought.body.balance);

    // Lifted: a new grant opens the room again.
    expect(await host.emitWithAck('chat:moderate', { roomId, action: 'unban', userId: fan.id })).toEqual({ ok: true });
    const after = await grant(fan.token, roomId, 'subscribe');
    expect(after.status).toBe(200);
    // Grants carry whole seconds: one issued in the second of the ban counts as revoked.
    await new Promise((r) => setTimeout(r, 1100 - (Date.now() % 1000)));
    const again = await grant(fan.token, roomId, 'subscribe');
    expect((await session(`/api/whep/play/${roomId}`, again.body.token, 'recvonly')).status).toBe(201);
  }, 60_000);
});
