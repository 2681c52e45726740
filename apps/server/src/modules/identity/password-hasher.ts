import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

function derive(password: string, salt: Buffer, log2N: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** log2N;
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r * p + 4 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/**
 * scrypt (memory-hard) password hashes, self-describing so the cost can rise later without
 * breaking stored hashes: `scrypt$<log2N>$<r>$<p>$<salt>$<hash>` (base64url).
 */
export class PasswordHasher {
  readonly #dummy: Promise<string>;

  constructor(private readonly log2N: number) {
    // Hash of a random password: verifying against it costs what a real verification costs,
    // so a missing account answers in the same time as a wrong password.
    this.#dummy = this.hash(randomBytes(16).toString('hex'));
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await derive(password, salt, this.log2N, BLOCK_SIZE, PARALLELISM);
    return ['scrypt', this.log2N, BLOCK_SIZE, PARALLELISM, salt.toString('base64url'), key.toString('base64url')].join(
      '$',
    );
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const [scheme, n, r, p, salt, hash] = stored.split('$');
    if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
    const expected = Buffer.from(hash, 'base64url');
    const actual = await derive(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  /** Spend the time of a verification when there is nothing to verify against. */
  async verifyNothing(password: string): Promise<false> {
    await this.verify(password, await this.#dummy);
    return false;
  }
}
