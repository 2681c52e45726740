import { randomBytes } from 'node:crypto';
import { SrtpSession } from 'werift';
import { RtpHeaderWriter } from '../../apps/sfu/src/fanout/rtp-header-writer.js';
import { FastSrtpCipher } from '../../apps/sfu/src/fanout/srtp-fast-cipher.js';

/**
 * CPU per SRTP-encrypted packet (1,262 bytes on the wire, AES_CM_128_HMAC_SHA1_80): werift's cipher
 * against FastSrtpCipher, the per-subscriber cost the SFU's fast path pays for every packet.
 * `npx tsx --conditions=source bench/sfu/srtp-cipher.ts`
 */
const keys = {
  localMasterKey: randomBytes(16),
  localMasterSalt: randomBytes(14),
  remoteMasterKey: randomBytes(16),
  remoteMasterSalt: randomBytes(14),
};
const session = (fast: boolean) => {
  const s = new SrtpSession({ keys, profile: 0x0001 } as never);
  if (fast) FastSrtpCipher.install((s as unknown as { localContext: { cipher: unknown } }).localContext.cipher);
  return s;
};
const writer = new RtpHeaderWriter(96, 0x1234, { absSendTime: 3, mid: { id: 1, value: '0' } });
const payload = randomBytes(1262 - writer.serializeSize - 10);
const N = 100_000;
for (const [name, s] of [
  ['werift CipherAesCtr', session(false)],
  ['FastSrtpCipher', session(true)],
] as const) {
  let last = 0;
  for (let round = 0; round < 3; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < N; i++) s.encrypt(payload, writer.write(i & 0xffff, i * 3000, false, 0) as never);
    const used = process.cpuUsage(start);
    last = (used.user + used.system) / N;
  }
  console.log(`${name.padEnd(20)} ${last.toFixed(2)} µs CPU per packet`);
}
