import { createHmac, timingSafeEqual } from 'node:crypto';
import { INTERNAL_SIGNATURE } from '@fusionflow/protocol';

/**
 * Signatures of internal requests between the control plane and the SFU: HMAC-SHA256 with a shared
 * secret over `timestamp \n method \n path \n body`, sent as `x-ff-timestamp` (unix seconds) and
 * `x-ff-signature` (hex). Binding method and path means a captured body cannot be replayed
 * against another endpoint; the timestamp bounds how long it can be replayed at all.
 */
export function signInternalRequest(
  secret: string,
  method: string,
  path: string,
  body: string,
  nowMs = Date.now(),
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [INTERNAL_SIGNATURE.timestampHeader]: timestamp,
    [INTERNAL_SIGNATURE.signatureHeader]: digest(secret, timestamp, method, path, body),
  };
}

export type SignatureCheck = 'ok' | 'missing' | 'stale' | 'invalid';

/** Check a signed internal request. `path` is the request path without the query string. */
export function verifyInternalRequest(
  secret: string,
  request: { method: string; path: string; body: string; headers: Record<string, string | string[] | undefined> },
  options: { maxSkewSeconds?: number; nowMs?: number } = {},
): SignatureCheck {
  const ts = one(request.headers[INTERNAL_SIGNATURE.timestampHeader]);
  const sig = one(request.headers[INTERNAL_SIGNATURE.signatureHeader]);
  if (!ts || !sig) return 'missing';
  if (!/^\d{1,12}$/.test(ts) || !/^[0-9a-f]{64}$/.test(sig)) return 'invalid';
  const skew = Math.abs((options.nowMs ?? Date.now()) / 1000 - Number(ts));
  if (skew > (options.maxSkewSeconds ?? INTERNAL_SIGNATURE.maxSkewSeconds)) return 'stale';
  const expected = Buffer.from(digest(secret, ts, request.method, request.path, request.body), 'hex');
  return timingSafeEqual(expected, Buffer.from(sig, 'hex')) ? 'ok' : 'invalid';
}

function digest(secret: string, timestamp: string, method: string, path: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${method.toUpperCase()}\n${path}\n${body}`).digest('hex');
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
