import type { RTCDtlsTransport } from 'werift';

/**
 * The key material werift 0.24 keeps for the life of a connected transport, stored so that it costs what it weighs.
 *
 * - **Pool slabs.** The master secret, the DTLS record keys and the SRTP/SRTCP master and session keys are 14–48-byte
 *   Buffers, most of them slices of Node's shared 8 KiB allocation pool, made while the handshake filled the same
 *   slabs with messages that are gone since. One live slice keeps its whole slab: a viewer's keys held about a
 *   dozen slabs (~14 KiB per viewer in heap snapshots). Each is replaced by an exact copy in memory of its own; every
 *   field werift reads them from (the SRTP contexts and their ciphers share the same Buffers) gets the same copy.
 * - **Dead HMACs.** Each of the four SRTP/SRTCP contexts creates two HMAC-SHA1 objects (`srtpSessionAuth`,
 *   `srtcpSessionAuth`) that nothing reads: with AES-GCM there is no HMAC, and werift's AES-CM cipher makes a new
 *   one per packet (`generateSrtpAuthTag` too assigns a fresh one before using it). Eight native OpenSSL contexts
 *   per viewer; they are dropped.
 *
 * Keys are only read after the handshake (never written: the DTLS nonces, which werift writes per record, are
 * allocated outside the pool and left alone), so the copies change nothing but where the bytes live.
 */

/** Fields of werift's SRTP/SRTCP `Context` and of its ciphers that hold keys. */
const SRTP_KEYS = [
  'masterKey',
  'masterSalt',
  'srtpSessionKey',
  'srtpSessionSalt',
  'srtpSessionAuthTag',
  'srtcpSessionKey',
  'srtcpSessionSalt',
  'srtcpSessionAuthTag',
] as const;
/** Fields of werift's DTLS `CipherContext` and of its record cipher that hold keys (not the nonces). */
const DTLS_KEYS = ['masterSecret', 'localCert'] as const;
const RECORD_KEYS = ['clientWriteKey', 'serverWriteKey'] as const;
const UNUSED_HMACS = ['srtpSessionAuth', 'srtcpSessionAuth'] as const;

type Fields = Record<string, unknown>;

interface TransportState {
  srtp?: { localContext?: Fields; remoteContext?: Fields };
  srtcp?: { localContext?: Fields; remoteContext?: Fields };
  dtls?: { connected?: boolean; cipher?: Fields & { cipher?: Fields } };
}

/** A slice of Node's shared allocation pool (a Buffer smaller than the ArrayBuffer under it). */
export function isPooled(b: Buffer): boolean {
  return b.byteLength < b.buffer.byteLength;
}

/**
 * Copy the key material of a connected transport out of the shared pool and drop werift's unused HMAC objects.
 * Returns how many Buffers it copied. Idempotent; does nothing before SRTP is set up.
 */
export function compactSessionKeys(transport: RTCDtlsTransport | undefined): number {
  const t = transport as unknown as TransportState | undefined;
  if (!t?.srtp?.localContext || !t.srtcp?.localContext || !t.dtls?.connected) return 0;
  const copies = new Map<Buffer, Buffer>();
  const own = (holder: Fields | undefined, names: readonly string[]) => {
    if (!holder) return;
    for (const name of names) {
      const b = holder[name];
      if (!Buffer.isBuffer(b) || !isPooled(b)) continue;
      let copy = copies.get(b);
      if (!copy) {
        copy = Buffer.allocUnsafeSlow(b.length);
        b.copy(copy);
        copies.set(b, copy);
      }
      holder[name] = copy;
    }
  };
  for (const session of [t.srtp, t.srtcp]) {
    for (const context of [session.localContext, session.remoteContext]) {
      if (!context) continue;
      own(context, SRTP_KEYS);
      own(context.cipher as Fields | undefined, SRTP_KEYS);
      for (const name of UNUSED_HMACS) context[name] = undefined;
    }
  }
  own(t.dtls.cipher, DTLS_KEYS);
  own(t.dtls.cipher?.cipher, RECORD_KEYS);
  return copies.size;
}
