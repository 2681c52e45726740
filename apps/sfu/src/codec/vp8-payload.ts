/**
 * The VP8 RTP payload format (RFC 7741): the payload descriptor before the VP8 payload header in every packet, and
 * the size a keyframe's header announces. Read per packet on the fan-out path, so nothing here allocates but the size
 * (read once per keyframe).
 */

/** Length of the descriptor, or -1 for a packet too short to hold the one its first bytes announce. */
export function vp8DescriptorLength(p: Buffer): number {
  if (p.length < 1) return -1;
  let i = 1;
  if (p[0]! & 0x80) {
    // X: the extension byte says which optional fields follow.
    if (p.length < 2) return -1;
    const x = p[1]!;
    i = 2;
    if (x & 0x80) {
      // I: PictureID, 7 or 15 bits (M).
      if (p.length <= i) return -1;
      i += p[i]! & 0x80 ? 2 : 1;
    }
    if (x & 0x40) i += 1; // L: TL0PICIDX
    if (x & 0x30) i += 1; // T or K: TID/Y/KEYIDX
  }
  return i <= p.length ? i : -1;
}

/** Whether a packet begins a frame: the start (S=1) of partition 0 (PID=0). */
export function vp8BeginsFrame(p: Buffer): boolean {
  return p.length >= 1 && (p[0]! & 0x10) !== 0 && (p[0]! & 0x07) === 0;
}

/** The first packet of a keyframe: it begins a frame and its payload header says P=0. */
export function isVp8KeyframeStart(p: Buffer): boolean {
  if (!vp8BeginsFrame(p)) return false;
  const i = vp8DescriptorLength(p);
  if (i < 0 || p.length <= i) return false;
  return (p[i]! & 0x01) === 0; // P bit of the VP8 payload header: 0 = keyframe
}

/**
 * The picture size in a keyframe's header (RFC 6386 §9.1) starting at `at` (the frame's first byte): after the 3-byte
 * frame tag, the start code 9d 01 2a, then 14-bit width and height (the top two bits are scaling).
 */
export function vp8KeyframeHeaderSize(frame: Buffer, at = 0): { width: number; height: number } | undefined {
  if (frame.length < at + 10 || frame[at + 3] !== 0x9d || frame[at + 4] !== 0x01 || frame[at + 5] !== 0x2a) {
    return undefined;
  }
  return { width: frame.readUInt16LE(at + 6) & 0x3fff, height: frame.readUInt16LE(at + 8) & 0x3fff };
}
