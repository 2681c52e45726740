import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { ledgerInvariants } from './test-ledger.js';

const WALLETS = 50;
const OPERATIONS = 2000;

/** A deterministic random stream so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(testDatabases())('ledger under concurrent load on $name', (db) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(db, {
      paymentsDevProvider: 'true',
      tipsPerMinute: 100_000,
      rateLimitPerMinute: 1_000_000,
      tokenPacks: [{ id: 'hundred', tokens: 100, priceCents: 100, currency: 'USD' }],
    });
  });
  afterAll(() => t.close());

  it('keeps every balance non-negative, the sum equal to what was bought, and charges each key once', async () => {
    const random = rng(20261121);
    const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
    const admin = await t.signUpAs('Admin', 'admin');
    const studio = await t.signUpAs('Studio', 'studio');
    const streamers = await Promise.all([0, 1, 2, 3].map((i) => t.signUp(`Streamer${i}`, { role: 'streamer' })));
    await t.call('PATCH', `/api/admin/users/${streamers[0]!.id}`, {
      token: admin.token,
      body: { studioId: studio.id },
    });
    await t.call('PATCH', `/api/admin/users/${streamers[1]!.id}`, {
      token: admin.token,
      body: { studioId: studio.id },
    });
    const rooms: { id: string; price: number }[] = [];
    for (const [i, s] of streamers.entries()) {
      for (const price of [0, 15 + i * 10]) {
        const body = { kind: 'live', title: `R${i}-${price}`, ...(price ? { ticketPrice: price } : {}) };
        rooms.push({ id: (await t.call('POST', '/api/rooms', { token: s.token, body })).body.id, price });
      }
    }
    const wallets = await Promise.all(Array.from({ length: WALLETS }, (_, i) => t.signUp(`Wallet${i}`)));
    let purchased = 0;
    const spentBy = new Map<string, number>();
    for (const w of wallets) {
      const packs = 1 + Math.floor(random() * 3);
      for (let p = 0; p < packs; p++) {
        const res = await t.call('POST', '/api/wallet/purchases', {
          token: w.token,
          headers: { 'idempotency-key': `buy-${randomUUID()}` },
          body: { packId: 'hundred', expectedPriceCents: 100 },
        });
        expect(res.status).toBe(201);
        purchased += 100;
      }
      spentBy.set(w.id, 0);
    }

    // Operations: tips and tickets; one in ten is sent a second time with the same key.
    interface Op {
      wallet: (typeof wallets)[number];
      url: string;
      body: object;
      key: string;
      cost: number;
    }
    const ops: Op[] = [];
    for (let i = 0; i < OPERATIONS; i++) {
      const wallet = pick(wallets);
      const room = pick(rooms);
      if (room.price > 0 && random() < 0.3) {
        ops.push({
          wallet,
          url: `/api/rooms/${room.id}/tickets`,
          body: { expectedPrice: room.price },
          key: `op-${i}-${randomUUID()}`,
          cost: room.price,
        });
      } else {
        const amount = 1 + Math.floor(random() * 40);
        ops.push({
          wallet,
          url: `/api/rooms/${room.id}/tips`,
          body: { amount },
          key: `op-${i}-${randomUUID()}`,
          cost: amount,
        });
      }
    }
    const sends = ops.flatMap((op) => (random() < 0.1 ? [op, op] : [op]));
    const results = await Promise.all(
      sends.map(async (op) => ({
        op,
        res: await t.call('POST', op.url, {
          token: op.wallet.token,
          headers: { 'idempotency-key': op.key },
          body: op.body,
        }),
      })),
    );

    // Only the refusals money allows: not enough tokens, a second ticket for the same room.
    const statuses = new Map<string, number>();
    for (const { res } of results) {
      const label = res.status === 201 ? '201' : `${res.status} ${res.body.error?.code}`;
      statuses.set(label, (statuses.get(label) ?? 0) + 1);
    }
    const unexpected = [...statuses].filter(
      ([s]) => !['201', '402 insufficient_balance', '409 already_entitled'].includes(s),
    );
    expect(unexpected).toEqual([]);
    expect(statuses.get('201')).toBeGreaterThan(OPERATIONS / 4);

    // Each key that was acknowledged moved money exactly once, and both answers to a retried key agree.
    const acknowledged = new Map<string, { op: Op; ids: Set<string> }>();
    for (const { op, res } of results) {
      if (res.status !== 201) continue;
      const id = res.body.tip?.id ?? res.body.entitlement?.id;
      const entry = acknowledged.get(op.key) ?? { op, ids: new Set<string>() };
      entry.ids.add(id);
      acknowledged.set(op.key, entry);
    }
    for (const { op, ids } of acknowledged.values()) {
      expect(ids.size).toBe(1);
      spentBy.set(op.wallet.id, spentBy.get(op.wallet.id)! + op.cost);
    }
    const keyed = await t.database.db
      .selectFrom('ledger_transactions')
      .select('idempotency_key')
      .where('kind', 'in', ['tip', 'ticket'])
      .execute();
    const charged = keyed.filter((k) => k.idempotency_key.includes(':op-'));
    expect(charged).toHaveLength(acknowledged.size);

    const inv = await ledgerInvariants(t.database);
    expect(inv.negative).toEqual([]);
    expect(inv.mismatched).toEqual([]);
    expect(inv.unbalancedTransactions).toBe(0);
    expect(inv.total).toBe(0);
    const held = [...inv.balances].filter(([id]) => id !== 'payment_clearing').reduce((s, [, b]) => s + b, 0);
    expect(held).toBe(purchased);
    expect(inv.balances.get('payment_clearing')).toBe(-purchased);
    // Every wallet holds exactly what it bought minus what it was acknowledged to spend.
    const bought = new Map<string, number>();
    const purchases = await t.database.db
      .selectFrom('purchases')
      .select(['user_id', 'tokens'])
      .where('status', '=', 'completed')
      .execute();
    for (const p of purchases) bought.set(p.user_id, (bought.get(p.user_id) ?? 0) + p.tokens);
    for (const w of wallets) {
      expect(inv.balances.get(`wallet:${w.id}`)).toBe(bought.get(w.id)! - spentBy.get(w.id)!);
    }
  }, 180_000);
});
