import { isVp8KeyframeStart, vp8DescriptorLength, vp8KeyframeHeaderSize } from '../codec/vp8-payload.js';
import { isVp9KeyframeStart, readVp9Descriptor, Vp9Descriptor } from '../codec/vp9-payload.js';
import { isH264KeyframeStart, type VideoCodecName } from './keyframe.js';

/**
 * The picture size a keyframe announces, read from the first packets of the keyframe without decoding anything:
 * the viewers' quality menu names each simulcast layer by its real height ("720p"). Each reader returns undefined
 * for any packet that does not say.
 */
export interface FrameSize {
  width: number;
  height: number;
}

export type FrameSizeReader = (payload: Buffer) => FrameSize | undefined;

/** The reader for a codec; undefined where the size is not read (AV1, audio). */
export function frameSizeReader(codec: VideoCodecName | 'opus' | 'other'): FrameSizeReader | undefined {
  if (codec === 'vp8') return vp8KeyframeSize;
  if (codec === 'vp9') return vp9KeyframeSize;
  if (codec === 'h264') return h264KeyframeSize;
  return undefined;
}

/**
 * VP8 (RFC 6386 9.1): after the payload descriptor and the 3-byte frame tag of a keyframe's first packet, the start
 * code 9d 01 2a, then 14-bit width and height.
 */
export function vp8KeyframeSize(p: Buffer): FrameSize | undefined {
  if (!isVp8KeyframeStart(p)) return undefined;
  return vp8KeyframeHeaderSize(p, vp8DescriptorLength(p));
}

/** Read into for each VP9 keyframe (no allocation but the size found). */
const vp9 = new Vp9Descriptor();

/**
 * VP9 (RFC 9628 4.2): a keyframe's first packet carries the scalability structure (V=1) with each spatial layer's
 * size (Y=1); the largest (last) layer is the picture's size.
 */
export function vp9KeyframeSize(p: Buffer): FrameSize | undefined {
  if (!isVp9KeyframeStart(p)) return undefined;
  readVp9Descriptor(p, vp9);
  const at = vp9.layerSizesAt;
  if (at < 0 || p.length < at + 4 * vp9.spatialLayers) return undefined;
  const last = at + 4 * (vp9.spatialLayers - 1);
  return { width: p.readUInt16BE(last), height: p.readUInt16BE(last + 2) };
}

/**
 * H.264 (RFC 6184; ITU-T H.264 7.3.2.1.1): the sequence parameter set sent with each keyframe (alone, or in a
 * STAP-A) gives the size in macroblocks and the cropping.
 */
export function h264KeyframeSize(p: Buffer): FrameSize | undefined {
  if (!isH264KeyframeStart(p)) return undefined;
  const type = p[0]! & 0x1f;
  if (type === 7) return spsSize(p.subarray(1));
  if (type === 24) {
    let i = 1;
    while (i + 2 < p.length) {
      const size = p.readUInt16BE(i);
      if ((p[i + 2]! & 0x1f) === 7) return spsSize(p.subarray(i + 3, i + 2 + size));
      i += 2 + size;
    }
  }
  return undefined;
}

/** Profiles whose SPS carries chroma format and bit depths. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Reads the bits of an RBSP (emulation-prevention bytes removed), exp-Golomb codes included. */
class BitReader {
  #bit = 0;
  constructor(readonly bytes: Uint8Array) {}
  u(n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++) {
      const byte = this.bytes[this.#bit >> 3];
      if (byte === undefined) throw new RangeError('past the end of the SPS');
      v = v * 2 + ((byte >> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new RangeError('exp-Golomb code too long');
    return 2 ** zeros - 1 + this.u(zeros);
  }
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }
}

function withoutEmulationPrevention(nal: Buffer): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out.push(b);
  }
  return Uint8Array.from(out);
}

/** The size an SPS payload (after the NAL header byte) describes, or undefined for one that does not parse. */
export function spsSize(sps: Buffer): FrameSize | undefined {
  try {
    const r = new BitReader(withoutEmulationPrevention(sps));
    const profile = r.u(8);
    r.u(16); // constraint flags, level
    r.ue(); // seq_parameter_set_id
    let chroma = 1;
    let separatePlanes = 0;
    if (HIGH_PROFILES.has(profile)) {
      chroma = r.ue();
      if (chroma === 3) separatePlanes = r.u(1);
      r.ue(); // bit_depth_luma_minus8
      r.ue(); // bit_depth_chroma_minus8
      r.u(1); // qpprime_y_zero_transform_bypass_flag
      if (r.u(1)) {
        for (let list = 0; list < (chroma === 3 ? 12 : 8); list++) {
          if (!r.u(1)) continue;
          let last = 8;
          let next = 8;
          for (let j = 0; j < (list < 6 ? 16 : 64); j++) {
            if (next !== 0) next = (last + r.se() + 256) % 256;
            last = next === 0 ? last : next;
          }
        }
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.u(1);
      r.se();
      r.se();
      const cycle = r.ue();
      for (let k = 0; k < cycle; k++) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.u(1); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightUnits = r.ue() + 1;
    const frameMbsOnly = r.u(1);
    if (!frameMbsOnly) r.u(1);
    r.u(1); // direct_8x8_inference_flag
    let crop = [0, 0, 0, 0];
    if (r.u(1)) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
    const chromaArray = separatePlanes ? 0 : chroma;
    const subWidth = chromaArray === 1 || chromaArray === 2 ? 2 : 1;
    const subHeight = chromaArray === 1 ? 2 : 1;
    const cropX = chromaArray === 0 ? 1 : subWidth;
    const cropY = (chromaArray === 0 ? 1 : subHeight) * (2 - frameMbsOnly);
    const width = widthMbs * 16 - cropX * (crop[0]! + crop[1]!);
    const height = (2 - frameMbsOnly) * heightUnits * 16 - cropY * (crop[2]! + crop[3]!);
    return width > 0 && height > 0 ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}
