import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';

describe.each(testDatabases())('channels on $name', (db) => {
  let t: TestPlatform;
  let streamer: { token: string; id: string };
  let handle: string;
  beforeAll(async () => {
    t = await startTestPlatform(db);
    streamer = await t.signUp('Channel Owner', { role: 'streamer' });
    handle = (await t.call('GET', '/api/me', { token: streamer.token })).body.handle;
  });
  afterAll(() => t.close());

  it('answers 404 channel_not_found for an unknown or impossible handle', async () => {
    for (const path of ['/api/channels/nobody-here', '/api/channels/no_such', '/api/channels/admin']) {
      const res = await t.call('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('channel_not_found');
    }
  });

  it('shows an offline channel with nothing broadcast yet', async () => {
    const res = await t.call('GET', `/api/channels/${handle}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      handle,
      ownerId: streamer.id,
      displayName: 'Channel Owner',
      live: null,
      latestRoom: null,
    });
  });

  it('shows the live room while live, then offline with the ended broadcast as the latest', async () => {
    const created = await t.call('POST', '/api/rooms', {
      token: streamer.token,
      body: { kind: 'live', title: 'Tonight', ticketPrice: 7 },
    });
    expect(created.body.ownerHandle).toBe(handle);
    // A call is no broadcast: it never shows on the channel.
    await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'call', title: 'Private' } });
    const waiting = await t.call('GET', `/api/channels/${handle}`);
    expect(waiting.body.live).toBeNull();
    expect(waiting.body.latestRoom).toMatchObject({ id: created.body.id, status: 'created' });

    await t.call('PATCH', `/api/rooms/${created.body.id}`, { token: streamer.token, body: { status: 'live' } });
    const live = await t.call('GET', `/api/channels/${handle.toUpperCase()}`);
    expect(live.status).toBe(200);
    expect(live.body.live).toMatchObject({
      id: created.body.id,
      status: 'live',
      title: 'Tonight',
      ticketPrice: 7,
      ownerHandle: handle,
    });
    expect(live.body.latestRoom.id).toBe(created.body.id);

    await t.call('POST', `/api/rooms/${created.body.id}/end`, { token: streamer.token });
    const offline = await t.call('GET', `/api/channels/${handle}`);
    expect(offline.body.live).toBeNull();
    expect(offline.body.latestRoom).toMatchObject({ id: created.body.id, status: 'ended' });
  });

  it('follows a handle change: the new address works, the old one is gone', async () => {
    const owner = await t.signUp('Mover', { role: 'streamer' });
    const res = await t.call('PATCH', '/api/me', { token: owner.token, body: { handle: 'moved-here' } });
    expect(res.status).toBe(200);
    expect((await t.call('GET', '/api/channels/moved-here')).body.ownerId).toBe(owner.id);
    expect((await t.call('GET', '/api/channels/mover')).status).toBe(404);
  });
});
