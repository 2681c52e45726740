import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signature of a payment-provider webhook: header `x-ff-signature: t=<unix seconds>,v1=<hex>`, where
 * v1 = HMAC-SHA256(secret, `${t}.${raw body}`). Binding the timestamp into the MAC makes old
 * deliveries useless to an attacker once they are older than the tolerance.
 */
export function signWebhook(secret: string, rawBody: string | Buffer, timestampSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

export type WebhookCheck = { ok: true } | { ok: false; reason: 'malformed' | 'signature' | 'stale' };

export function verifyWebhook(
  secret: string,
  rawBody: Buffer,
  header: string | undefined,
  toleranceSeconds: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): WebhookCheck {
  if (!header) return { ok: false, reason: 'malformed' };
  const parts = new Map(
    header.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(signWebhook(secret, rawBody, t).split('v1=')[1]!, 'hex');
  if (!timingSafeEqual(expected, Buffer.from(v1, 'hex'))) return { ok: false, reason: 'signature' };
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return { ok: false, reason: 'stale' };
  return { ok: true };
}
