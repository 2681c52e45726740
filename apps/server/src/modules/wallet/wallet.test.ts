import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { ledgerInvariants } from './test-ledger.js';
import { signWebhook } from './webhook-signature.js';

const WEBHOOK_SECRET = 'whsec_0123456789abcdef';
const key = () => `k-${randomUUID()}`;

describe.each(testDatabases())('token economy on $name', (db) => {
  let t: TestPlatform;
  let streamer: { token: string; id: string };
  let studio: { token: string; id: string };
  let admin: { token: string; id: string };
  let liveRoom: string;

  /** A viewer with `tokens` tokens bought through the dev provider. */
  async function viewerWith(tokens: number, name = 'Viewer') {
    const v = await t.signUp(name);
    let left = tokens;
    while (left >= 100) {
      const res = await t.call('POST', '/api/wallet/purchases', {
        token: v.token,
        headers: { 'idempotency-key': key() },
        body: { packId: 'hundred', expectedPriceCents: 100, provider: 'dev' },
      });
      expect(res.status).toBe(201);
      left -= 100;
    }
    while (left > 0) {
      await t.call('POST', '/api/wallet/purchases', {
        token: v.token,
        headers: { 'idempotency-key': key() },
        body: { packId: 'one', expectedPriceCents: 1, provider: 'dev' },
      });
      left -= 1;
    }
    return v;
  }
  const balance = async (token: string) => (await t.call('GET', '/api/wallet', { token })).body.balance as number;
  const tip = (token: string, room: string, amount: number, k = key(), message?: string) =>
    t.call('POST', `/api/rooms/${room}/tips`, {
      token,
      headers: { 'idempotency-key': k },
      body: { amount, ...(message ? { message } : {}) },
    });
  const expectHealthyLedger = async () => {
    const inv = await ledgerInvariants(t.database);
    expect(inv).toMatchObject({ total: 0, mismatched: [], negative: [], unbalancedTransactions: 0 });
    return inv;
  };

  beforeAll(async () => {
    t = await startTestPlatform(db, {
      paymentsDevProvider: 'true',
      paymentsWebhookSecret: WEBHOOK_SECRET,
      tokenPacks: [
        { id: 'hundred', tokens: 100, priceCents: 100, currency: 'USD' },
        { id: 'one', tokens: 1, priceCents: 1, currency: 'USD' },
        { id: 'big', tokens: 1000, priceCents: 900, currency: 'EUR' },
      ],
      platformFeePercent: 20,
      studioSharePercent: 30,
      tipMaxTokens: 500,
      tipsPerMinute: 1000,
    });
    admin = await t.signUpAs('Admin', 'admin');
    studio = await t.signUpAs('Studio', 'studio');
    streamer = await t.signUp('Streamer', { role: 'streamer' });
    liveRoom = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'Show' } }))
      .body.id;
  });
  afterAll(() => t.close());

  describe('purchases', () => {
    it('lists packs and credits a dev purchase once per idempotency key', async () => {
      const packs = await t.call('GET', '/api/wallet/packs');
      expect(packs.body.providers).toEqual(['dev', 'webhook']);
      expect(packs.body.packs.map((p: { id: string }) => p.id)).toEqual(['hundred', 'one', 'big']);
      const v = await t.signUp('Buyer');
      const k = key();
      const buy = () =>
        t.call('POST', '/api/wallet/purchases', {
          token: v.token,
          headers: { 'idempotency-key': k },
          body: { packId: 'big', expectedPriceCents: 900 },
        });
      const first = await buy();
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        purchase: { status: 'completed', tokens: 1000, provider: 'dev' },
        balance: 1000,
      });
      const again = await buy();
      expect(again.status).toBe(201);
      expect(again.body.purchase.id).toBe(first.body.purchase.id);
      expect(await balance(v.token)).toBe(1000);
      const other = await t.call('POST', '/api/wallet/purchases', {
        token: v.token,
        headers: { 'idempotency-key': k },
        body: { packId: 'hundred', expectedPriceCents: 100 },
      });
      expect(other.status).toBe(409);
      expect(other.body.error.code).toBe('idempotency_key_conflict');
      expect(await balance(v.token)).toBe(1000);
      await expectHealthyLedger();
    });

    it('refuses a changed price, an unknown pack, a missing key, guests and no-account calls', async () => {
      const v = await t.signUp('Careful');
      const changed = await t.call('POST', '/api/wallet/purchases', {
        token: v.token,
        headers: { 'idempotency-key': key() },
        body: { packId: 'big', expectedPriceCents: 800 },
      });
      expect(changed.status).toBe(409);
      expect(changed.body.error.code).toBe('price_changed');
      const unknown = await t.call('POST', '/api/wallet/purchases', {
        token: v.token,
        headers: { 'idempotency-key': key() },
        body: { packId: 'nope', expectedPriceCents: 1 },
      });
      expect(unknown.status).toBe(404);
      const noKey = await t.call('POST', '/api/wallet/purchases', {
        token: v.token,
        body: { packId: 'big', expectedPriceCents: 900 },
      });
      expect(noKey.status).toBe(400);
      expect(noKey.body.error.code).toBe('idempotency_key_required');
      const badKey = await t.call('POST', '/api/wallet/purchases', {
        token: v.token,
        headers: { 'idempotency-key': 'short' },
        body: { packId: 'big', expectedPriceCents: 900 },
      });
      expect(badKey.body.error.code).toBe('idempotency_key_required');
      const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken;
      expect(
        (
          await t.call('POST', '/api/wallet/purchases', {
            token: guest,
            headers: { 'idempotency-key': key() },
            body: { packId: 'big', expectedPriceCents: 900 },
          })
        ).status,
      ).toBe(403);
      expect(await balance(v.token)).toBe(0);
    });

    describe('webhook provider', () => {
      const deliver = (event: object, options: { secret?: string; at?: number; raw?: string } = {}) => {
        const raw = options.raw ?? JSON.stringify(event);
        const at = options.at ?? Math.floor(Date.now() / 1000);
        return t.call('POST', '/api/payments/webhook', {
          raw,
          headers: {
            'content-type': 'application/json',
            'x-ff-signature': signWebhook(options.secret ?? WEBHOOK_SECRET, raw, at),
          },
        });
      };
      const pendingPurchase = async (token: string) => {
        const res = await t.call('POST', '/api/wallet/purchases', {
          token,
          headers: { 'idempotency-key': key() },
          body: { packId: 'big', expectedPriceCents: 900, provider: 'webhook' },
        });
        expect(res.status).toBe(201);
        expect(res.body.purchase.status).toBe('pending');
        expect(res.body.balance).toBe(0);
        return res.body.purchase.id as string;
      };

      it('credits once per event, answers replays idempotently and never credits a purchase twice', async () => {
        const v = await t.signUp('Payer');
        const purchaseId = await pendingPurchase(v.token);
        const event = {
          id: `evt_${randomUUID()}`,
          type: 'payment.succeeded',
          data: { purchaseId, amountCents: 900, currency: 'EUR' },
        };
        const first = await deliver(event);
        expect(first.status).toBe(200);
        expect(first.body).toEqual({ duplicate: false, status: 'completed' });
        expect(await balance(v.token)).toBe(1000);
        const replay = await deliver(event);
        expect(replay.body).toEqual({ duplicate: true, status: 'duplicate' });
        const second = await deliver({ ...event, id: `evt_${randomUUID()}` });
        expect(second.body).toEqual({ duplicate: false, status: 'completed' });
        expect(await balance(v.token)).toBe(1000);
        await expectHealthyLedger();
      });

      it('refuses bad signatures, stale or future timestamps, malformed bodies and wrong amounts', async () => {
        const v = await t.signUp('Victim');
        const purchaseId = await pendingPurchase(v.token);
        const event = {
          id: `evt_${randomUUID()}`,
          type: 'payment.succeeded',
          data: { purchaseId, amountCents: 900, currency: 'EUR' },
        };
        const forged = await deliver(event, { secret: 'someone-elses-secret' });
        expect(forged.status).toBe(401);
        expect(forged.body.error.code).toBe('webhook_signature_invalid');
        const stale = await deliver(event, { at: Math.floor(Date.now() / 1000) - 3600 });
        expect(stale.status).toBe(401);
        expect(stale.body.error.code).toBe('webhook_stale');
        const future = await deliver(event, { at: Math.floor(Date.now() / 1000) + 3600 });
        expect(future.body.error.code).toBe('webhook_stale');
        const unsigned = await t.call('POST', '/api/payments/webhook', {
          raw: JSON.stringify(event),
          headers: { 'content-type': 'application/json' },
        });
        expect(unsigned.status).toBe(401);
        const tampered = await t.call('POST', '/api/payments/webhook', {
          raw: JSON.stringify({ ...event, data: { ...event.data, amountCents: 1 } }),
          headers: {
            'content-type': 'application/json',
            'x-ff-signature': signWebhook(WEBHOOK_SECRET, JSON.stringify(event), Math.floor(Date.now() / 1000)),
          },
        });
        expect(tampered.body.error.code).toBe('webhook_signature_invalid');
        expect((await deliver({}, { raw: '{"not":"an event"}' })).status).toBe(400);
        const wrongAmount = await deliver({ ...event, data: { ...event.data, amountCents: 100 } });
        expect(wrongAmount.status).toBe(400);
        expect(await balance(v.token)).toBe(0);
        // The refused deliveries left nothing behind: the real one still credits.
        expect((await deliver(event)).body.status).toBe('completed');
        expect(await balance(v.token)).toBe(1000);
      });

      it('marks a failed payment and credits nothing', async () => {
        const v = await t.signUp('Declined');
        const purchaseId = await pendingPurchase(v.token);
        const res = await deliver({
          id: `evt_${randomUUID()}`,
          type: 'payment.failed',
          data: { purchaseId, amountCents: 900, currency: 'EUR' },
        });
        expect(res.body.status).toBe('failed');
        expect(await balance(v.token)).toBe(0);
      });
    });
  });

  describe('tips', () => {
    it('splits a tip between streamer, studio and platform in one transaction', async () => {
      const managed = await t.signUp('Managed', { role: 'streamer' });
      const assign = await t.call('PATCH', `/api/admin/users/${managed.id}`, {
        token: admin.token,
        body: { studioId: studio.id },
      });
      expect(assign.status).toBe(200);
      expect(assign.body.studioId).toBe(studio.id);
      const room = (await t.call('POST', '/api/rooms', { token: managed.token, body: { kind: 'live', title: 'M' } }))
        .body.id;
      const v = await viewerWith(200, 'Fan');
      const before = await ledgerInvariants(t.database);
      const res = await tip(v.token, room, 7, key(), 'great show');
      expect(res.status).toBe(201);
      expect(res.body.tip).toMatchObject({
        roomId: room,
        fromUserId: v.id,
        toUserId: managed.id,
        amount: 7,
        message: 'great show',
        fromName: 'Fan',
      });
      expect(res.body.balance).toBe(193);
      const after = await expectHealthyLedger();
      const delta = (id: string) => (after.balances.get(id) ?? 0) - (before.balances.get(id) ?? 0);
      // 7 × 20% → 1 to the platform; 6 × 30% → 1 to the studio; 5 to the streamer.
      expect(delta(`earnings:${managed.id}`)).toBe(5);
      expect(delta(`studio:${studio.id}`)).toBe(1);
      expect(delta('platform_revenue')).toBe(1);
      expect(delta(`wallet:${v.id}`)).toBe(-7);
    });

    it('moves nothing on insufficient balance, self-tips, oversized tips or ended rooms', async () => {
      const v = await viewerWith(10, 'Poor');
      const before = await ledgerInvariants(t.database);
      const broke = await tip(v.token, liveRoom, 11);
      expect(broke.status).toBe(402);
      expect(broke.body.error.code).toBe('insufficient_balance');
      expect((await tip(streamer.token, liveRoom, 1)).status).toBe(400);
      expect((await tip(v.token, liveRoom, 501)).status).toBe(400);
      expect((await tip(v.token, liveRoom, 0)).status).toBe(400);
      expect((await tip(v.token, 'nowhere', 1)).status).toBe(404);
      const ended = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'E' } }))
        .body.id;
      await t.call('POST', `/api/rooms/${ended}/end`, { token: streamer.token });
      expect((await tip(v.token, ended, 1)).body.error.code).toBe('room_ended');
      const after = await expectHealthyLedger();
      expect(after.balances).toEqual(before.balances);
      expect(await balance(v.token)).toBe(10);
      const metrics = (await t.call('GET', '/metrics')).body as string;
      expect(metrics).toMatch(/wallet_rejections_total\{operation="tip",reason="insufficient_balance"\} [1-9]/);
    });

    it('charges a retried tip once and tells listeners once', async () => {
      const v = await viewerWith(100, 'Retry');
      const seen: string[] = [];
      const listener = (tipEvent: { id: string }) => seen.push(tipEvent.id);
      t.platform.services.wallet.on('tip', listener);
      try {
        const k = key();
        const [a, b] = await Promise.all([tip(v.token, liveRoom, 10, k), tip(v.token, liveRoom, 10, k)]);
        const c = await tip(v.token, liveRoom, 10, k);
        expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
        expect(new Set([a.body.tip.id, b.body.tip.id, c.body.tip.id]).size).toBe(1);
        expect(await balance(v.token)).toBe(90);
        expect(seen).toEqual([a.body.tip.id]);
        const conflicting = await tip(v.token, liveRoom, 11, k);
        expect(conflicting.status).toBe(409);
        expect(conflicting.body.error.code).toBe('idempotency_key_conflict');
      } finally {
        t.platform.services.wallet.off('tip', listener);
      }
    });

    it('limits tips per minute', async () => {
      const limited = await startTestPlatform(db, { paymentsDevProvider: 'true', tipsPerMinute: 2 });
      try {
        const s = await limited.signUp('S', { role: 'streamer' });
        const room = (await limited.call('POST', '/api/rooms', { token: s.token, body: { kind: 'live', title: 'x' } }))
          .body.id;
        const v = await limited.signUp('V');
        await limited.call('POST', '/api/wallet/purchases', {
          token: v.token,
          headers: { 'idempotency-key': key() },
          body: { packId: 'starter', expectedPriceCents: 499 },
        });
        const send = () =>
          limited.call('POST', `/api/rooms/${room}/tips`, {
            token: v.token,
            headers: { 'idempotency-key': key() },
            body: { amount: 1 },
          });
        expect((await send()).status).toBe(201);
        expect((await send()).status).toBe(201);
        const third = await send();
        expect(third.status).toBe(429);
        expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      } finally {
        await limited.close();
      }
    });
  });

  describe('tickets and paid streams', () => {
    it('refuses to grant a paid stream without a ticket and grants it after', async () => {
      const room = (
        await t.call('POST', '/api/rooms', {
          token: streamer.token,
          body: { kind: 'live', title: 'Paid', ticketPrice: 50 },
        })
      ).body.id;
      const v = await viewerWith(120, 'Ticketed');
      const denied = await t.call('POST', `/api/rooms/${room}/grants`, { token: v.token, body: { role: 'subscribe' } });
      expect(denied.status).toBe(402);
      expect(denied.body.error).toMatchObject({ code: 'ticket_required', details: { ticketPrice: 50 } });
      const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken;
      expect(
        (await t.call('POST', `/api/rooms/${room}/grants`, { token: guest, body: { role: 'subscribe' } })).status,
      ).toBe(402);
      // The owner always gets in.
      expect(
        (await t.call('POST', `/api/rooms/${room}/grants`, { token: streamer.token, body: { role: 'subscribe' } }))
          .status,
      ).toBe(200);

      const k = key();
      const bought = await t.call('POST', `/api/rooms/${room}/tickets`, {
        token: v.token,
        headers: { 'idempotency-key': k },
        body: { expectedPrice: 50 },
      });
      expect(bought.status).toBe(201);
      expect(bought.body).toMatchObject({ entitlement: { roomId: room, kind: 'ticket', price: 50 }, balance: 70 });
      const replay = await t.call('POST', `/api/rooms/${room}/tickets`, {
        token: v.token,
        headers: { 'idempotency-key': k },
        body: { expectedPrice: 50 },
      });
      expect(replay.body.entitlement.id).toBe(bought.body.entitlement.id);
      const twice = await t.call('POST', `/api/rooms/${room}/tickets`, {
        token: v.token,
        headers: { 'idempotency-key': key() },
        body: { expectedPrice: 50 },
      });
      expect(twice.status).toBe(409);
      expect(twice.body.error.code).toBe('already_entitled');
      expect(await balance(v.token)).toBe(70);

      const granted = await t.call('POST', `/api/rooms/${room}/grants`, {
        token: v.token,
        body: { role: 'subscribe' },
      });
      expect(granted.status).toBe(200);
      const jwks = createLocalJWKSet((await t.call('GET', '/.well-known/jwks.json')).body);
      const { payload } = await jwtVerify(granted.body.token, jwks, { audience: 'fusionflow-media' });
      expect(payload.ent).toBe(bought.body.entitlement.id);
      const mine = await t.call('GET', '/api/wallet/entitlements', { token: v.token });
      expect(mine.body.entitlements.map((e: { roomId: string }) => e.roomId)).toContain(room);
      await expectHealthyLedger();
    });

    it('refuses a changed price, free rooms, owners and empty wallets without charging', async () => {
      const room = (
        await t.call('POST', '/api/rooms', {
          token: streamer.token,
          body: { kind: 'live', title: 'Dear', ticketPrice: 30 },
        })
      ).body.id;
      const v = await viewerWith(40, 'Hesitant');
      await t.call('PATCH', `/api/rooms/${room}`, { token: streamer.token, body: { ticketPrice: 35 } });
      const changed = await t.call('POST', `/api/rooms/${room}/tickets`, {
        token: v.token,
        headers: { 'idempotency-key': key() },
        body: { expectedPrice: 30 },
      });
      expect(changed.status).toBe(409);
      expect(changed.body.error.code).toBe('price_changed');
      expect(await balance(v.token)).toBe(40);
      expect(
        (
          await t.call('POST', `/api/rooms/${liveRoom}/tickets`, {
            token: v.token,
            headers: { 'idempotency-key': key() },
            body: { expectedPrice: 0 },
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await t.call('POST', `/api/rooms/${room}/tickets`, {
            token: streamer.token,
            headers: { 'idempotency-key': key() },
            body: { expectedPrice: 35 },
          })
        ).status,
      ).toBe(400);
      const poor = await viewerWith(5, 'Poorer');
      const broke = await t.call('POST', `/api/rooms/${room}/tickets`, {
        token: poor.token,
        headers: { 'idempotency-key': key() },
        body: { expectedPrice: 35 },
      });
      expect(broke.status).toBe(402);
      expect(await t.platform.services.wallet.ticketFor(poor.id, room)).toBeNull();
      await expectHealthyLedger();
    });
  });

  describe('earnings and payouts', () => {
    it('reports earnings by day and source, pays out on approval and returns them on rejection', async () => {
      const earner = await t.signUp('Earner', { role: 'streamer' });
      const room = (
        await t.call('POST', '/api/rooms', { token: earner.token, body: { kind: 'live', title: 'E', ticketPrice: 10 } })
      ).body.id;
      const v = await viewerWith(100, 'Payer');
      await tip(v.token, room, 50);
      await t.call('POST', `/api/rooms/${room}/tickets`, {
        token: v.token,
        headers: { 'idempotency-key': key() },
        body: { expectedPrice: 10 },
      });
      const e = await t.call('GET', '/api/earnings?days=7', { token: earner.token });
      expect(e.status).toBe(200);
      expect(e.body.totals).toEqual({ tips: 40, tickets: 8, calls: 0, total: 48 });
      expect(e.body.available).toBe(48);
      expect(e.body.days).toHaveLength(1);
      expect(e.body.days[0]).toMatchObject({
        day: new Date().toISOString().slice(0, 10),
        tips: 40,
        tickets: 8,
        total: 48,
      });

      expect((await t.call('GET', '/api/earnings', { token: v.token })).status).toBe(403);
      const tooMuch = await t.call('POST', '/api/payouts', {
        token: earner.token,
        headers: { 'idempotency-key': key() },
        body: { amount: 49 },
      });
      expect(tooMuch.status).toBe(402);
      const viewerPayout = await t.call('POST', '/api/payouts', {
        token: v.token,
        headers: { 'idempotency-key': key() },
        body: { amount: 1 },
      });
      expect(viewerPayout.status).toBe(403);

      const first = await t.call('POST', '/api/payouts', {
        token: earner.token,
        headers: { 'idempotency-key': key() },
        body: { amount: 30 },
      });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ status: 'pending', amount: 30, source: 'earnings' });
      const second = await t.call('POST', '/api/payouts', {
        token: earner.token,
        headers: { 'idempotency-key': key() },
        body: { amount: 18 },
      });
      expect(second.status).toBe(201);
      const mid = (await t.call('GET', '/api/earnings', { token: earner.token })).body;
      expect(mid).toMatchObject({ available: 0, pendingPayouts: 48 });

      const queue = await t.call('GET', '/api/admin/payouts?status=pending', { token: admin.token });
      expect(queue.body.payouts.map((p: { id: string }) => p.id)).toEqual(
        expect.arrayContaining([first.body.id, second.body.id]),
      );
      expect((await t.call('GET', '/api/admin/payouts', { token: earner.token })).status).toBe(403);

      const approved = await t.call('POST', `/api/admin/payouts/${first.body.id}/decision`, {
        token: admin.token,
        body: { decision: 'approve', note: 'sent by bank transfer' },
      });
      expect(approved.body).toMatchObject({ status: 'approved', decidedBy: admin.id, note: 'sent by bank transfer' });
      const rejected = await t.call('POST', `/api/admin/payouts/${second.body.id}/decision`, {
        token: admin.token,
        body: { decision: 'reject', note: 'verify your identity first' },
      });
      expect(rejected.body.status).toBe('rejected');
      const again = await t.call('POST', `/api/admin/payouts/${first.body.id}/decision`, {
        token: admin.token,
        body: { decision: 'approve' },
      });
      expect(again.body.status).toBe('approved');
      const flip = await t.call('POST', `/api/admin/payouts/${first.body.id}/decision`, {
        token: admin.token,
        body: { decision: 'reject' },
      });
      expect(flip.status).toBe(409);
      const end = (await t.call('GET', '/api/earnings', { token: earner.token })).body;
      expect(end).toMatchObject({ available: 18, pendingPayouts: 0 });
      const inv = await expectHealthyLedger();
      expect(inv.balances.get('payouts')).toBeGreaterThanOrEqual(30);
    });

    it('refuses an admin the approval of their own payout; another admin approves it', async () => {
      const earningAdmin = await t.signUpAs('Earning Admin', 'admin');
      const room = (
        await t.call('POST', '/api/rooms', { token: earningAdmin.token, body: { kind: 'live', title: 'Admin show' } })
      ).body.id;
      const v = await viewerWith(50, 'AdminFan');
      expect((await tip(v.token, room, 50)).status).toBe(201);
      const payout = await t.call('POST', '/api/payouts', {
        token: earningAdmin.token,
        headers: { 'idempotency-key': key() },
        body: { amount: 40 },
      });
      expect(payout.status).toBe(201);
      const own = await t.call('POST', `/api/admin/payouts/${payout.body.id}/decision`, {
        token: earningAdmin.token,
        body: { decision: 'approve' },
      });
      expect(own.status).toBe(403);
      expect(own.body.error.code).toBe('self_approval');
      expect((await t.call('GET', '/api/earnings', { token: earningAdmin.token })).body).toMatchObject({
        available: 0,
        pendingPayouts: 40,
      });
      const byAnother = await t.call('POST', `/api/admin/payouts/${payout.body.id}/decision`, {
        token: admin.token,
        body: { decision: 'approve' },
      });
      expect(byAnother.body).toMatchObject({ status: 'approved', decidedBy: admin.id });
      await expectHealthyLedger();
    });

    it("shows a studio its streamers' earnings and its share", async () => {
      const ownStudio = await t.signUpAs('Own Studio', 'studio');
      const s1 = await t.signUp('S1', { role: 'streamer' });
      await t.call('PATCH', `/api/admin/users/${s1.id}`, { token: admin.token, body: { studioId: ownStudio.id } });
      const room = (await t.call('POST', '/api/rooms', { token: s1.token, body: { kind: 'live', title: 'S1' } })).body
        .id;
      const v = await viewerWith(100, 'StudioFan');
      await tip(v.token, room, 100);
      const res = await t.call('GET', '/api/studio/earnings', { token: ownStudio.token });
      expect(res.status).toBe(200);
      // 100 → 20 platform, 24 studio, 56 streamer.
      expect(res.body).toMatchObject({
        available: 24,
        streamers: [{ userId: s1.id, streamerEarnings: 56, studioShare: 24 }],
      });
      const payout = await t.call('POST', '/api/payouts', {
        token: ownStudio.token,
        headers: { 'idempotency-key': key() },
        body: { amount: 24, source: 'studio' },
      });
      expect(payout.status).toBe(201);
      expect(
        (await t.call('PATCH', `/api/admin/users/${s1.id}`, { token: admin.token, body: { studioId: s1.id } })).status,
      ).toBe(400);
    });
  });

  describe('audit', () => {
    it('traces every movement to its request, actor and reason, for admins only', async () => {
      const v = await viewerWith(200, 'Audited');
      const res = await tip(v.token, liveRoom, 3, key(), 'hi');
      const view = await t.call('GET', `/api/admin/ledger?userId=${v.id}&kind=tip`, { token: admin.token });
      expect(view.status).toBe(200);
      expect(view.body.totalBalance).toBe(0);
      const tx = view.body.transactions.find((x: { id: string }) => x.id === res.body.tip.id);
      expect(tx).toMatchObject({
        kind: 'tip',
        actorId: v.id,
        requestId: res.headers['x-request-id'],
        roomId: liveRoom,
      });
      expect(tx.reason).toContain('tip of 3');
      expect(tx.entries.reduce((s: number, e: { amount: number }) => s + e.amount, 0)).toBe(0);
      expect((await t.call('GET', '/api/admin/ledger', { token: v.token })).status).toBe(403);
      const history = await t.call('GET', '/api/wallet/history?kind=tip', { token: v.token });
      expect(history.body.items[0]).toMatchObject({ kind: 'tip', amount: -3, roomId: liveRoom });
      const purchases = await t.call('GET', '/api/wallet/history?kind=purchase&limit=1', { token: v.token });
      expect(purchases.body.items).toHaveLength(1);
      expect(purchases.body.nextCursor).not.toBeNull();
    });

    it('is enforced by the database: entries are immutable and transactions must balance', async () => {
      await expect(sql`update ledger_entries set amount = amount + 1`.execute(t.database.db)).rejects.toThrow(
        /immutable/,
      );
      await expect(sql`delete from ledger_transactions`.execute(t.database.db)).rejects.toThrow(/immutable/);
      await expect(
        t.database.db.transaction().execute(async (tx) => {
          await sql`insert into ledger_transactions (id, kind, idempotency_key, request_hash, reason) values ('bad', 'tip', 'bad', 'x', 'x')`.execute(
            tx,
          );
          await sql`insert into ledger_entries (transaction_id, account_id, amount) values ('bad', 'platform_revenue', 5)`.execute(
            tx,
          );
        }),
      ).rejects.toThrow(/does not balance/);
      await expect(sql`update accounts set balance = -1 where kind = 'wallet'`.execute(t.database.db)).rejects.toThrow(
        /accounts_balance_not_negative/,
      );
      await expectHealthyLedger();
    });
  });
});
