import { isVp8KeyframeStart } from '../codec/vp8-payload.js';
import { isVp9KeyframeStart } from '../codec/vp9-payload.js';

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
