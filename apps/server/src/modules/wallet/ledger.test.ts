import { randomUUID } from 'node:crypto';
import { createMetricsRegistry } from '@fusionflow/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../db/database.js';
import { testDatabases } from '../../db/test-databases.js';
import { Ledger } from './ledger.js';
import { ledgerInvariants } from './test-ledger.js';
import { createWalletMetrics } from './wallet-metrics.js';

describe.each(testDatabases())('Ledger on $name', (db) => {
  let database: DatabaseHandle;
  let ledger: Ledger;
  let userId: string;
  beforeAll(async () => {
    database = await db.open();
    ledger = new Ledger(
      database.db,
      createWalletMetrics(createMetricsRegistry({ defaultMetrics: false })).ledgerLatency,
    );
    userId = randomUUID();
    await database.db
      .insertInto('users')
      .values({
        id: userId,
        email: `${userId}@example.com`,
        password_hash: 'x',
        display_name: 'L',
        handle: `l-${userId}`.slice(0, 30),
        role: 'viewer',
        language: 'en',
      })
      .execute();
  });
  afterAll(() => database.close());

  const credit = (key: string, amount: number) => ({
    kind: 'purchase' as const,
    idempotencyKey: key,
    request: { amount },
    actorId: null,
    requestId: null,
    reason: 'test',
    postings: [
      { account: { kind: 'payment_clearing' as const }, amount: -amount },
      { account: { kind: 'wallet' as const, ownerId: userId }, amount },
    ],
  });

  it('creates an account again after the transaction that first created it rolled back', async () => {
    await expect(
      ledger.run('purchase', async (tx) => {
        await ledger.post(tx, credit(`a-${randomUUID()}`, 5));
        throw new Error('the caller gives up after posting');
      }),
    ).rejects.toThrow('gives up');
    expect(await ledger.balance({ kind: 'wallet', ownerId: userId })).toBe(0);
    // The wallet account vanished with the rollback; the next posting must create it again.
    await ledger.run('purchase', (tx) => ledger.post(tx, credit(`b-${randomUUID()}`, 7)));
    expect(await ledger.balance({ kind: 'wallet', ownerId: userId })).toBe(7);
  });

  it('replays a key without moving money and refuses the key for another request', async () => {
    const key = `c-${randomUUID()}`;
    const first = await ledger.run('purchase', (tx) => ledger.post(tx, credit(key, 3)));
    const again = await ledger.run('purchase', (tx) => ledger.post(tx, credit(key, 3)));
    expect(again).toMatchObject({ transactionId: first.transactionId, replayed: true });
    await expect(ledger.run('purchase', (tx) => ledger.post(tx, credit(key, 4)))).rejects.toMatchObject({
      code: 'idempotency_key_conflict',
    });
    expect(await ledger.balance({ kind: 'wallet', ownerId: userId })).toBe(10);
  });

  it('refuses unbalanced postings before touching the database, and overdrafts in it', async () => {
    await expect(
      ledger.run('tip', (tx) =>
        ledger.post(tx, {
          ...credit(`d-${randomUUID()}`, 1),
          postings: [{ account: { kind: 'platform_revenue' }, amount: 1 }],
        }),
      ),
    ).rejects.toThrow(/unbalanced/);
    await expect(
      ledger.run('tip', (tx) =>
        ledger.post(tx, {
          ...credit(`e-${randomUUID()}`, 1),
          postings: [
            { account: { kind: 'wallet', ownerId: userId }, amount: -11 },
            { account: { kind: 'platform_revenue' }, amount: 11 },
          ],
        }),
      ),
    ).rejects.toMatchObject({ code: 'insufficient_balance' });
    expect(await ledgerInvariants(database)).toMatchObject({ total: 0, mismatched: [], negative: [] });
  });
});
