import { randomUUID } from 'node:crypto';
import { createLogger } from '@fusionflow/kit';
import { asRoomId, asUserId, type RoomId } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import type { Session } from '../identity/access-tokens.js';
import { RoomService } from './room-service.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const key = () => `k-${randomUUID()}`;
const T0 = Date.parse('2026-01-05T20:00:00.000Z');

describe.each(testDatabases())('broadcast summary on $name', (db) => {
  let t: TestPlatform;
  let streamer: { token: string; id: string };
  let viewer: { token: string; id: string };
  let admin: { token: string; id: string };
  /** A room service on the platform's database whose clock the test sets (seconds after T0). */
  let at = 0;
  let rooms: RoomService;

  beforeAll(async () => {
    t = await startTestPlatform(db, {
      paymentsDevProvider: 'true',
      tokenPacks: [{ id: 'hundred', tokens: 100, priceCents: 100, currency: 'USD' }],
      platformFeePercent: 20,
      studioSharePercent: 30,
    });
    streamer = await t.signUp('Streamer', { role: 'streamer' });
    viewer = await t.signUp('Viewer');
    admin = await t.signUpAs('Admin', 'admin');
    rooms = new RoomService(t.database.db, logger, undefined, { now: () => new Date(T0 + at * 1000) });
  });
  afterAll(() => t.close());

  const createRoom = async (body: Record<string, unknown> = {}) => {
    const res = await t.call('POST', '/api/rooms', {
      token: streamer.token,
      body: { kind: 'live', title: 'Show', ...body },
    });
    expect(res.status).toBe(201);
    return asRoomId(res.body.id);
  };
  const summary = (id: string, token = streamer.token) => t.call('GET', `/api/rooms/${id}/summary`, { token });
  const owner = (): Session => ({
    userId: asUserId(streamer.id),
    role: 'streamer',
    displayName: 'Streamer',
    language: 'en',
    isGuest: false,
    sessionId: null,
  });
  const stats = (id: RoomId) =>
    t.database.db
      .selectFrom('rooms')
      .select(['viewer_count', 'peak_viewers', 'viewer_seconds'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  it('integrates the viewer count over the time live: 0 → 3 → 5 → 2 gives peak 5 and the exact average', async () => {
    const id = await createRoom();
    at = 0;
    await rooms.transition(id, 'live');
    at = 10;
    await rooms.setViewerCount(id, 3);
    at = 20;
    await rooms.setViewerCount(id, 5);
    at = 30;
    await rooms.setViewerCount(id, 2);
    // Still live: the figures run up to now (the last 5 s at 2 viewers).
    at = 35;
    expect(await rooms.summary(owner(), id)).toMatchObject({
      status: 'live',
      durationSeconds: 35,
      peakViewers: 5,
      averageViewers: Math.round((90 / 35) * 10) / 10,
    });
    at = 40;
    await rooms.transition(id, 'ended');
    // After the end the integral is closed: 3·10 + 5·10 + 2·10 = 100 viewer·seconds over 40 s.
    expect(await stats(id)).toMatchObject({ viewer_count: 0, peak_viewers: 5, viewer_seconds: 100 });
    // A late report from the media plane changes nothing.
    at = 50;
    await rooms.setViewerCount(id, 9);
    const res = await summary(id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      roomId: id,
      status: 'ended',
      durationSeconds: 40,
      peakViewers: 5,
      averageViewers: 2.5,
      tipsEarned: 0,
      ticketsSold: 0,
      ticketsEarned: 0,
      messages: 0,
    });
  });

  it('counts viewers who were waiting before the room went live from the moment it does', async () => {
    const id = await createRoom();
    at = 0;
    await rooms.setViewerCount(id, 4);
    at = 100;
    await rooms.transition(id, 'live');
    at = 110;
    await rooms.transition(id, 'ended');
    expect((await summary(id)).body).toMatchObject({ durationSeconds: 10, peakViewers: 4, averageViewers: 4 });
  });

  it('reports what two tips and a ticket earned the streamer after the platform fee, and the chat messages', async () => {
    const id = await createRoom({ ticketPrice: 10 });
    const other = await createRoom();
    for (const room of [id, other]) {
      expect(
        (await t.call('PATCH', `/api/rooms/${room}`, { token: streamer.token, body: { status: 'live' } })).status,
      ).toBe(200);
    }
    const bought = await t.call('POST', '/api/wallet/purchases', {
      token: viewer.token,
      headers: { 'idempotency-key': key() },
      body: { packId: 'hundred', expectedPriceCents: 100, provider: 'dev' },
    });
    expect(bought.status).toBe(201);
    const tip = (room: string, amount: number) =>
      t.call('POST', `/api/rooms/${room}/tips`, {
        token: viewer.token,
        headers: { 'idempotency-key': key() },
        body: { amount },
      });
    expect((await tip(id, 50)).status).toBe(201);
    expect((await tip(id, 7)).status).toBe(201);
    expect((await tip(other, 5)).status).toBe(201);
    const ticket = await t.call('POST', `/api/rooms/${id}/tickets`, {
      token: viewer.token,
      headers: { 'idempotency-key': key() },
      body: { expectedPrice: 10 },
    });
    expect(ticket.status).toBe(201);
    const message = (room: string, text: string, deleted = false) => ({
      room_id: room,
      author_id: viewer.id,
      author_name: 'Viewer',
      author_moderator: false,
      client_id: randomUUID(),
      language: 'en',
      text,
      text_hash: text,
      deleted_at: deleted ? new Date() : null,
    });
    await t.database.db
      .insertInto('chat_messages')
      .values([message(id, 'hi'), message(id, 'great show'), message(id, 'spam', true), message(other, 'elsewhere')])
      .execute();
    expect((await t.call('POST', `/api/rooms/${id}/end`, { token: streamer.token })).status).toBe(200);

    const res = await summary(id);
    expect(res.status).toBe(200);
    // 20 % platform fee: 50 → 40, 7 → 6 (the fee rounds down), ticket 10 → 8.
    expect(res.body).toMatchObject({
      status: 'ended',
      tipsEarned: 46,
      ticketsSold: 1,
      ticketsEarned: 8,
      messages: 2,
    });
  });

  it('is for the owner and admins: others get 403, unknown rooms 404, calls and rooms never live 409', async () => {
    const id = await createRoom();
    const notStarted = await summary(id);
    expect(notStarted.status).toBe(409);
    expect(notStarted.body.error.code).toBe('room_not_started');
    at = 0;
    await rooms.transition(id, 'live');
    const other = await summary(id, viewer.token);
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('not_room_owner');
    expect((await summary(id, admin.token)).status).toBe(200);
    expect((await t.call('GET', `/api/rooms/${id}/summary`)).status).toBe(401);
    const unknown = await summary('no-such-room');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('room_not_found');
    const call = await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'call', title: 'Call' } });
    const callSummary = await summary(call.body.id);
    expect(callSummary.status).toBe(409);
    expect(callSummary.body.error.code).toBe('wrong_room_kind');
  });

  it('loses nothing to parallel viewer-count reports: every interval is counted once and the peak is kept', async () => {
    const id = await createRoom();
    at = 0;
    await rooms.transition(id, 'live');
    await rooms.setViewerCount(id, 2);
    // 40 reports at once, stamped 1 s … 40 s: the count stays 2, so whatever order the database
    // applies them in the integral is 2 viewers × the whole time, no interval lost or doubled.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        at = i + 1;
        return rooms.setViewerCount(id, 2);
      }),
    );
    at = 50;
    await rooms.transition(id, 'ended');
    expect(await stats(id)).toMatchObject({ peak_viewers: 2, viewer_seconds: 100 });

    // Different counts at once: the peak is the largest of them, whatever the order.
    const id2 = await createRoom();
    at = 0;
    await rooms.transition(id2, 'live');
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        at = i + 1;
        return rooms.setViewerCount(id2, i + 1);
      }),
    );
    const after = await stats(id2);
    expect(after.peak_viewers).toBe(40);
    // The integral never exceeds the peak times the time elapsed, nor goes negative.
    expect(after.viewer_seconds).toBeGreaterThanOrEqual(0);
    expect(after.viewer_seconds).toBeLessThanOrEqual(40 * 40);
  });
});
