import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';

describe.each(testDatabases())('rooms on $name', (db) => {
  let t: TestPlatform;
  let streamer: { token: string; id: string };
  let viewer: { token: string; id: string };
  beforeAll(async () => {
    t = await startTestPlatform(db);
    streamer = await t.signUp('Streamer', { role: 'streamer' });
    viewer = await t.signUp('Viewer');
  });
  afterAll(() => t.close());

  it('lets a streamer create a live room, answered 201 with the room', async () => {
    const res = await t.call('POST', '/api/rooms', {
      token: streamer.token,
      body: { kind: 'live', title: '  Morning show ', ticketPrice: 5 },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'live',
      title: 'Morning show',
      status: 'created',
      ownerId: streamer.id,
      ownerName: 'Streamer',
      ticketPrice: 5,
      pricePerMinute: null,
      viewerCount: 0,
      startedAt: null,
    });
    expect(res.body.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const got = await t.call('GET', `/api/rooms/${res.body.id}`);
    expect(got.body).toEqual(res.body);
  });

  it('takes a readable id and refuses it twice', async () => {
    const first = await t.call('POST', '/api/rooms', {
      token: streamer.token,
      body: { id: 'team-sync_1', kind: 'call', title: 'Team sync', pricePerMinute: 3 },
    });
    expect(first.status).toBe(201);
    expect(first.body.id).toBe('team-sync_1');
    const before = await t.count('rooms');
    const again = await t.call('POST', '/api/rooms', {
      token: streamer.token,
      body: { id: 'team-sync_1', kind: 'call', title: 'Again' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('room_id_taken');
    expect(await t.count('rooms')).toBe(before);
  });

  it('lets any account create a call but only broadcasters a live room or a paid call', async () => {
    expect(
      (await t.call('POST', '/api/rooms', { token: viewer.token, body: { kind: 'call', title: 'Chat' } })).status,
    ).toBe(201);
    const live = await t.call('POST', '/api/rooms', { token: viewer.token, body: { kind: 'live', title: 'Mine' } });
    expect(live.status).toBe(403);
    expect(live.body.error.code).toBe('forbidden');
    const paid = await t.call('POST', '/api/rooms', {
      token: viewer.token,
      body: { kind: 'call', title: 'Paid', pricePerMinute: 10 },
    });
    expect(paid.status).toBe(403);
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken;
    expect((await t.call('POST', '/api/rooms', { token: guest, body: { kind: 'call', title: 'G' } })).status).toBe(403);
    expect((await t.call('POST', '/api/rooms', { body: { kind: 'call', title: 'Anon' } })).status).toBe(401);
  });

  it.each([
    ['a bad id', { id: 'has space', kind: 'live', title: 'x' }],
    ['a too long id', { id: 'a'.repeat(65), kind: 'live', title: 'x' }],
    ['an unknown kind', { kind: 'party', title: 'x' }],
    ['an empty title', { kind: 'live', title: ' ' }],
    ['a negative price', { kind: 'live', title: 'x', ticketPrice: -1 }],
    ['a fractional price', { kind: 'live', title: 'x', ticketPrice: 1.5 }],
    ['a ticket price on a call', { kind: 'call', title: 'x', ticketPrice: 3 }],
    ['a per-minute price on a live room', { kind: 'live', title: 'x', pricePerMinute: 3 }],
    ['an unknown field', { kind: 'live', title: 'x', status: 'live' }],
  ])('refuses %s with 400 and stores nothing', async (_what, body) => {
    const before = await t.count('rooms');
    const res = await t.call('POST', '/api/rooms', { token: streamer.token, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(await t.count('rooms')).toBe(before);
  });

  it('walks the lifecycle created → live → ended and lists live rooms', async () => {
    const room = (
      await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'Concert' } })
    ).body;
    const liveBefore = (await t.call('GET', '/api/rooms?status=live')).body.rooms.map((r: { id: string }) => r.id);
    expect(liveBefore).not.toContain(room.id);

    const notOwner = await t.call('PATCH', `/api/rooms/${room.id}`, { token: viewer.token, body: { status: 'live' } });
    expect(notOwner.status).toBe(403);
    expect(notOwner.body.error.code).toBe('not_room_owner');

    const live = await t.call('PATCH', `/api/rooms/${room.id}`, { token: streamer.token, body: { status: 'live' } });
    expect(live.status).toBe(200);
    expect(live.body.status).toBe('live');
    expect(live.body.startedAt).not.toBeNull();
    const liveNow = (await t.call('GET', '/api/rooms?status=live')).body.rooms;
    expect(liveNow.map((r: { id: string }) => r.id)).toContain(room.id);
    expect(liveNow.every((r: { status: string }) => r.status === 'live')).toBe(true);

    expect((await t.call('POST', `/api/rooms/${room.id}/end`, { token: viewer.token })).status).toBe(403);
    const ended = await t.call('POST', `/api/rooms/${room.id}/end`, { token: streamer.token });
    expect(ended.status).toBe(200);
    expect(ended.body.status).toBe('ended');
    expect(ended.body.endedAt).not.toBeNull();
    // Ending again is harmless; going back is not.
    expect((await t.call('POST', `/api/rooms/${room.id}/end`, { token: streamer.token })).status).toBe(200);
    const back = await t.call('PATCH', `/api/rooms/${room.id}`, { token: streamer.token, body: { status: 'live' } });
    expect(back.status).toBe(409);
    expect(back.body.error.code).toBe('room_ended');
    const defaultList = (await t.call('GET', '/api/rooms')).body.rooms.map((r: { id: string }) => r.id);
    expect(defaultList).not.toContain(room.id);
    const endedList = (await t.call('GET', '/api/rooms?status=ended')).body.rooms.map((r: { id: string }) => r.id);
    expect(endedList).toContain(room.id);
  });

  it('lets moderators end any room and owners edit theirs', async () => {
    const moderator = await t.signUpAs('Mod', 'moderator');
    const room = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'Old' } }))
      .body;
    const edited = await t.call('PATCH', `/api/rooms/${room.id}`, {
      token: streamer.token,
      body: { title: 'New title', ticketPrice: null },
    });
    expect(edited.body).toMatchObject({ title: 'New title', ticketPrice: null });
    const wrongPrice = await t.call('PATCH', `/api/rooms/${room.id}`, {
      token: streamer.token,
      body: { pricePerMinute: 4 },
    });
    expect(wrongPrice.status).toBe(400);
    expect((await t.call('PATCH', `/api/rooms/${room.id}`, { token: streamer.token, body: {} })).status).toBe(400);
    expect((await t.call('POST', `/api/rooms/${room.id}/end`, { token: moderator.token })).body.status).toBe('ended');
  });

  it('pages through rooms newest first with an opaque cursor', async () => {
    const owner = await t.signUp('Pager', { role: 'streamer' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: `R${i}` } })).body.id,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/rooms?owner=${owner.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await t.call('GET', q)).body;
      expect(page.rooms.length).toBeLessThanOrEqual(2);
      seen.push(...page.rooms.map((r: { id: string }) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids.toReversed());
    const bad = await t.call('GET', '/api/rooms?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect((await t.call('GET', '/api/rooms?limit=1000')).status).toBe(400);
    expect((await t.call('GET', '/api/rooms?status=paused')).status).toBe(400);
  });

  it('answers 404 for an unknown room and 400 for a malformed id', async () => {
    const missing = await t.call('GET', '/api/rooms/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('room_not_found');
    expect((await t.call('GET', '/api/rooms/bad%20id')).status).toBe(400);
  });
});
