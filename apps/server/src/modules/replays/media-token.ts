import { createHmac, timingSafeEqual } from 'node:crypto';

export interface MediaTokenOptions {
  /** A server secret (the access tokens' HMAC secret): the key is derived from it for this one purpose. */
  secret: string;
  ttlSeconds: number;
  now?: () => number;
}

/**
 * Short-lived signatures of a replay's media URLs (`/api/replays/:id/media/:name?token=`): a
 * `<video>` element cannot send an Authorization header, so the playback answer hands it a URL
 * that carries its own permission. A token is `<expiry, unix seconds>.<HMAC-SHA256 of id, name,
 * expiry>`; it names one file of one recording and cannot be stretched or moved to another.
 */
export class MediaTokens {
  readonly #key: Buffer;
  readonly #now: () => number;

  constructor(private readonly o: MediaTokenOptions) {
    this.#key = createHmac('sha256', o.secret).update('fusionflow replay media tokens v1').digest();
    this.#now = o.now ?? Date.now;
  }

  sign(id: string, name: string): { token: string; expiresAt: Date } {
    const exp = Math.floor(this.#now() / 1000) + this.o.ttlSeconds;
    return { token: `${exp}.${this.#mac(id, name, exp).toString('base64url')}`, expiresAt: new Date(exp * 1000) };
  }

  /** Whether the token was signed here for this file and has not expired. */
  verify(id: string, name: string, token: string | undefined): boolean {
    const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
    if (!m) return false;
    const exp = Number(m[1]);
    if (exp * 1000 <= this.#now()) return false;
    const given = Buffer.from(m[2]!, 'base64url');
    const expected = this.#mac(id, name, exp);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #mac(id: string, name: string, exp: number): Buffer {
    // Length-prefixed fields: no two (id, name, exp) triples sign the same bytes.
    return createHmac('sha256', this.#key).update(`${id.length}:${id}|${name.length}:${name}|${exp}`).digest();
  }
}
