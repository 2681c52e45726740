import { describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.js';
import { newIdempotencyKey, WalletClient } from './wallet-client.js';

const tip = {
  tip: {
    id: 't1',
    roomId: 'r1',
    fromUserId: 'u1',
    fromName: 'Ada',
    toUserId: 'u2',
    amount: 5,
    message: null,
    createdAt: '2026-01-01T00:00:00.000Z',
  },
  balance: 95,
};

describe('WalletClient', () => {
  it('makes distinct keys that the server accepts', () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
    expect(newIdempotencyKey()).not.toBe(a);
  });

  it('sends the same idempotency key again when the network fails mid-flight', async () => {
    const keys: string[] = [];
    let calls = 0;
    const fetch = async (_url: string, init: RequestInit = {}) => {
      calls++;
      keys.push((init.headers as Record<string, string>)['idempotency-key']!);
      if (calls < 3) throw new TypeError('connection reset');
      return new Response(JSON.stringify(tip), { status: 201, headers: { 'content-type': 'application/json' } });
    };
    const wallet = new WalletClient(new ApiClient({ fetch }));
    const res = await wallet.tip('r1', { amount: 5 });
    expect(res.balance).toBe(95);
    expect(calls).toBe(3);
    expect(new Set(keys).size).toBe(1);
  });

  it('does not retry an answer from the server, and gives up after the retries', async () => {
    let calls = 0;
    const refuse = async () => {
      calls++;
      return new Response(JSON.stringify({ error: { code: 'insufficient_balance', message: 'not enough tokens' } }), {
        status: 402,
        headers: { 'content-type': 'application/json' },
      });
    };
    await expect(new WalletClient(new ApiClient({ fetch: refuse })).tip('r1', { amount: 5 })).rejects.toMatchObject({
      code: 'insufficient_balance',
      status: 402,
    });
    expect(calls).toBe(1);
    let down = 0;
    const offline = async () => {
      down++;
      throw new TypeError('offline');
    };
    await expect(new WalletClient(new ApiClient({ fetch: offline }), 2).tip('r1', { amount: 5 })).rejects.toMatchObject(
      {
        code: 'network_error',
      },
    );
    expect(down).toBe(3);
  });
});
