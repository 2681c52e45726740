import { randomUUID } from 'node:crypto';
import type { ServerConfig } from '../../config.js';
import type { TestDatabase } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';

export const key = () => `k-${randomUUID()}`;

/** A platform for governance tests: dev payments with a 100-token pack, no platform fee. */
export function startGovernancePlatform(db: TestDatabase, overrides: Partial<ServerConfig> = {}) {
  return startTestPlatform(db, {
    port: 0,
    paymentsDevProvider: 'true',
    tokenPacks: [{ id: 'hundred', tokens: 100, priceCents: 100, currency: 'USD' }],
    platformFeePercent: 0,
    studioSharePercent: 30,
    tipMaxTokens: 10_000,
    tipsPerMinute: 1000,
    rateLimitPerMinute: 100_000,
    ...overrides,
  });
}

/** Buy `hundreds` × 100 tokens for an account. */
export async function buy(t: TestPlatform, token: string, hundreds = 1): Promise<void> {
  for (let i = 0; i < hundreds; i++) {
    const res = await t.call('POST', '/api/wallet/purchases', {
      token,
      headers: { 'idempotency-key': key() },
      body: { packId: 'hundred', expectedPriceCents: 100, provider: 'dev' },
    });
    if (res.status !== 201) throw new Error(`purchase failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

export async function createRoom(
  t: TestPlatform,
  token: string,
  kind: 'live' | 'call' = 'live',
  title = 'Show',
): Promise<string> {
  const res = await t.call('POST', '/api/rooms', { token, body: { kind, title } });
  if (res.status !== 201) throw new Error(`room failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** A streamer with `amount` tokens of earnings (a viewer tipped them, no fee). */
export async function streamerWithEarnings(t: TestPlatform, amount: number, name = 'Earner') {
  const streamer = await t.signUp(name, { role: 'streamer' });
  const room = await createRoom(t, streamer.token);
  const fan = await t.signUp(`${name} fan`);
  await buy(t, fan.token, Math.ceil(amount / 100));
  const tip = await t.call('POST', `/api/rooms/${room}/tips`, {
    token: fan.token,
    headers: { 'idempotency-key': key() },
    body: { amount },
  });
  if (tip.status !== 201) throw new Error(`tip failed: ${tip.status} ${JSON.stringify(tip.body)}`);
  return { ...streamer, room };
}

export async function requestPayout(t: TestPlatform, token: string, amount: number): Promise<string> {
  const res = await t.call('POST', '/api/payouts', { token, headers: { 'idempotency-key': key() }, body: { amount } });
  if (res.status !== 201) throw new Error(`payout failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}
