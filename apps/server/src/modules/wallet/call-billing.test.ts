import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';
import { ledgerInvariants } from './test-ledger.js';

/** A billed "minute" of 400 ms keeps the suite fast; the meter checks every 40 ms. */
const MINUTE_MS = 400;
const PRICE = 10;

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
        reconnectGraceSeconds: 10,
        tokenPacks: [
          { id: 'ten', tokens: 10, priceCents: 100, currency: 'USD' },
          { id: 'five', tokens: 5, priceCents: 50, currency: 'USD' },
        ],
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
  /** An account holding exactly `tokens` (a multiple of 5), bought through the dev provider. */
  const viewerWith = async (tokens: number, name: string) => {
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
    expect(await balance(v.token)).toBe(tokens);
    return v;
  };
  const privateCall = async () =>
    (
      await t.call('POST', '/api/rooms', {
        token: streamer.token,
        body: { kind: 'call', title: 'Private', pricePerMinute: PRICE },
      })
    ).body.id as string;

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

  it('stands still while either side is away and gives the time back', async () => {
    const roomId = await privateCall();
    const payer = await viewerWith(100, 'Patient');
    const guest = await peer(payer.token);
    guest.emit('join', { roomId });
    const joined = await guest.next('joined');

    // Alone: nothing is charged until the streamer arrives.
    expect(await guest.next('billing', (b) => b.status === 'paused')).toMatchObject({ minutesCharged: 0 });
    await new Promise((r) => setTimeout(r, MINUTE_MS * 2));
    expect(await balance(payer.token)).toBe(100);
    const host = await peer(streamer.token);
    host.emit('join', { roomId });
    await guest.next('billing', (b) => b.status === 'running' && b.minutesCharged === 1);
    expect(await balance(payer.token)).toBe(90);

    // The payer's connection drops: the meter pauses for as long as they are away.
    guest.close();
    await host.next('billing', (b) => b.status === 'paused');
    await new Promise((r) => setTimeout(r, MINUTE_MS * 3));
    expect(await balance(payer.token)).toBe(90);
    const back = await peer(payer.token);
    back.emit('join', { roomId, resume: joined.resumeToken });
    expect((await back.next('joined')).resumed).toBe(true);
    const resumed = await back.next('billing', (b) => b.status === 'running');
    expect(resumed.minutesCharged).toBe(1);
    expect(resumed.secondsLeft).toBeGreaterThanOrEqual(0);
    await back.next('billing', (b) => b.minutesCharged === 2, 5000);
    expect(await balance(payer.token)).toBe(80);

    back.emit('leave');
    const ended = await host.next('billing', (b) => b.status === 'ended');
    expect(ended).toMatchObject({ endReason: 'left', minutesCharged: 2 });
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
