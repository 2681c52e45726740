import { asUserId } from '@fusionflow/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { AccessTokens } from '../identity/access-tokens.js';
import { connectPeer, fakeSdp, refusedHandshake, type TestPeer } from './test-signaling.js';

const SECRET = 'signaling-test-secret-0123456789abcdef';
const GRACE_SECONDS = 3;
const MAX_BYTES = 4096;
const RATE = 40;

// The relay does not depend on the database; one (the embedded one) keeps the suite lean.
const db = testDatabases()[0]!;

describe('signaling over Socket.IO', () => {
  let t: TestPlatform;
  let url: string;
  const open: TestPeer[] = [];
  let owner: { token: string; id: string };
  let ana: { token: string; id: string };
  let ben: { token: string; id: string };

  beforeAll(async () => {
    t = await startTestPlatform(db, {
      port: 0,
      accessTokenSecret: SECRET,
      reconnectGraceSeconds: GRACE_SECONDS,
      signalingMaxMessageBytes: MAX_BYTES,
      signalingMessagesPer10s: RATE,
      testHooks: true,
    });
    url = await t.platform.listen();
    owner = await t.signUp('Owner', { role: 'streamer' });
    ana = await t.signUp('Ana');
    ben = await t.signUp('Ben');
  });
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });
  afterAll(async () => {
    await t.close();
    expect(t.platform.services.presence.pendingTimers).toBe(0);
    expect(t.platform.services.realtime.size).toBe(0);
  });

  const peer = async (token: string) => {
    const p = await connectPeer(url, token);
    open.push(p);
    return p;
  };
  const callRoom = async (body: Record<string, unknown> = {}) =>
    (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'call', title: 'Call', ...body } })).body
      .id as string;
  const join = async (p: TestPeer, roomId: string, resume?: string) => {
    p.emit('join', resume ? { roomId, resume } : { roomId });
    return p.next('joined');
  };
  /** A round trip on `p`'s connection: everything sent to it before has arrived once this resolves. */
  const sync = async (p: TestPeer) => {
    const answer = await p.emitWithAck('media-state', { camera: false, mic: false, screen: false });
    expect(answer).toEqual({ ok: true });
    await p.next('media-state');
  };

  describe('handshake', () => {
    it('refuses a connection without a token, with a bad one, or speaking another protocol', async () => {
      const none = await refusedHandshake(url, {});
      expect(none.data).toMatchObject({ code: 'unauthorized', closeCode: 4401 });
      const bad = await refusedHandshake(url, { token: 'not-a-jwt', protocol: 1 });
      expect(bad.data).toMatchObject({ code: 'unauthorized', closeCode: 4401 });
      const other = await refusedHandshake(url, { token: ana.token, protocol: 99 });
      expect(other.data).toMatchObject({ code: 'protocol_mismatch', closeCode: 4400 });
      expect(other.message).toContain('protocol 1');
    });

    it('refuses an expired access token, and closes a connection when its token expires', async () => {
      const expired = await new AccessTokens(SECRET, -5).sign({
        userId: asUserId(ana.id),
        role: 'viewer',
        displayName: 'Ana',
        language: 'en',
      });
      const refused = await refusedHandshake(url, { token: expired.token, protocol: 1 });
      expect(refused.data).toMatchObject({ code: 'token_expired', closeCode: 4402 });

      // Long enough to connect on a loaded machine, short enough to expire while connected.
      const short = await new AccessTokens(SECRET, 3).sign({
        userId: asUserId(ana.id),
        role: 'viewer',
        displayName: 'Ana',
        language: 'en',
      });
      const p = await peer(short.token);
      const closed = new Promise<string>((resolve) => p.socket.once('disconnect', resolve));
      expect(await p.next('error', undefined, 10_000)).toMatchObject({ code: 'token_expired', closeCode: 4402 });
      expect(await closed).toBe('io server disconnect');
    });
  });

  describe('join and leave', () => {
    it('joins a call, names the newcomer as initiator, takes the room live and announces departures', async () => {
      const roomId = await callRoom();
      const a = await peer(ana.token);
      const b = await peer(ben.token);
      const joinedA = await join(a, roomId);
      expect(joinedA).toMatchObject({
        resumed: false,
        links: [],
        graceSeconds: GRACE_SECONDS,
        self: { userId: ana.id, displayName: 'Ana', role: 'participant', connected: true },
        roomState: { roomId, kind: 'call', status: 'live', capacity: 4 },
      });
      expect(joinedA.self.media).toEqual({ camera: false, mic: false, screen: false });
      expect((await t.call('GET', `/api/rooms/${roomId}`)).body.status).toBe('live');

      const joinedB = await join(b, roomId);
      expect(joinedB.roomState.peers.map((p) => p.peerId)).toEqual([joinedA.self.peerId, joinedB.self.peerId]);
      expect(joinedB.links).toEqual([{ peerId: joinedA.self.peerId, initiatorId: joinedB.self.peerId }]);
      const announced = await a.next('peer-joined');
      expect(announced).toMatchObject({
        peerId: joinedB.self.peerId,
        initiatorId: joinedB.self.peerId,
        peer: { displayName: 'Ben' },
      });

      expect(await b.emitWithAck('leave')).toEqual({ ok: true });
      expect(await a.next('peer-left')).toEqual({ peerId: joinedB.self.peerId, reason: 'left' });
      // Leaving twice is an error, not a crash.
      expect(await b.emitWithAck('leave')).toMatchObject({ ok: false, error: { code: 'not_joined' } });
    });

    it('gives the host role to the room owner and refuses a second join on one connection', async () => {
      const roomId = await callRoom();
      const o = await peer(owner.token);
      expect((await join(o, roomId)).self.role).toBe('host');
      o.emit('join', { roomId });
      expect(await o.next('error')).toMatchObject({ code: 'conflict', event: 'join' });
    });

    it('refuses a fifth peer with room_full', async () => {
      const roomId = await callRoom();
      for (const who of [owner, ana, ben, await t.signUp('Dee')]) await join(await peer(who.token), roomId);
      const fifth = await peer((await t.signUp('Eve')).token);
      fifth.emit('join', { roomId });
      expect(await fifth.next('error')).toMatchObject({ code: 'room_full', event: 'join' });
      expect(fifth.pending('joined')).toEqual([]);
    });

    it('refuses unknown and ended rooms, and media messages in live rooms; an ended call sends everyone out', async () => {
      const a = await peer(ana.token);
      expect(await a.emitWithAck('join', { roomId: 'no-such-room' })).toMatchObject({
        ok: false,
        error: { code: 'room_not_found' },
      });
      // A live room is joined for chat, as an audience: no presence of the others, no media negotiation.
      const live = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'Show' } }))
        .body.id;
      const o = await peer(owner.token);
      await join(o, live);
      const viewer = await join(a, live);
      expect(viewer.roomState).toMatchObject({ kind: 'live', capacity: null });
      expect(viewer.roomState.peers.map((p) => p.role).sort()).toEqual(['host', 'participant']);
      const b0 = await peer(ben.token);
      const other = await join(b0, live);
      expect(other.roomState.peers.map((p) => p.userId)).not.toContain(ana.id);
      expect(await a.emitWithAck('media-state', { camera: true, mic: false, screen: false })).toMatchObject({
        ok: false,
        error: { code: 'wrong_room_kind' },
      });
      expect(a.pending('peer-joined')).toEqual([]);
      b0.close();
      expect(await a.emitWithAck('leave')).toEqual({ ok: true });

      const roomId = await callRoom();
      await join(a, roomId);
      await t.call('POST', `/api/rooms/${roomId}/end`, { token: owner.token });
      expect(await a.next('room-state', (s) => s.status === 'ended')).toMatchObject({ peers: [] });
      expect(await a.emitWithAck('media-state', { camera: true, mic: true, screen: false })).toMatchObject({
        ok: false,
        error: { code: 'not_joined' },
      });
      const b = await peer(ben.token);
      expect(await b.emitWithAck('join', { roomId })).toMatchObject({ ok: false, error: { code: 'room_ended' } });
    });

    it('lets guests join free calls but not paid ones', async () => {
      const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
      const g = await peer(guest);
      expect((await join(g, await callRoom())).self.guest).toBe(true);
      const paid = await callRoom({ pricePerMinute: 5 });
      const g2 = await peer(guest);
      expect(await g2.emitWithAck('join', { roomId: paid })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      // An account may book it only with a minute in the wallet (billing: wallet/call-billing.test.ts).
      expect(await (await peer(ana.token)).emitWithAck('join', { roomId: paid })).toMatchObject({
        ok: false,
        error: { code: 'insufficient_balance' },
      });
    });
  });

  describe('relay', () => {
    it('relays offers, answers and candidates between members of one room', async () => {
      const roomId = await callRoom();
      const a = await peer(ana.token);
      const b = await peer(ben.token);
      const ja = await join(a, roomId);
      const jb = await join(b, roomId);
      const offer = { sdp: fakeSdp('offer'), session: 's1' };
      b.emit('signal', { to: ja.self.peerId, kind: 'offer', payload: offer });
      expect(await a.next('signal')).toEqual({ from: jb.self.peerId, kind: 'offer', payload: offer });
      a.emit('signal', { to: jb.self.peerId, kind: 'answer', payload: { sdp: fakeSdp('answer'), session: 's1' } });
      expect(await b.next('signal')).toMatchObject({ from: ja.self.peerId, kind: 'answer' });
      const candidate = {
        session: 's1',
        candidate: {
          candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
          sdpMid: '0',
          sdpMLineIndex: 0,
        },
      };
      b.emit('signal', { to: ja.self.peerId, kind: 'candidate', payload: candidate });
      b.emit('signal', { to: ja.self.peerId, kind: 'candidate', payload: { session: 's1', candidate: null } });
      expect(await a.next('signal')).toEqual({ from: jb.self.peerId, kind: 'candidate', payload: candidate });
      expect(await a.next('signal')).toMatchObject({ payload: { candidate: null } });
    });

    it('refuses signals before join, to itself, to unknown peers and to peers of another room, forwarding nothing', async () => {
      const a = await peer(ana.token);
      const b = await peer(ben.token);
      const offer = { kind: 'offer', payload: { sdp: fakeSdp('x'), session: 's' } };
      a.emit('signal', { to: 'someone', ...offer });
      expect(await a.next('error')).toMatchObject({ code: 'not_joined', event: 'signal' });

      const ja = await join(a, await callRoom());
      const jb = await join(b, await callRoom());
      a.emit('signal', { to: jb.self.peerId, ...offer });
      expect(await a.next('error')).toMatchObject({ code: 'peer_not_found' });
      a.emit('signal', { to: 'nobody-here', ...offer });
      expect(await a.next('error')).toMatchObject({ code: 'peer_not_found' });
      a.emit('signal', { to: ja.self.peerId, ...offer });
      expect(await a.next('error')).toMatchObject({ code: 'bad_request' });
      await sync(b);
      expect(b.pending('signal')).toEqual([]);
    });

    it('answers malformed, unknown, oversized and too frequent messages with coded errors and stays up', async () => {
      const roomId = await callRoom();
      const a = await peer(ana.token);
      const b = await peer(ben.token);
      const ja = await join(a, roomId);
      await join(b, roomId);
      const cases: [string, unknown, string][] = [
        ['signal', { to: ja.self.peerId, kind: 'bogus', payload: {} }, 'validation_failed'],
        [
          'signal',
          { to: ja.self.peerId, kind: 'offer', payload: { sdp: 'x', session: 'bad session!' } },
          'validation_failed',
        ],
        [
          'signal',
          { to: ja.self.peerId, kind: 'offer', payload: { sdp: 'x', session: 's', extra: 1 } },
          'validation_failed',
        ],
        ['media-state', { camera: 'yes', mic: false, screen: false }, 'validation_failed'],
        ['media-state', 'camera on', 'validation_failed'],
        ['replay-request', {}, 'validation_failed'],
        ['join', { roomId: '../etc' }, 'validation_failed'],
        ['teleport', { to: 'mars' }, 'bad_request'],
        [
          'signal',
          { to: ja.self.peerId, kind: 'offer', payload: { sdp: 'x'.repeat(MAX_BYTES), session: 's' } },
          'payload_too_large',
        ],
      ];
      for (const [event, body, code] of cases) {
        expect(await b.emitWithAck(event, body), `${event} ${JSON.stringify(body).slice(0, 60)}`).toMatchObject({
          ok: false,
          error: { code, event },
        });
      }
      await sync(a);
      expect(a.pending('signal')).toEqual([]);

      // Rate: the connection has used part of its budget; flood past it.
      const answers = await Promise.all(
        Array.from({ length: RATE }, () => b.emitWithAck('media-state', { camera: true, mic: true, screen: false })),
      );
      const limited = answers.filter((x) => !x.ok);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0]).toMatchObject({ error: { code: 'rate_limited' } });
      expect(limited[0].error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(b.socket.connected).toBe(true);

      // A frame far over the limit closes that connection (Socket.IO's maxHttpBufferSize), nobody else's.
      const closed = new Promise<string>((resolve) => b.socket.once('disconnect', resolve));
      b.emit('signal', {
        to: ja.self.peerId,
        kind: 'offer',
        payload: { sdp: 'x'.repeat(MAX_BYTES * 3), session: 's' },
      });
      expect(await closed).toBe('transport close');
      await sync(a);
    });
  });

  describe('media state and reconciliation', () => {
    it('keeps and broadcasts each peer’s expected media state, the sender included', async () => {
      const roomId = await callRoom();
      const a = await peer(ana.token);
      const b = await peer(ben.token);
      const ja = await join(a, roomId);
      await join(b, roomId);
      const state = { camera: true, mic: false, screen: false };
      a.emit('media-state', state);
      expect(await a.next('media-state')).toEqual({ peerId: ja.self.peerId, state });
      expect(await b.next('media-state')).toEqual({ peerId: ja.self.peerId, state });
      const c = await peer(owner.token);
      const jc = await join(c, roomId);
      expect(jc.roomState.peers.find((p) => p.peerId === ja.self.peerId)?.media).toEqual(state);
    });

    it('answers a replay request by replaying the state and asking the pair’s initiator to renegotiate', async () => {
      const roomId = await callRoom();
      const a = await peer(ana.token);
      const b = await peer(ben.token);
      const ja = await join(a, roomId);
      const jb = await join(b, roomId);
      a.emit('media-state', { camera: true, mic: true, screen: false });
      await a.next('media-state');
      await b.next('media-state');

      // B (the initiator of the pair) misses A's media.
      b.emit('replay-request', { peerId: ja.self.peerId });
      expect(await b.next('media-state')).toEqual({
        peerId: ja.self.peerId,
        state: { camera: true, mic: true, screen: false },
      });
      expect(await a.next('media-state')).toMatchObject({ peerId: ja.self.peerId });
      expect(await b.next('renegotiate')).toEqual({
        peerId: ja.self.peerId,
        reason: 'media-missing',
        restartIce: false,
        fresh: false,
      });
      // A (not the initiator) reports a failed transport: B is asked to restart ICE.
      a.emit('replay-request', { peerId: jb.self.peerId, reason: 'transport-failed' });
      expect(await b.next('renegotiate')).toMatchObject({ peerId: ja.self.peerId, restartIce: true, fresh: false });
      a.emit('replay-request', { peerId: jb.self.peerId, reason: 'no-connection' });
      expect(await b.next('renegotiate')).toMatchObject({ fresh: true });
      await sync(a);
      expect(a.pending('renegotiate')).toEqual([]);

      b.emit('signal', {
        to: ja.self.peerId,
        kind: 'offer',
        payload: { sdp: fakeSdp('restart'), session: 's', restartIce: true },
      });
      await a.next('signal');
      const metrics = (await t.call('GET', '/metrics')).body as string;
      expect(metrics).toMatch(/signaling_replay_requests_total\{reason="media-missing"\} [1-9]/);
      expect(metrics).toMatch(/signaling_replay_requests_total\{reason="transport-failed"\} [1-9]/);
      expect(metrics).toMatch(/signaling_ice_restarts_total [1-9]/);
      expect(metrics).toMatch(/signaling_relay_seconds_count [1-9]/);
      expect(metrics).toMatch(/realtime_connected_sockets [1-9]/);
      expect(metrics).toMatch(/realtime_rooms [1-9]/);
      expect(metrics).toMatch(/realtime_joins_total\{kind="call",resumed="false"\} [1-9]/);
      expect(metrics).toMatch(/realtime_messages_total\{type="signal",result="ok"\} [1-9]/);
    });

    it('drops a media-state on the test hook, and the replay brings it back', async () => {
      const roomId = await callRoom();
      const a = await peer(ana.token);
      const b = await peer(ben.token);
      const ja = await join(a, roomId);
      await join(b, roomId);
      const hook = await t.call('POST', '/api/test-hooks/drop-media-state', {
        body: { roomId, peerId: ja.self.peerId },
      });
      expect(hook.status).toBe(204);
      const on = { camera: true, mic: true, screen: false };
      a.emit('media-state', on);
      expect(await b.next('media-state')).toEqual({ peerId: ja.self.peerId, state: on });
      await sync(b);
      // A's own copy was dropped (its sync echo is the next one it sees)...
      expect((await a.next('media-state')).state).toEqual({ camera: false, mic: false, screen: false });
      // ...until B misses A's media and asks for a replay.
      b.emit('replay-request', { peerId: ja.self.peerId });
      expect(await a.next('media-state')).toEqual({ peerId: ja.self.peerId, state: on });
    });
  });

  describe('reconnection', () => {
    it('resumes the same slot within the grace period, without peer-left or peer-joined', async () => {
      const roomId = await callRoom();
      const a = await peer(ana.token);
      let b = await peer(ben.token);
      const ja = await join(a, roomId);
      const jb = await join(b, roomId);
      await a.next('peer-joined');
      b.emit('media-state', { camera: true, mic: false, screen: false });
      await a.next('media-state');

      b.close();
      const away = await a.next('room-state', (s) => s.peers.some((p) => !p.connected));
      expect(away.peers.find((p) => p.peerId === jb.self.peerId)).toMatchObject({ connected: false });

      b = await peer(ben.token);
      const again = await join(b, roomId, jb.resumeToken);
      expect(again).toMatchObject({ resumed: true, self: { peerId: jb.self.peerId, connected: true } });
      expect(again.self.media).toEqual({ camera: true, mic: false, screen: false });
      expect(again.links).toEqual([{ peerId: ja.self.peerId, initiatorId: jb.self.peerId }]);
      expect(again.resumeToken).not.toBe(jb.resumeToken);
      const back = await a.next('room-state', (s) => s.peers.every((p) => p.connected));
      expect(back.peers.map((p) => p.peerId)).toEqual([ja.self.peerId, jb.self.peerId]);
      await sync(a);
      expect(a.pending('peer-left')).toEqual([]);
      expect(a.pending('peer-joined')).toEqual([]);

      // The same user coming back without the token (another tab after a crash) takes the waiting slot too.
      b.close();
      await a.next('room-state', (s) => s.peers.some((p) => !p.connected));
      b = await peer(ben.token);
      expect(await join(b, roomId)).toMatchObject({ resumed: true, self: { peerId: jb.self.peerId } });
      // A stolen token does not work for another user.
      const mallory = await peer(owner.token);
      const joined = await join(mallory, roomId, again.resumeToken);
      expect(joined.resumed).toBe(false);
      expect(joined.self.peerId).not.toBe(jb.self.peerId);
    });

    it('takes a slot over from a half-open connection, closing the old one', async () => {
      const roomId = await callRoom();
      const old = await peer(ana.token);
      const first = await join(old, roomId);
      const closed = new Promise<string>((resolve) => old.socket.once('disconnect', resolve));
      const fresh = await peer(ana.token);
      const again = await join(fresh, roomId, first.resumeToken);
      expect(again).toMatchObject({ resumed: true, self: { peerId: first.self.peerId } });
      expect(await closed).toBe('io server disconnect');
      await sync(fresh);
      expect((await t.platform.services.presence.members(first.roomState.roomId)).map((m) => m.connected)).toEqual([
        true,
      ]);
    });

    it('releases the slot with peer-left after the grace period', async () => {
      const roomId = await callRoom();
      const a = await peer(ana.token);
      const b = await peer(ben.token);
      await join(a, roomId);
      const jb = await join(b, roomId);
      b.close();
      expect(await a.next('peer-left', undefined, GRACE_SECONDS * 1000 + 5000)).toEqual({
        peerId: jb.self.peerId,
        reason: 'timeout',
      });
      const b2 = await peer(ben.token);
      expect(await join(b2, roomId, jb.resumeToken)).toMatchObject({ resumed: false });
    });
  });
});
