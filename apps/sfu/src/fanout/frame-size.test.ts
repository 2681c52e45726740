import { describe, expect, it } from 'vitest';
import { isVp8KeyframeStart } from '../codec/vp8-payload.js';
import { frameSizeReader, h264KeyframeSize, spsSize, vp8KeyframeSize, vp9KeyframeSize } from './frame-size.js';

/** A VP8 RTP payload: descriptor (X=1, S=1, PID=0, a 15-bit picture id) and a frame's first bytes. */
function vp8Payload(o: { keyframe: boolean; width: number; height: number }): Buffer {
  const descriptor = [0x90, 0x80, 0x80 | 0x12, 0x34];
  const tag = [o.keyframe ? 0x10 : 0x11, 0x02, 0x00];
  const size = Buffer.alloc(4);
  size.writeUInt16LE(o.width, 0);
  size.writeUInt16LE(o.height, 2);
  return Buffer.concat([Buffer.from(descriptor), Buffer.from(tag), Buffer.from([0x9d, 0x01, 0x2a]), size]);
}

describe('VP8 keyframes', () => {
  it('reads the picture size a keyframe announces', () => {
    const key = vp8Payload({ keyframe: true, width: 1280, height: 720 });
    expect(isVp8KeyframeStart(key)).toBe(true);
    expect(vp8KeyframeSize(key)).toEqual({ width: 1280, height: 720 });
  });

  it('reads nothing from other frames, truncated packets or a wrong start code', () => {
    expect(vp8KeyframeSize(vp8Payload({ keyframe: false, width: 640, height: 360 }))).toBeUndefined();
    expect(vp8KeyframeSize(vp8Payload({ keyframe: true, width: 640, height: 360 }).subarray(0, 10))).toBeUndefined();
    const wrong = vp8Payload({ keyframe: true, width: 640, height: 360 });
    wrong[7] = 0x00;
    expect(vp8KeyframeSize(wrong)).toBeUndefined();
  });

  it('ignores the scaling bits above the 14-bit size', () => {
    expect(vp8KeyframeSize(vp8Payload({ keyframe: true, width: 0x4000 | 640, height: 0xc000 | 480 }))).toEqual({
      width: 640,
      height: 480,
    });
  });
});

/**
 * First packets of real keyframes, captured from GStreamer's encoders and payloaders (Debian's gstreamer1.0-plugins-
 * good and -bad: vp9enc + rtpvp9pay, openh264enc + rtph264pay), RTP header removed.
 */
const fixtures = {
  /** 640x360, no picture id: I=0, B=1, V=1; SS with N_S=0, Y=1, G=1. */
  vp9At360: '0a1802800168010401b124c1a148013f80b3b081c1',
  /** 1280x720 with a 15-bit picture id (I=1, M=1), as browsers send. */
  vp9At720: '8acc0518050002d0010401b124c1a150027f8167b041',
  /** The next packet of that frame (B=0): says nothing. */
  vp9Continuation: '80cc055fc56865c722f24995e4123b66c0071c27',
  /** STAP-A with SPS and PPS of a 1280x720 stream (constrained baseline). */
  h264StapAt720: '78000f6742c01f8c8d402802dd00f08846a0000468ce3c80',
  /** SPS alone, 640x360: 23 macroblock rows cropped by 8 lines. */
  h264SpsAt360: '6742c01e8c8d405017fcb00f08846a',
  /** SPS alone, 1920x1080: 68 macroblock rows cropped by 8 lines. */
  h264SpsAt1080: '6742c0288c8d403c0113f2c03c2211a8',
  /** FU-A start of an IDR slice: a keyframe, but not the packet with the size. */
  h264IdrFragment: '7c85b800040000053ffffe1e8a00053c9b9393',
};
const hex = (h: string) => Buffer.from(h, 'hex');

describe('VP9 keyframes', () => {
  it('reads the size from the scalability structure, with or without a picture id', () => {
    expect(vp9KeyframeSize(hex(fixtures.vp9At360))).toEqual({ width: 640, height: 360 });
    expect(vp9KeyframeSize(hex(fixtures.vp9At720))).toEqual({ width: 1280, height: 720 });
    expect(frameSizeReader('vp9')?.(hex(fixtures.vp9At720))).toEqual({ width: 1280, height: 720 });
  });

  it('reads the largest spatial layer of several', () => {
    // B=1, V=1; SS: N_S=1 (two layers), Y=1; 320x180 then 640x360.
    const p = Buffer.from([0x0a, 0x30, 0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01, 0x68]);
    expect(vp9KeyframeSize(p)).toEqual({ width: 640, height: 360 });
  });

  it('reads nothing from a continuation, an inter frame, a packet without sizes or a truncated one', () => {
    expect(vp9KeyframeSize(hex(fixtures.vp9Continuation))).toBeUndefined();
    const inter = hex(fixtures.vp9At360);
    inter[0] = inter[0]! | 0x40;
    expect(vp9KeyframeSize(inter)).toBeUndefined();
    const noSizes = hex(fixtures.vp9At360);
    noSizes[1] = 0x08;
    expect(vp9KeyframeSize(noSizes)).toBeUndefined();
    expect(vp9KeyframeSize(hex(fixtures.vp9At720).subarray(0, 6))).toBeUndefined();
  });
});

describe('H.264 keyframes', () => {
  it('reads the size from the SPS, alone or in a STAP-A, with the cropping applied', () => {
    expect(h264KeyframeSize(hex(fixtures.h264StapAt720))).toEqual({ width: 1280, height: 720 });
    expect(h264KeyframeSize(hex(fixtures.h264SpsAt360))).toEqual({ width: 640, height: 360 });
    expect(h264KeyframeSize(hex(fixtures.h264SpsAt1080))).toEqual({ width: 1920, height: 1080 });
    expect(frameSizeReader('h264')?.(hex(fixtures.h264SpsAt360))).toEqual({ width: 640, height: 360 });
  });

  it('reads nothing from an IDR fragment or a truncated SPS, and never throws on garbage', () => {
    expect(h264KeyframeSize(hex(fixtures.h264IdrFragment))).toBeUndefined();
    expect(spsSize(hex(fixtures.h264SpsAt1080).subarray(1, 6))).toBeUndefined();
    for (let n = 0; n < 200; n++) {
      const junk = Buffer.from(Array.from({ length: (n % 24) + 1 }, (_, k) => (n * 31 + k * 17) & 0xff));
      expect(() => spsSize(junk)).not.toThrow();
    }
  });

  it('no reader for codecs whose size is not read', () => {
    expect(frameSizeReader('av1')).toBeUndefined();
    expect(frameSizeReader('opus')).toBeUndefined();
  });
});
