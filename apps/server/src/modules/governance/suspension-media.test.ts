import { signInternalRequest } from '@fusionflow/kit';
import { type SfuRoomInfo, SfuRoomsResponse } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RTCPeerConnection } from 'werift';
import { testDatabases } from '../../db/test-databases.js';
import type { TestPlatform } from '../../test-support.js';
import { offerFrom } from '../live/test-media.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';
import { createRoom, startGovernancePlatform } from './test-governance.js';

const secret = 'suspension-media-internal-secret-0123456789';

/**
 * A suspension against the real embedded SFU: by the time the admin's request is answered, the
 * suspended streamer's broadcast has ended (its viewer's session too), the stream they watched
 * elsewhere is closed, the grant they hold is refused, their socket is closed and their refresh
 * token is dead.
 */
describe.each(testDatabases())('a suspension ends the user’s media, sockets and broadcast ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  const pcs: RTCPeerConnection[] = [];
  const sockets: TestPeer[] = [];

  beforeAll(async () => {
    t = await startGovernancePlatform(db, { sfuEmbedded: true, sfuInternalSecret: secret });
    url = await t.platform.listen();
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const pc of pcs) await pc.close();
    await t?.close();
  });

  const grant = async (token: string, roomId: string, role: 'publish' | 'subscribe') =>
    (await t.call('POST', `/api/rooms/${roomId}/grants`, { token, body: { role } })).body.token as string;
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

  it('ends them all before the suspension is acknowledged', async () => {
    const admin = await t.signUpAs('Admin', 'admin');
    const streamer = await t.signUp('Suspended Streamer', { role: 'streamer' });
    const viewer = await t.signUp('Their Viewer');
    const other = await t.signUp('Other Streamer', { role: 'streamer' });
    const own = await createRoom(t, streamer.token, 'live', 'Mine');
    const elsewhere = await createRoom(t, other.token, 'live', 'Theirs');
    expect(
      (await session(`/api/whip/publish/${own}`, await grant(streamer.token, own, 'publish'), 'sendonly')).status,
    ).toBe(201);
    expect(
      (await session(`/api/whip/publish/${elsewhere}`, await grant(other.token, elsewhere, 'publish'), 'sendonly'))
        .status,
    ).toBe(201);
    expect(
      (await session(`/api/whep/play/${own}`, await grant(viewer.token, own, 'subscribe'), 'recvonly')).status,
    ).toBe(201);
    const held = await grant(streamer.token, elsewhere, 'subscribe');
    expect((await session(`/api/whep/play/${elsewhere}`, held, 'recvonly')).status).toBe(201);
    const spare = await grant(streamer.token, elsewhere, 'subscribe');
    await t.call('PATCH', `/api/rooms/${own}`, { token: streamer.token, body: { status: 'live' } });
    const socket = await connectPeer(url, streamer.token);
    sockets.push(socket);
    socket.emit('join', { roomId: own });
    await socket.next('joined');
    expect((await sfuRoom(own))?.subscribers.map((s) => s.userId)).toEqual([viewer.id]);

    const res = await t.call('POST', `/api/admin/users/${streamer.id}/suspension`, {
      token: admin.token,
      body: { reason: 'broadcasting stolen content' },
    });
    expect(res.status).toBe(200);

    // Answered: their broadcast is over (and with it their viewer's session), the stream they watched is closed.
    expect((await t.call('GET', `/api/rooms/${own}`)).body.status).toBe('ended');
    const mine = await sfuRoom(own);
    expect(mine?.publisher ?? null).toBeNull();
    expect(mine?.subscribers ?? []).toEqual([]);
    expect((await sfuRoom(elsewhere))!.subscribers.map((s) => s.userId)).not.toContain(streamer.id);
    const replay = await session(`/api/whep/play/${elsewhere}`, spare, 'recvonly');
    expect(replay.status).toBe(403);
    expect(JSON.parse(replay.body).error.code).toBe('grant_revoked');
    // Their socket was told why and closed.
    const told = await socket.next('error');
    expect(told).toMatchObject({ code: 'session_ended', message: expect.stringContaining('suspended') });
    expect((await t.call('POST', '/api/auth/refresh', { cookie: streamer.cookie })).status).toBe(401);
    // The other broadcast goes on.
    expect((await sfuRoom(elsewhere))!.publisher).not.toBeNull();
  }, 60_000);
});
