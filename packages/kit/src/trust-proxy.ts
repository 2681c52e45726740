import proxyAddr from '@fastify/proxy-addr';
import { z } from 'zod';

/**
 * Which proxies in front of an app are believed when they say who the client is
 * (`X-Forwarded-For`, `-Proto`, `-Host`): none (`false`), the nearest `n` hops (nginx on the same
 * machine is 1), or the proxies at these addresses / CIDR ranges (`loopback`, `linklocal` and
 * `uniquelocal` name the usual ranges). There is no "trust everyone": then every client could
 * pick its own address, and every per-address limit would be void.
 */
export type TrustProxy = false | number | readonly string[];

/** Whether the address `hop` steps from the server (0: the socket's peer) is a trusted proxy. */
export type TrustFunction = (address: string, hop: number) => boolean;

const MAX_HOPS = 16;
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];
export const TRUST_EVERY_HOP_REFUSED =
  '`true` (trust every hop) is no longer accepted: any client could pick its own address with X-Forwarded-For. ' +
  'Set the number of proxies in front of this server (1 for nginx on the same machine) or their addresses ' +
  '(e.g. 127.0.0.1,10.0.0.0/8), or false for none';

/** Reads TRUST_PROXY-style text: `false`, a hop count, or a comma-separated list of addresses/CIDRs. */
export function readTrustProxy(): z.ZodType<TrustProxy, string> {
  return z.string().transform((raw, ctx): TrustProxy => {
    const text = raw.trim().toLowerCase();
    if (['false', 'no', 'off', 'none', '0'].includes(text)) return false;
    if (['true', 'yes', 'on', '*', 'all'].includes(text)) {
      ctx.addIssue({ code: 'custom', message: TRUST_EVERY_HOP_REFUSED });
      return z.NEVER;
    }
    if (/^\d+$/.test(text)) {
      const hops = Number(text);
      if (hops > MAX_HOPS) {
        ctx.addIssue({ code: 'custom', message: `a hop count is 1 to ${MAX_HOPS}` });
        return z.NEVER;
      }
      return hops;
    }
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const item of items) {
      if (NAMED_RANGES.includes(item)) continue;
      try {
        proxyAddr.compile(item);
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(item)} is not an address, a CIDR range (10.0.0.0/8) or one of ${NAMED_RANGES.join(', ')}`,
        });
        return z.NEVER;
      }
    }
    if (items.length === 0) return false;
    return Object.freeze(items);
  });
}

/** The trust rule as a function (what Fastify's `trustProxy` and proxy-addr take). */
export function trustFunction(trust: TrustProxy): TrustFunction {
  if (trust === false || trust === 0) return () => false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyAddr.compile([...trust]);
}

/**
 * The client's address: the socket's peer, or, walking `X-Forwarded-For` from its right end (the
 * entry the nearest proxy added), the first address that is not a trusted proxy. Entries a client
 * wrote itself sit to the left of what its proxy appended, so they are never reached.
 */
export function clientAddress(
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trust: TrustFunction,
): string {
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const request = { socket: { remoteAddress }, headers: header === undefined ? {} : { 'x-forwarded-for': header } };
  return proxyAddr(request as unknown as Parameters<typeof proxyAddr>[0], trust) ?? remoteAddress ?? '';
}
