/**
 * The messages of a relay, inside its sealed datagrams (see RelayCipher). Media carries the origin's sequence numbers
 * and timestamps untouched, so an edge's cache, NACKs and keyframe detection work as on the origin.
 *
 * - `media` (origin → edge): `[1][track][layer][flags: 1 marker, 2 retransmission][seq u16][timestamp u32][payload]`
 * - `nack` (edge → origin): `[2][track][layer][n][seq u16 × n]`
 * - `pli` (edge → origin): `[3][track][layer]`
 * - `state` (origin → edge, every second and on change): `[4][JSON { layers: [track, layer, rid][], viewers }]`,
 *   `viewers` being the room's audience outside this edge
 * - `alive` (edge → origin, every second and on change): `[5][viewers u32]`, the edge's own viewers
 * - `bye` (either side, on close): `[6][reason, UTF-8]`
 */
export const RelayMessage = { media: 1, nack: 2, pli: 3, state: 4, alive: 5, bye: 6 } as const;

export const MEDIA_HEADER = 10;
/** The most sequence numbers one nack message carries. */
export const MAX_NACKS = 64;

export interface RelayState {
  layers: [track: number, layer: number, rid: string][];
  viewers: number;
}

export function encodeMedia(
  track: number,
  layer: number,
  seq: number,
  timestamp: number,
  marker: boolean,
  retransmission: boolean,
  payload: Buffer,
): Buffer {
  const out = Buffer.allocUnsafe(MEDIA_HEADER + payload.length);
  out[0] = RelayMessage.media;
  out[1] = track;
  out[2] = layer;
  out[3] = (marker ? 1 : 0) | (retransmission ? 2 : 0);
  out.writeUInt16BE(seq, 4);
  out.writeUInt32BE(timestamp, 6);
  payload.copy(out, MEDIA_HEADER);
  return out;
}

export function encodeNack(track: number, layer: number, seqs: readonly number[]): Buffer {
  const n = Math.min(seqs.length, MAX_NACKS);
  const out = Buffer.allocUnsafe(4 + 2 * n);
  out[0] = RelayMessage.nack;
  out[1] = track;
  out[2] = layer;
  out[3] = n;
  for (let i = 0; i < n; i++) out.writeUInt16BE(seqs[i]!, 4 + 2 * i);
  return out;
}

export function decodeNack(m: Buffer): number[] {
  const n = Math.min(m[3] ?? 0, (m.length - 4) >> 1);
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push(m.readUInt16BE(4 + 2 * i));
  return seqs;
}

export const encodePli = (track: number, layer: number): Buffer => Buffer.from([RelayMessage.pli, track, layer]);

export const encodeState = (state: RelayState): Buffer =>
  Buffer.concat([Buffer.from([RelayMessage.state]), Buffer.from(JSON.stringify(state))]);

/** A state message, or undefined when it is not one we understand (a bad message is dropped, never thrown). */
export function decodeState(m: Buffer): RelayState | undefined {
  try {
    const v = JSON.parse(m.subarray(1).toString('utf8')) as RelayState;
    const ok =
      Array.isArray(v.layers) &&
      v.layers.length <= 64 &&
      v.layers.every(
        (l) =>
          Array.isArray(l) &&
          Number.isInteger(l[0]) &&
          Number.isInteger(l[1]) &&
          typeof l[2] === 'string' &&
          l[2].length <= 32,
      ) &&
      Number.isInteger(v.viewers) &&
      v.viewers >= 0;
    return ok ? v : undefined;
  } catch {
    return undefined;
  }
}

export function encodeAlive(viewers: number): Buffer {
  const out = Buffer.allocUnsafe(5);
  out[0] = RelayMessage.alive;
  out.writeUInt32BE(Math.min(viewers, 0xffffffff), 1);
  return out;
}

export const encodeBye = (reason: string): Buffer =>
  Buffer.concat([Buffer.from([RelayMessage.bye]), Buffer.from(reason.slice(0, 64))]);
