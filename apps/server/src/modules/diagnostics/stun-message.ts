import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';

/**
 * STUN messages (RFC 8489) with the TURN methods and attributes (RFC 8656) the doctor needs:
 * encoding, decoding, XOR addresses, and MESSAGE-INTEGRITY with long-term credentials.
 * FINGERPRINT is ignored when read and never sent (coturn does not require it).
 */
export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_BYTES = 20;

export const Method = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
} as const;

export const MessageClass = { Request: 0, Indication: 1, Success: 2, Error: 3 } as const;
export type MessageClass = (typeof MessageClass)[keyof typeof MessageClass];

export const Attr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedTransport: 0x0019,
  XorMappedAddress: 0x0020,
  Software: 0x8022,
  Fingerprint: 0x8028,
} as const;

export interface Address {
  address: string;
  port: number;
}

export interface StunMessage {
  method: number;
  cls: MessageClass;
  transactionId: Buffer;
  attributes: { type: number; value: Buffer }[];
}

export class StunParseError extends Error {}

const typeOf = (method: number, cls: number) =>
  (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);

/** A new request or indication with a random transaction id. */
export function stunMessage(method: number, cls: MessageClass = MessageClass.Request): StunMessage {
  return { method, cls, transactionId: randomBytes(12), attributes: [] };
}

export function addAttribute(m: StunMessage, type: number, value: Buffer | string): StunMessage {
  m.attributes.push({ type, value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value });
  return m;
}

export function attribute(m: StunMessage, type: number): Buffer | undefined {
  return m.attributes.find((a) => a.type === type)?.value;
}

export function textAttribute(m: StunMessage, type: number): string | undefined {
  return attribute(m, type)?.toString('utf8');
}

const padded = (n: number) => (n + 3) & ~3;

function encodeAttributes(attributes: StunMessage['attributes']): Buffer {
  const parts: Buffer[] = [];
  for (const a of attributes) {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(a.type, 0);
    head.writeUInt16BE(a.value.length, 2);
    parts.push(head, a.value, Buffer.alloc(padded(a.value.length) - a.value.length));
  }
  return Buffer.concat(parts);
}

function header(m: StunMessage, length: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.writeUInt16BE(typeOf(m.method, m.cls), 0);
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(MAGIC_COOKIE, 4);
  m.transactionId.copy(h, 8);
  return h;
}

/** The long-term credential key: MD5(username ":" realm ":" password). */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`).digest();
}

/** Serialize; with a key, a MESSAGE-INTEGRITY (HMAC-SHA1) attribute is appended. */
export function encodeStun(m: StunMessage, integrityKey?: Buffer): Buffer {
  const body = encodeAttributes(m.attributes);
  if (!integrityKey) return Buffer.concat([header(m, body.length), body]);
  // The length covers the MESSAGE-INTEGRITY attribute (4 + 20 bytes) while the HMAC is computed.
  const signed = Buffer.concat([header(m, body.length + 24), body]);
  const mac = createHmac('sha1', integrityKey).update(signed).digest();
  const attr = Buffer.alloc(4);
  attr.writeUInt16BE(Attr.MessageIntegrity, 0);
  attr.writeUInt16BE(20, 2);
  return Buffer.concat([signed, attr, mac]);
}

/** Whether the buffer starts like a STUN message (and how long it is), for stream framing. */
export function stunLength(buffer: Buffer): number | undefined {
  if (buffer.length < HEADER_BYTES) return undefined;
  if ((buffer[0]! & 0xc0) !== 0 || buffer.readUInt32BE(4) !== MAGIC_COOKIE) {
    throw new StunParseError('not a STUN message');
  }
  return HEADER_BYTES + buffer.readUInt16BE(2);
}

export function decodeStun(buffer: Buffer): StunMessage {
  const length = stunLength(buffer);
  if (length === undefined || buffer.length < length) throw new StunParseError('truncated STUN message');
  const type = buffer.readUInt16BE(0);
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = (((type & 0x0010) >> 4) | ((type & 0x0100) >> 7)) as MessageClass;
  const attributes: StunMessage['attributes'] = [];
  let at = HEADER_BYTES;
  while (at + 4 <= length) {
    const t = buffer.readUInt16BE(at);
    const len = buffer.readUInt16BE(at + 2);
    if (at + 4 + len > length) throw new StunParseError('attribute runs past the message');
    attributes.push({ type: t, value: buffer.subarray(at + 4, at + 4 + len) });
    at += 4 + padded(len);
  }
  return { method, cls, transactionId: Buffer.from(buffer.subarray(8, 20)), attributes };
}

/** Whether a received message's MESSAGE-INTEGRITY matches the key. */
export function verifyIntegrity(raw: Buffer, key: Buffer): boolean {
  let at = HEADER_BYTES;
  const length = HEADER_BYTES + raw.readUInt16BE(2);
  while (at + 4 <= length) {
    const t = raw.readUInt16BE(at);
    const len = raw.readUInt16BE(at + 2);
    if (t === Attr.MessageIntegrity) {
      const signed = Buffer.from(raw.subarray(0, at));
      signed.writeUInt16BE(at - HEADER_BYTES + 24, 2);
      const mac = createHmac('sha1', key).update(signed).digest();
      const given = raw.subarray(at + 4, at + 4 + len);
      return given.length === mac.length && timingSafeEqual(given, mac);
    }
    at += 4 + padded(len);
  }
  return false;
}

export function errorCodeOf(m: StunMessage): { code: number; reason: string } | undefined {
  const v = attribute(m, Attr.ErrorCode);
  if (!v || v.length < 4) return undefined;
  return { code: (v[2]! & 0x07) * 100 + v[3]!, reason: v.subarray(4).toString('utf8') };
}

/** An XOR-*-ADDRESS attribute value for an IPv4 address. */
export function xorAddress(a: Address): Buffer {
  if (!isIPv4(a.address)) throw new Error(`only IPv4 peers are supported (${a.address})`);
  const v = Buffer.alloc(8);
  v[1] = 0x01;
  v.writeUInt16BE(a.port ^ (MAGIC_COOKIE >>> 16), 2);
  const ip = a.address.split('.').map(Number);
  v.writeUInt32BE((((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) ^ MAGIC_COOKIE) >>> 0, 4);
  return v;
}

export function readXorAddress(m: StunMessage, type: number): Address | undefined {
  const v = attribute(m, type);
  if (!v || v.length < 8) return undefined;
  const port = v.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  if (v[1] === 0x01) {
    const n = (v.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0;
    return { address: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), port };
  }
  if (v[1] === 0x02 && v.length >= 20) {
    const mask = Buffer.concat([Buffer.alloc(4), m.transactionId]);
    mask.writeUInt32BE(MAGIC_COOKIE, 0);
    const bytes = Buffer.from(v.subarray(4, 20)).map((b, i) => b ^ mask[i]!);
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
    return { address: groups.join(':'), port };
  }
  return undefined;
}

/** REQUESTED-TRANSPORT: UDP (17). */
export const UDP_TRANSPORT = Buffer.from([17, 0, 0, 0]);

export function lifetime(seconds: number): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(seconds, 0);
  return v;
}
