import { randomUUID } from 'node:crypto';
import type { RoomId } from '@fusionflow/protocol';
import type { Selectable } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testServerConfig } from '../../config.js';
import type { CallSessionsTable } from '../../db/schema.js';
import { testDatabases } from '../../db/test-databases.js';
import { createPlatform, type Platform } from '../../main.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { deleteRedisPrefix, testRedisUrl, uniqueRedisPrefix } from '../realtime/test-redis.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';
import { ledgerInvariants } from './test-ledger.js';

/** A billed "minute" of 400 ms keeps the suite fast; the meter checks every 40 ms. */
const MINUTE_MS = 400;
const PRICE = 10;
/** Longer than a few test minutes, so a dropped connection's held slot spans several. */
const GRACE_SECONDS = 3;
const PACKS = [
  { id: 'ten', tokens: 10, priceCents: 100, currency: 'USD' },
  { id: 'five', tokens: 5, priceCents: 50, currency: 'USD' },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(20);
  }
}
/** Paid time of a session from its start: minutes × minute length unless time was given back. */
const paidSpan = (row: Selectable<CallSessionsTable>) =>
  new Date(row.paid_until).getTime() - new Date(row.started_at).getTime();

/** An account holding exactly `tokens` (a multiple of 5), bought through the dev provider. */
async function accountWith(t: TestPlatform, tokens: number, name: string) {
  const v = await t.signUp(name);
  const buy = (packId: string, expectedPriceCents: number) =>
    t.call('POST', '/api/wallet/purchases', {
      token: v.token,
      headers: { 'idempotency-key': `buy-${randomUUID()}` },
      body: { packId, expectedPriceCents },
    });
  for (let left = tokens; left > 0; left -= left >= 10 ? 10 : 5) {
    const res = left >= 10 ? await buy('ten', 100) : await buy('five', 50);
    expect(res.status).toBe(201);
  }
  return v;
}

describe.each(testDatabases())('private calls billed per started minute on $name', (db) => {
  let t: TestPlatform;
  let url: string;
  let streamer: { token: string; id: string };
  const open: TestPeer[] = [];

  beforeAll(async () => {
    t = await startTestPlatform(
      db,
      {
        port: 0,
        paymentsDevProvider: 'true',
        reconnectGraceSeconds: GRACE_SECONDS,
        tokenPacks: PACKS,
      },
      { callBilling: { minuteMs: MINUTE_MS, tickMs: 40 } },
    );
    url = await t.platform.listen();
    streamer = await t.signUp('Host', { role: 'streamer' });
  });
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });
  afterAll(async () => {
    await t.close();
    expect(t.platform.services.callBilling.running).toBe(0);
  });

  const peer = async (token: string) => {
    const p = await connectPeer(url, token);
    open.push(p);
    return p;
  };
  const balance = async (token: string) => (await t.call('GET', '/api/wallet', { token })).body.balance as number;
  const viewerWith = async (tokens: number, name: string) => {
    const v = await accountWith(t, tokens, name);
    expect(await balance(v.token)).toBe(tokens);
    return v;
  };
  const members = (roomId: string) => t.platform.services.presence.members(roomId as RoomId);
  const sessionOf = (roomId: string, payerId: string) =>
    t.database.db
      .selectFrom('call_sessions')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('payer_id', '=', payerId)
      .orderBy('started_at', 'desc')
      .executeTakeFirstOrThrow();
  const privateCall = async () =>
    (
      await t.call('POST', '/api/rooms', {
        token: streamer.token,
        body: { kind: 'call', title: 'Private', pricePerMinute: PRICE },
      })
    ).body.id as string;

  /** A private call under way: the streamer and a payer holding `tokens` are in it, its first minute charged. */
  const callUnderWay = async (tokens: number, name: string) => {
    const roomId = await privateCall();
    const payer = await viewerWith(tokens, name);
    const host = await peer(streamer.token);
    host.emit('join', { roomId });
    const hostJoined = await host.next('joined');
    const guest = await peer(payer.token);
    guest.emit('join', { roomId });
    const guestJoined = await guest.next('joined');
    await host.next('billing', (b) => b.minutesCharged === 1);
    return { roomId, payer, host, hostJoined, guest, guestJoined };
  };

  it('charges each started minute while both are there, warns a minute before the end, and ends at zero', async () => {
    const roomId = await privateCall();
    const payer = await viewerWith(25, 'Payer');
    const host = await peer(streamer.token);
    host.emit('join', { roomId });
    await host.next('joined');
    const guest = await peer(payer.token);
    guest.emit('join', { roomId });
    await guest.next('joined');

    // Together: the first minute is charged at once.
    const first = await guest.next('billing', (b) => b.minutesCharged === 1);
    expect(first).toMatchObject({
      status: 'running',
      pricePerMinute: PRICE,
      tokensCharged: 10,
      balance: 15,
      lowBalance: false,
    });
    const hostFirst = await host.next('billing', (b) => b.minutesCharged === 1);
    expect(hostFirst.balance).toBeUndefined();

    // The second minute leaves 5 tokens: not enough for a third, so both sides are warned.
    const second = await guest.next('billing', (b) => b.minutesCharged === 2, 5000);
    expect(second).toMatchObject({ status: 'running', balance: 5, lowBalance: true });
    expect(second.secondsLeft).toBeGreaterThan(0);
    expect(await host.next('billing', (b) => b.minutesCharged === 2 && b.lowBalance)).toBeDefined();

    // The third minute cannot be paid: the call ends and the payer is taken out.
    const ended = await host.next('billing', (b) => b.status === 'ended', 5000);
    expect(ended).toMatchObject({ endReason: 'balance', minutesCharged: 2, tokensCharged: 20 });
    expect(await guest.next('removed')).toMatchObject({ roomId, reason: 'balance' });
    expect(await host.next('peer-left')).toMatchObject({ reason: 'removed' });
    expect(await balance(payer.token)).toBe(5);

    const sessions = (await t.call('GET', '/api/call-sessions', { token: payer.token })).body.sessions;
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      roomId,
      payerId: payer.id,
      streamerId: streamer.id,
      pricePerMinute: PRICE,
      minutesCharged: 2,
      tokensCharged: 20,
      endReason: 'balance',
    });
    expect(sessions[0].minutes.map((m: { minute: number }) => m.minute)).toEqual([1, 2]);
    const streamerView = (await t.call('GET', '/api/call-sessions', { token: streamer.token })).body.sessions;
    expect(streamerView.map((s: { id: string }) => s.id)).toContain(sessions[0].id);
    const stranger = await t.signUp('Stranger');
    expect((await t.call('GET', '/api/call-sessions', { token: stranger.token })).body.sessions).toEqual([]);

    // 2 minutes × 10, 20% platform fee: the streamer earned 16, shown as call earnings.
    const earnings = (await t.call('GET', '/api/earnings', { token: streamer.token })).body;
    expect(earnings.totals.calls).toBeGreaterThanOrEqual(16);
    const inv = await ledgerInvariants(t.database);
    expect(inv).toMatchObject({ total: 0, mismatched: [], negative: [], unbalancedTransactions: 0 });
    const keys = await t.database.db
      .selectFrom('ledger_transactions')
      .select('idempotency_key')
      .where('kind', '=', 'call_minute')
      .where('idempotency_key', 'like', `call:${sessions[0].id}:%`)
      .orderBy('idempotency_key')
      .execute();
    expect(keys.map((k) => k.idempotency_key)).toEqual([`call:${sessions[0].id}:1`, `call:${sessions[0].id}:2`]);
  });

  it('stands still until the streamer is there', async () => {
    const roomId = await privateCall();
    const payer = await viewerWith(100, 'Patient');
    const guest = await peer(payer.token);
    guest.emit('join', { roomId });
    await guest.next('joined');

    // Alone: nothing is charged until the streamer arrives.
    expect(await guest.next('billing', (b) => b.status === 'paused')).toMatchObject({ minutesCharged: 0 });
    await sleep(MINUTE_MS * 2);
    expect(await balance(payer.token)).toBe(100);
    const host = await peer(streamer.token);
    host.emit('join', { roomId });
    await guest.next('billing', (b) => b.status === 'running' && b.minutesCharged === 1);
    expect(await balance(payer.token)).toBe(90);
    guest.emit('leave');
    expect(await host.next('billing', (b) => b.status === 'ended')).toMatchObject({ endReason: 'left' });
  });

  it('refuses the payer a second connection to the same call, also when both join at once', async () => {
    const { roomId, payer, host, guest: first } = await callUnderWay(100, 'Twice');

    // The exploit: join twice, leave on one connection, stay on the other and pay nothing more.
    const second = await peer(payer.token);
    second.emit('join', { roomId });
    expect(await second.next('error')).toMatchObject({ code: 'conflict', event: 'join' });
    expect((await members(roomId)).map((m) => m.userId)).toEqual([streamer.id, payer.id]);
    first.emit('leave');
    expect(await host.next('billing', (b) => b.status === 'ended')).toMatchObject({ endReason: 'left' });
    expect((await members(roomId)).map((m) => m.userId)).toEqual([streamer.id]);

    // Two connections of the payer joining at the same moment: one gets the seat, the other `conflict`.
    const other = await privateCall();
    const [a, b] = await Promise.all([peer(payer.token), peer(payer.token)]);
    const answers = await Promise.all([
      a.emitWithAck('join', { roomId: other }),
      b.emitWithAck('join', { roomId: other }),
    ]);
    expect(answers.filter((x) => x.ok)).toHaveLength(1);
    expect(answers.filter((x) => !x.ok)).toEqual([{ ok: false, error: expect.objectContaining({ code: 'conflict' }) }]);
    expect(await members(other)).toHaveLength(1);
  });

  it('keeps the meter running while the payer’s signaling is down and the slot is held', async () => {
    const { roomId, payer, host, guest, guestJoined: joined } = await callUnderWay(200, 'Flaky');

    // Media is peer to peer and may still flow: the minutes go on while the payer's signaling is down.
    guest.close();
    await host.next('billing', (b) => b.minutesCharged === 3, 5000);
    const back = await peer(payer.token);
    back.emit('join', { roomId, resume: joined.resumeToken });
    expect((await back.next('joined')).resumed).toBe(true);
    await back.next('billing', (b) => b.minutesCharged >= 4, 5000);
    back.emit('leave');
    await host.next('billing', (b) => b.status === 'ended');

    // Not a millisecond was given back: the paid time is exactly the minutes charged, end to end.
    const row = await sessionOf(roomId, payer.id);
    expect(row.end_reason).toBe('left');
    expect(paidSpan(row)).toBe(row.minutes_charged * MINUTE_MS);
    expect(await balance(payer.token)).toBe(200 - PRICE * row.minutes_charged);
  });

  it('stops when the payer’s slot is released after the grace period, and charges nothing after', async () => {
    const { roomId, payer, host, guest } = await callUnderWay(200, 'Gone');

    guest.close();
    expect(await host.next('peer-left', undefined, GRACE_SECONDS * 1000 + 5000)).toMatchObject({ reason: 'timeout' });
    const ended = await host.next('billing', (b) => b.status === 'ended');
    expect(ended.endReason).toBe('left');
    // The grace period was paid for: it is longer than a (test) minute.
    expect(ended.minutesCharged).toBeGreaterThan(1);
    await sleep(MINUTE_MS * 3);
    const row = await sessionOf(roomId, payer.id);
    expect(row.minutes_charged).toBe(ended.minutesCharged);
    expect(await balance(payer.token)).toBe(200 - PRICE * ended.minutesCharged);
  });

  it('charges no minute while the streamer’s connection is down; back in time, that time is paid', async () => {
    const { roomId, payer, host, hostJoined, guest } = await callUnderWay(200, 'Waiting');

    // The streamer may be gone for good: no new minute is charged while their slot waits.
    host.close();
    await sleep(MINUTE_MS * 2.5);
    expect(await balance(payer.token)).toBe(200 - PRICE);

    // They come back within the grace period: media may have flowed, so the minutes due are charged
    // now, each from when it was due; nothing is given back.
    const backAt = Date.now();
    const again = await peer(streamer.token);
    again.emit('join', { roomId, resume: hostJoined.resumeToken });
    expect((await again.next('joined')).resumed).toBe(true);
    await until(async () => new Date((await sessionOf(roomId, payer.id)).paid_until).getTime() > backAt);
    const row = await sessionOf(roomId, payer.id);
    expect(row.minutes_charged).toBeGreaterThanOrEqual(3);
    expect(paidSpan(row)).toBe(row.minutes_charged * MINUTE_MS);
    guest.emit('leave');
    await again.next('billing', (b) => b.status === 'ended');
  });

  it('charges nothing for the time after the streamer left for good', async () => {
    const { roomId, payer, host, guest } = await callUnderWay(200, 'Stood up');

    host.close();
    expect(await guest.next('peer-left', undefined, GRACE_SECONDS * 1000 + 5000)).toMatchObject({ reason: 'timeout' });
    expect(await guest.next('billing', (b) => b.status === 'paused')).toMatchObject({ minutesCharged: 1 });
    await sleep(MINUTE_MS * 2);
    expect(await balance(payer.token)).toBe(200 - PRICE);

    // The streamer joins again later: the call goes on, with a fresh minute from then.
    const again = await peer(streamer.token);
    again.emit('join', { roomId });
    expect((await again.next('joined')).resumed).toBe(false);
    await guest.next('billing', (b) => b.status === 'running' && b.minutesCharged === 2);
    guest.emit('leave');
    expect(await again.next('billing', (b) => b.status === 'ended')).toMatchObject({ endReason: 'left' });
    expect(await balance(payer.token)).toBe(200 - PRICE * (await sessionOf(roomId, payer.id)).minutes_charged);
  });

  it('admits one payer at a time, only signed in and only with a minute in the wallet', async () => {
    const roomId = await privateCall();
    const first = await viewerWith(50, 'First');
    const second = await viewerWith(50, 'Second');
    const poor = await viewerWith(0, 'Poor');
    const c = await peer(poor.token);
    c.emit('join', { roomId });
    expect(await c.next('error')).toMatchObject({ code: 'insufficient_balance', event: 'join' });

    const guestToken = (await t.call('POST', '/api/auth/guest')).body.accessToken;
    const g = await peer(guestToken);
    g.emit('join', { roomId });
    expect(await g.next('error')).toMatchObject({ code: 'forbidden' });

    const a = await peer(first.token);
    a.emit('join', { roomId });
    await a.next('joined');
    const b = await peer(second.token);
    b.emit('join', { roomId });
    expect(await b.next('error')).toMatchObject({ code: 'room_full', event: 'join' });

    // Once the first payer leaves, the next may book the call.
    a.emit('leave');
    for (let i = 0; i < 100; i++) {
      const sessions = (await t.call('GET', '/api/call-sessions', { token: first.token })).body.sessions;
      if (sessions[0]?.endedAt) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    b.emit('join', { roomId });
    expect((await b.next('joined')).roomState.peers.length).toBeGreaterThan(0);
  });
});

const redisUrl = testRedisUrl();

/**
 * Two control-plane processes on one Redis and one database: the payer's meter runs where the
 * payer's connection is (or was, while its slot waits), and follows a resume to the other process.
 */
describe.skipIf(!redisUrl).each(testDatabases())('private-call billing across two processes on $name', (db) => {
  const prefix = uniqueRedisPrefix();
  let t: TestPlatform;
  let two: Platform;
  let urls: [string, string];
  const open: TestPeer[] = [];

  const overrides = {
    port: 0,
    redisUrl,
    redisKeyPrefix: prefix,
    accessTokenSecret: 'multi-process-billing-secret-0123456789',
    paymentsDevProvider: 'true' as const,
    reconnectGraceSeconds: GRACE_SECONDS,
    tokenPacks: PACKS,
  };
  const billing = { callBilling: { minuteMs: MINUTE_MS, tickMs: 40, sweepMs: 100 } };

  beforeAll(async () => {
    t = await startTestPlatform(db, overrides, billing);
    two = await createPlatform(testServerConfig(overrides), { ...billing, database: t.database });
    urls = [await t.platform.listen(), await two.listen()];
  });
  afterAll(async () => {
    for (const p of open) p.close();
    await two?.close();
    await t?.close();
    await deleteRedisPrefix(redisUrl!, prefix);
  });

  const peer = async (token: string, url: string) => {
    const p = await connectPeer(url, token);
    open.push(p);
    return p;
  };
  /** A private call with the streamer on `hostUrl` and a payer holding 200 tokens on `guestUrl`, its first minute charged. */
  const callAcross = async (name: string, hostUrl: string, guestUrl: string) => {
    const streamer = await t.signUp('Host', { role: 'streamer' });
    const payer = await accountWith(t, 200, name);
    const roomId = (
      await t.call('POST', '/api/rooms', {
        token: streamer.token,
        body: { kind: 'call', title: 'Private', pricePerMinute: PRICE },
      })
    ).body.id as string;
    const host = await peer(streamer.token, hostUrl);
    host.emit('join', { roomId });
    await host.next('joined');
    const guest = await peer(payer.token, guestUrl);
    guest.emit('join', { roomId });
    const joined = await guest.next('joined');
    await host.next('billing', (b) => b.minutesCharged === 1);
    return { payer, roomId, host, guest, joined };
  };

  it('one meter follows the payer to the other process: no minute twice, none free', async () => {
    const { payer, roomId, host, guest, joined } = await callAcross('Roaming', urls[1], urls[0]);

    // Dropped on process one: its meter goes on while the slot waits there.
    guest.close();
    await host.next('billing', (b) => b.minutesCharged === 2, 5000);
    const back = await peer(payer.token, urls[1]);
    back.emit('join', { roomId, resume: joined.resumeToken });
    expect((await back.next('joined')).resumed).toBe(true);
    // Process two meters the resumed payer; process one's meter stops.
    await until(async () => two.services.callBilling.running === 1 && t.platform.services.callBilling.running === 0);
    const before = (await back.next('billing', (b) => b.status === 'running')).minutesCharged;
    await back.next('billing', (b) => b.minutesCharged === before + 2, 5000);
    back.emit('leave');
    await host.next('billing', (b) => b.status === 'ended');

    const row = await t.database.db
      .selectFrom('call_sessions')
      .selectAll()
      .where('room_id', '=', roomId)
      .executeTakeFirstOrThrow();
    expect(paidSpan(row)).toBe(row.minutes_charged * MINUTE_MS);
    const keys = await t.database.db
      .selectFrom('ledger_transactions')
      .select('idempotency_key')
      .where('kind', '=', 'call_minute')
      .where('idempotency_key', 'like', `call:${row.id}:%`)
      .execute();
    expect(keys.map((k) => k.idempotency_key).sort()).toEqual(
      Array.from({ length: row.minutes_charged }, (_, i) => `call:${row.id}:${i + 1}`).sort(),
    );
    const wallet = await t.call('GET', '/api/wallet', { token: payer.token });
    expect(wallet.body.balance).toBe(200 - PRICE * row.minutes_charged);
    expect(await ledgerInvariants(t.database)).toMatchObject({ total: 0, mismatched: [], negative: [] });
  });

  it('bills and then releases the slot of a payer whose process shut down and who never came back', async () => {
    // A third process, holding only the payer's connection.
    const three = await createPlatform(testServerConfig(overrides), { ...billing, database: t.database });
    try {
      const { payer, roomId, host } = await callAcross('Stranded', urls[0], await three.listen());

      // A rolling restart takes the payer's process away; the payer's client never reconnects its
      // signaling (the peer-to-peer media could go on). Another process meters the held slot, then
      // releases it when its grace period is over: the owner's client is told and closes the call.
      await three.close();
      const left = await host.next('peer-left', undefined, GRACE_SECONDS * 1000 + 5000);
      expect(left.reason).toBe('timeout');
      const ended = await host.next('billing', (b) => b.status === 'ended');
      expect(ended.endReason).toBe('left');
      // The grace period (longer than a test minute) was paid for, from when each minute was due.
      expect(ended.minutesCharged).toBeGreaterThan(1);
      await sleep(MINUTE_MS * 3);
      const row = await t.database.db
        .selectFrom('call_sessions')
        .selectAll()
        .where('room_id', '=', roomId)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ end_reason: 'left', minutes_charged: ended.minutesCharged });
      expect(paidSpan(row)).toBe(row.minutes_charged * MINUTE_MS);
      const wallet = await t.call('GET', '/api/wallet', { token: payer.token });
      expect(wallet.body.balance).toBe(200 - PRICE * row.minutes_charged);
    } finally {
      await three.close();
    }
  });
});
