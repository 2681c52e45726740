import { describe, expect, it } from 'vitest';
import { isVp8KeyframeStart, vp8KeyframeSize } from './keyframe.js';

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
