import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';

/** One side's X25519 key pair for a relay; the public half travels in the signed relay request or answer. */
export class RelayKeyPair {
  readonly #privateKey: KeyObject;
  /** Raw 32 bytes, base64url (the `key` of RelayRequest and RelayAnswer). */
  readonly publicKey: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    this.#privateKey = privateKey;
    this.publicKey = publicKey.export({ format: 'jwk' }).x!;
  }

  /** The shared secret with the other side's public key (throws on a key that is not X25519). */
  agree(peerPublicKey: string): Buffer {
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerPublicKey }, format: 'jwk' });
    return diffieHellman({ privateKey: this.#privateKey, publicKey });
  }
}

const TAG = 16;
const COUNTER = 8;

/** One direction of a relay: AES-128-GCM with a key and nonce salt of its own (HKDF of the shared secret). */
class Direction {
  readonly key: Buffer;
  readonly salt: Buffer;

  constructor(secret: Buffer, relayId: string, label: string) {
    const out = Buffer.from(
      hkdfSync('sha256', secret, Buffer.from(relayId), Buffer.from(`fusionflow relay ${label}`), 20),
    );
    this.key = out.subarray(0, 16);
    this.salt = out.subarray(16, 20);
  }

  nonce(counter: bigint): Buffer {
    const nonce = Buffer.allocUnsafe(12);
    this.salt.copy(nonce, 0);
    nonce.writeBigUInt64BE(counter, 4);
    return nonce;
  }
}

/**
 * Seals and opens the datagrams of one relay: `[8-byte counter][ciphertext][16-byte tag]`, AES-128-GCM, the nonce the
 * direction's salt and the counter (never reused: one counter per direction, one key per relay). A datagram that does
 * not authenticate (someone else's, a corrupted one) opens to undefined. Media leaving the machine is encrypted this
 * way; inside one machine it costs one cipher call per packet per relay, not per viewer, so it stays on there too.
 */
export class RelayCipher {
  readonly #out: Direction;
  readonly #in: Direction;
  #counter = 0n;
  #highest = -1n;

  constructor(secret: Buffer, relayId: string, side: 'origin' | 'edge') {
    const toEdge = new Direction(secret, relayId, 'origin to edge');
    const toOrigin = new Direction(secret, relayId, 'edge to origin');
    this.#out = side === 'origin' ? toEdge : toOrigin;
    this.#in = side === 'origin' ? toOrigin : toEdge;
  }

  seal(plain: Buffer): Buffer {
    const counter = this.#counter++;
    const cipher = createCipheriv('aes-128-gcm', this.#out.key, this.#out.nonce(counter));
    const out = Buffer.allocUnsafe(COUNTER + plain.length + TAG);
    out.writeBigUInt64BE(counter, 0);
    cipher.update(plain).copy(out, COUNTER);
    cipher.final();
    cipher.getAuthTag().copy(out, COUNTER + plain.length);
    return out;
  }

  /**
   * The plaintext, or undefined when the datagram is not this relay's. `fresh`: its counter is the highest yet; a
   * control message that is not fresh is a replay (or reordered: control messages repeat, so it is dropped).
   */
  open(datagram: Buffer): { plain: Buffer; fresh: boolean } | undefined {
    if (datagram.length < COUNTER + TAG + 1) return undefined;
    const counter = datagram.readBigUInt64BE(0);
    try {
      const decipher = createDecipheriv('aes-128-gcm', this.#in.key, this.#in.nonce(counter));
      decipher.setAuthTag(datagram.subarray(datagram.length - TAG));
      const plain = decipher.update(datagram.subarray(COUNTER, datagram.length - TAG));
      decipher.final();
      const fresh = counter > this.#highest;
      if (fresh) this.#highest = counter;
      return { plain, fresh };
    } catch {
      return undefined;
    }
  }
}
