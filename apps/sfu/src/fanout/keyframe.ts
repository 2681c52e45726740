/**
 * Whether an RTP payload starts a keyframe, per codec. The SFU only needs this to start a new
 * subscriber (or a simulcast layer switch) on a picture the decoder can use; it never decodes.
 */
export type VideoCodecName = 'vp8' | 'vp9' | 'h264' | 'av1';

export function codecNameOf(mimeType: string): VideoCodecName | 'opus' | 'other' {
  const name = mimeType.toLowerCase().split('/')[1] ?? '';
  if (name === 'vp8' || name === 'vp9' || name === 'h264' || name === 'av1' || name === 'opus') return name;
  return 'other';
}

/** RFC 7741: the first packet of a VP8 keyframe (S=1, PID=0, and P=0 in the payload header). */
export function isVp8KeyframeStart(p: Buffer): boolean {
  if (p.length < 1) return false;
  const b0 = p[0]!;
  const start = (b0 & 0x10) !== 0;
  const pid = b0 & 0x07;
  if (!start || pid !== 0) return false;
  let i = 1;
  if (b0 & 0x80) {
    if (p.length < 2) return false;
    const x = p[1]!;
    i = 2;
    if (x & 0x80) {
      // PictureID: 7 or 15 bits
      if (p.length <= i) return false;
      i += p[i]! & 0x80 ? 2 : 1;
    }
    if (x & 0x40) i += 1; // TL0PICIDX
    if (x & 0x30) i += 1; // TID/Y/KEYIDX
  }
  if (p.length <= i) return false;
  return (p[i]! & 0x01) === 0; // P bit of the VP8 payload header: 0 = keyframe
}

/** RFC 9628 (VP9): beginning of a frame (B=1) that is not inter-picture predicted (P=0). */
export function isVp9KeyframeStart(p: Buffer): boolean {
  if (p.length < 1) return false;
  const b0 = p[0]!;
  const interPredicted = (b0 & 0x40) !== 0;
  const begin = (b0 & 0x08) !== 0;
  return begin && !interPredicted;
}

/** RFC 6184 (H.264): an IDR slice or SPS, alone, aggregated (STAP-A) or at the start of a fragment (FU-A). */
export function isH264KeyframeStart(p: Buffer): boolean {
  if (p.length < 1) return false;
  const type = p[0]! & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 24) {
    // STAP-A: [hdr][size16][nal]...
    let i = 1;
    while (i + 2 < p.length) {
      const size = p.readUInt16BE(i);
      const nalType = p[i + 2]! & 0x1f;
      if (nalType === 5 || nalType === 7) return true;
      i += 2 + size;
    }
    return false;
  }
  if (type === 28 && p.length >= 2) {
    // FU-A: start bit and the fragmented NAL's type
    const fu = p[1]!;
    return (fu & 0x80) !== 0 && ((fu & 0x1f) === 5 || (fu & 0x1f) === 7);
  }
  return false;
}

/** AV1 (RTP payload spec): N bit set in the aggregation header = first packet of a coded video sequence. */
export function isAv1KeyframeStart(p: Buffer): boolean {
  return p.length >= 1 && (p[0]! & 0x08) !== 0;
}

export function keyframeDetector(codec: VideoCodecName | 'opus' | 'other'): (payload: Buffer) => boolean {
  switch (codec) {
    case 'vp8':
      return isVp8KeyframeStart;
    case 'vp9':
      return isVp9KeyframeStart;
    case 'h264':
      return isH264KeyframeStart;
    case 'av1':
      return isAv1KeyframeStart;
    default:
      // Audio (and codecs the SFU cannot look into): every packet is a fine place to start.
      return () => true;
  }
}
