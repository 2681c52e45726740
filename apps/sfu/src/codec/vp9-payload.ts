/**
 * The VP9 RTP payload descriptor (RFC 9628 §4.2), read into a reusable object: the fan-out path and the recorder
 * read it per packet, so reading allocates nothing.
 *
 *   byte 0: I P L F B E V Z
 *   I: picture id (7 bits, or 15 when its first bit M is set)
 *   L: layer indices TID U SID D, and in non-flexible mode (F=0) TL0PICIDX
 *   F and P: up to three reference indices (P_DIFF, N = another follows)
 *   V: scalability structure N_S Y G, each spatial layer's size (Y), the picture group (G)
 */
export class Vp9Descriptor {
  /** Bytes the descriptor takes at the start of the payload; -1 for a packet too short for it. */
  length = -1;
  /** I: the picture id, or -1. */
  pictureId = -1;
  /** 7 or 15 (M), 0 without a picture id. */
  pictureIdBits: 0 | 7 | 15 = 0;
  /** P: the picture is inter-picture predicted. */
  interPredicted = false;
  /** F: flexible mode (references in each packet) rather than a picture group in the scalability structure. */
  flexible = false;
  /** B: the first packet of a frame. */
  beginsFrame = false;
  /** E: the last packet of a frame. */
  endsFrame = false;
  /** L: temporal and spatial layer, or -1 without layer indices. */
  temporalId = -1;
  spatialId = -1;
  /** U: a switching-up point. */
  switchingUp = false;
  /** D: depends on the spatial layer below. */
  interLayerDependent = false;
  /** TL0PICIDX (non-flexible mode with layer indices), or -1. */
  tl0PicIdx = -1;
  /** F and P: how many reference indices follow. */
  references = 0;
  /** V: where the scalability structure starts, or -1. */
  scalabilityAt = -1;
  /** N_S + 1 with a scalability structure, else 0. */
  spatialLayers = 0;
  /** Y: where the spatial layers' sizes (16-bit width, height each) start, or -1. */
  layerSizesAt = -1;

  /** B=1 and P=0: a picture a decoder can start on. */
  get beginsKeyframe(): boolean {
    return this.beginsFrame && !this.interPredicted;
  }
}

/** Reads the descriptor at the start of `p` into `d`; returns its length (-1 for a truncated packet). */
export function readVp9Descriptor(p: Buffer, d: Vp9Descriptor): number {
  d.pictureId = -1;
  d.pictureIdBits = 0;
  d.temporalId = -1;
  d.spatialId = -1;
  d.switchingUp = false;
  d.interLayerDependent = false;
  d.tl0PicIdx = -1;
  d.references = 0;
  d.scalabilityAt = -1;
  d.spatialLayers = 0;
  d.layerSizesAt = -1;
  if (p.length < 1) {
    d.interPredicted = false;
    d.flexible = false;
    d.beginsFrame = false;
    d.endsFrame = false;
    d.length = -1;
    return -1;
  }
  const b0 = p[0]!;
  d.interPredicted = (b0 & 0x40) !== 0;
  d.flexible = (b0 & 0x10) !== 0;
  d.beginsFrame = (b0 & 0x08) !== 0;
  d.endsFrame = (b0 & 0x04) !== 0;
  let i = 1;
  if (b0 & 0x80) {
    const m = p[i] ?? 0;
    if (m & 0x80) {
      d.pictureId = ((m & 0x7f) << 8) | (p[i + 1] ?? 0);
      d.pictureIdBits = 15;
      i += 2;
    } else {
      d.pictureId = m;
      d.pictureIdBits = 7;
      i += 1;
    }
  }
  if (b0 & 0x20) {
    const layer = p[i] ?? 0;
    d.temporalId = layer >> 5;
    d.switchingUp = (layer & 0x10) !== 0;
    d.spatialId = (layer >> 1) & 0x07;
    d.interLayerDependent = (layer & 0x01) !== 0;
    if (d.flexible) i += 1;
    else {
      d.tl0PicIdx = p[i + 1] ?? 0;
      i += 2;
    }
  }
  if (d.flexible && d.interPredicted) {
    for (let n = 0; n < 3 && i < p.length; n++) {
      const more = p[i]! & 0x01;
      d.references++;
      i++;
      if (!more) break;
    }
  }
  if (b0 & 0x02 && i < p.length) {
    d.scalabilityAt = i;
    const ss = p[i]!;
    i++;
    d.spatialLayers = (ss >> 5) + 1;
    if (ss & 0x10) {
      d.layerSizesAt = i;
      i += 4 * d.spatialLayers;
    }
    if (ss & 0x08) {
      const groups = p[i] ?? 0;
      i++;
      for (let g = 0; g < groups && i < p.length; g++) {
        const refs = (p[i]! >> 2) & 0x03;
        i += 1 + refs;
      }
    }
  }
  d.length = i <= p.length ? i : -1;
  return d.length;
}

/** Whether a packet begins a frame (B=1): the first byte alone, for the per-packet checks. */
export function vp9BeginsFrame(p: Buffer): boolean {
  return p.length >= 1 && (p[0]! & 0x08) !== 0;
}

/** Beginning of a frame (B=1) that is not inter-picture predicted (P=0), from the first byte alone. */
export function isVp9KeyframeStart(p: Buffer): boolean {
  return p.length >= 1 && (p[0]! & 0x48) === 0x08;
}
