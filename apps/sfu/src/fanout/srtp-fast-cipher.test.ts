import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SrtpSession } from 'werift';
import { RtpHeaderWriter } from './rtp-header-writer.js';
import { FastSrtpCipher } from './srtp-fast-cipher.js';

/** SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764). */
const AES_CM_PROFILE = 0x0001;

const session = (keys: Record<string, Buffer>) => new SrtpSession({ keys, profile: AES_CM_PROFILE } as never);
const cipherOf = (s: SrtpSession) => (s as unknown as { localContext: { cipher: unknown } }).localContext.cipher;

describe('FastSrtpCipher', () => {
  it('encrypts exactly as werift’s AES-CM cipher does: payload sizes, sequence numbers, rollover, extensions', () => {
    for (let round = 0; round < 20; round++) {
      const keys = {
        localMasterKey: randomBytes(16),
        localMasterSalt: randomBytes(14),
        remoteMasterKey: randomBytes(16),
        remoteMasterSalt: randomBytes(14),
      };
      const werift = session(keys);
      const fast = session(keys);
      expect(FastSrtpCipher.install(cipherOf(fast))).toBe(true);
      const writer = new RtpHeaderWriter(
        96,
        randomBytes(4).readUInt32BE(0),
        round % 2 ? { absSendTime: 3, mid: { id: 1, value: '0' } } : {},
      );
      // Through a sequence-number wrap, so the rollover counter goes up.
      let seq = 65_500 + round;
      for (const size of [1, 15, 16, 17, 160, 1100, 1262, 1400, 900, 50]) {
        for (let k = 0; k < 10; k++) {
          seq = (seq + 1) & 0xffff;
          const ts = randomBytes(4).readUInt32BE(0);
          const payload = randomBytes(size);
          const expected = Buffer.from(
            werift.encrypt(payload, writer.write(seq, ts, k % 2 === 0, 1_700_000_000_000) as never),
          );
          const actual = fast.encrypt(payload, writer.write(seq, ts, k % 2 === 0, 1_700_000_000_000) as never);
          expect(actual.equals(expected)).toBe(true);
        }
      }
    }
  });

  it('replaces only an AES-CM cipher', () => {
    expect(FastSrtpCipher.install({ encryptRtp: () => Buffer.alloc(0) })).toBe(false);
    expect(FastSrtpCipher.install(undefined)).toBe(false);
  });
});
