import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signInternalRequest } from '@fusionflow/kit';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { RecordingService } from './recording-service.js';

const secret = 'a-shared-secret-between-control-and-media';

describe.each(testDatabases())('recordings on the control plane ($name)', (db) => {
  let t: TestPlatform;
  let sfu: Server;
  let owner: { token: string; id: string };

  beforeAll(async () => {
    // A stand-in SFU that has no rooms.
    sfu = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"rooms":[]}'));
    await new Promise<void>((r) => sfu.listen(0, '127.0.0.1', r));
    const sfuUrl = `http://127.0.0.1:${(sfu.address() as AddressInfo).port}`;
    t = await startTestPlatform(db, { sfuUrl, sfuInternalSecret: secret });
    owner = await t.signUp('Host', { role: 'streamer' });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((r) => sfu.close(r));
  });

  const newRoom = async (extra: Record<string, unknown> = {}) => {
    const res = await t.call('POST', '/api/rooms', {
      token: owner.token,
      body: { kind: 'live', title: 'Show', ...extra },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; record: boolean };
  };
  const publishClaims = async (room: string) => {
    const res = await t.call('POST', `/api/rooms/${room}/grants`, { token: owner.token, body: { role: 'publish' } });
    expect(res.status).toBe(200);
    return decodeJwt(res.body.token as string) as { rec?: { id: string; format: string } };
  };
  const signed = (path: string, payload: unknown, signWith = secret) => {
    const body = JSON.stringify(payload);
    return t.call('POST', path, {
      raw: body,
      headers: { 'content-type': 'application/json', ...signInternalRequest(signWith, 'POST', path, body, Date.now()) },
    });
  };
  const report = (id: string, room: string, status: string) => ({
    id,
    room,
    format: 'webm',
    status,
    startedAt: new Date().toISOString(),
    endedAt: status === 'recording' ? null : new Date().toISOString(),
    durationMs: status === 'recording' ? 0 : 8000,
    files:
      status === 'ready'
        ? [{ name: `${id}.webm`, storage: 'local', key: `${id}.webm`, bytes: 10, contentType: 'video/webm' }]
        : [],
  });

  it('records live rooms by default: publish grants name the room’s recording, reused until it is final', async () => {
    const room = await newRoom();
    expect(room.record).toBe(true);
    const first = await publishClaims(room.id);
    expect(first.rec?.format).toBe('webm');
    expect(first.rec?.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await publishClaims(room.id)).rec?.id).toBe(first.rec?.id);
    expect((await signed('/api/internal/sfu/recordings', report(first.rec!.id, room.id, 'recording'))).status).toBe(
      204,
    );
    expect((await publishClaims(room.id)).rec?.id).toBe(first.rec?.id);
    const ready = report(first.rec!.id, room.id, 'ready');
    expect((await signed('/api/internal/sfu/recordings', ready)).status).toBe(204);
    expect((await signed('/api/internal/sfu/recordings', ready)).status).toBe(204);
    const replay = await t.call('GET', `/api/rooms/${room.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({
      id: first.rec?.id,
      roomId: room.id,
      status: 'ready',
      durationMs: 8000,
      title: 'Show',
    });
    const next = await publishClaims(room.id);
    expect(next.rec?.id).toBeDefined();
    expect(next.rec?.id).not.toBe(first.rec?.id);
  });

  it('names one recording for a burst of parallel publish grants (one open recording per room)', async () => {
    const room = await newRoom();
    const service = new RecordingService({ db: t.database.db, format: 'webm' });
    const claims = await Promise.all(Array.from({ length: 10 }, () => service.claimFor(room.id)));
    expect(new Set(claims.map((c) => c?.id)).size).toBe(1);
    const grants = await Promise.all(Array.from({ length: 5 }, () => publishClaims(room.id)));
    expect(new Set(grants.map((g) => g.rec?.id))).toEqual(new Set([claims[0]?.id]));
    const open = await t.database.db
      .selectFrom('recordings')
      .select('id')
      .where('room_id', '=', room.id)
      .where('status', 'in', ['pending', 'recording'])
      .execute();
    expect(open).toHaveLength(1);
  });

  it('names no recording for a room with record off', async () => {
    const room = await newRoom({ record: false });
    expect(room.record).toBe(false);
    expect((await publishClaims(room.id)).rec).toBeUndefined();
    expect((await t.call('GET', `/api/rooms/${room.id}/replay`)).status).toBe(404);
  });

  it('refuses forged, unknown and mismatched recording reports', async () => {
    const room = await newRoom();
    const other = await newRoom();
    const { rec } = await publishClaims(room.id);
    const body = report(rec!.id, room.id, 'recording');
    expect((await t.call('POST', '/api/internal/sfu/recordings', { body })).status).toBe(401);
    expect((await signed('/api/internal/sfu/recordings', body, 'another-secret-another-secret-another')).status).toBe(
      401,
    );
    const unknown = await signed('/api/internal/sfu/recordings', report('NoSuchRecording1', room.id, 'recording'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('recording_not_found');
    const mismatch = await signed('/api/internal/sfu/recordings', report(rec!.id, other.id, 'recording'));
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error.code).toBe('recording_room_mismatch');
    expect((await signed('/api/internal/sfu/recordings', { ...body, status: 'nonsense' })).status).toBe(400);
  });
});
