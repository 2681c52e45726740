import { describe, expect, it } from 'vitest';
import { isVp9KeyframeStart, readVp9Descriptor, Vp9Descriptor, vp9BeginsFrame } from './vp9-payload.js';

const read = (bytes: number[]) => {
  const d = new Vp9Descriptor();
  readVp9Descriptor(Buffer.from(bytes), d);
  return d;
};

describe('the VP9 payload descriptor', () => {
  it('reads a 7-bit and a 15-bit picture id', () => {
    // I=1, B=1, E=1; M=0, picture id 0x2a; then payload.
    const short = read([0x8c, 0x2a, 0xff]);
    expect(short).toMatchObject({ length: 2, pictureId: 0x2a, pictureIdBits: 7, beginsFrame: true, endsFrame: true });
    // I=1; M=1, picture id 0x1234.
    const long = read([0x80, 0x80 | 0x12, 0x34, 0xff]);
    expect(long).toMatchObject({ length: 3, pictureId: 0x1234, pictureIdBits: 15, beginsFrame: false });
    expect(read([0x08, 0xff])).toMatchObject({ length: 1, pictureId: -1, pictureIdBits: 0 });
  });

  it('non-flexible mode: layer indices and TL0PICIDX', () => {
    // I=1 (7-bit), L=1, F=0, P=1, B=1; TID=2 U=1 SID=1 D=1; TL0PICIDX=9.
    const d = read([0xe8, 0x05, (2 << 5) | 0x10 | (1 << 1) | 1, 9, 0xff]);
    expect(d).toMatchObject({
      length: 4,
      flexible: false,
      interPredicted: true,
      temporalId: 2,
      switchingUp: true,
      spatialId: 1,
      interLayerDependent: true,
      tl0PicIdx: 9,
      references: 0,
    });
  });

  it('flexible mode: layer indices without TL0PICIDX, then up to three reference indices', () => {
    // I=1 (7-bit), P=1, L=1, F=1, E=1; TID=1 SID=0; P_DIFF 1 (N=1), 2 (N=1), 3 (N=0).
    const d = read([0xf4, 0x05, 1 << 5, (1 << 1) | 1, (2 << 1) | 1, 3 << 1, 0xff]);
    expect(d).toMatchObject({
      length: 6,
      flexible: true,
      temporalId: 1,
      spatialId: 0,
      tl0PicIdx: -1,
      references: 3,
      endsFrame: true,
      beginsFrame: false,
    });
    // A single reference (N=0).
    expect(read([0x70, 1 << 5, 1 << 1, 0xff])).toMatchObject({ length: 3, references: 1 });
  });

  it('the scalability structure: where the sizes are and the picture group skipped', () => {
    // B=1, V=1; SS: N_S=1 (two layers), Y=1, G=1; 320x180, 640x360; one group of one reference.
    const p = [0x0a, 0x38, 0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01, 0x68, 0x01, 0x04, 0x01, 0xff];
    expect(read(p)).toMatchObject({ length: 13, scalabilityAt: 1, spatialLayers: 2, layerSizesAt: 2 });
    // Y=0: no sizes.
    expect(read([0x0a, 0x00, 0xff])).toMatchObject({ length: 2, spatialLayers: 1, layerSizesAt: -1 });
  });

  it('start and end of frame, keyframe start', () => {
    expect(read([0x08]).beginsKeyframe).toBe(true);
    expect(read([0x48]).beginsKeyframe).toBe(false); // inter-predicted
    expect(read([0x04]).beginsKeyframe).toBe(false); // end, not beginning
    expect(isVp9KeyframeStart(Buffer.from([0x08]))).toBe(true);
    expect(isVp9KeyframeStart(Buffer.from([0x4c]))).toBe(false);
    expect(isVp9KeyframeStart(Buffer.alloc(0))).toBe(false);
    expect(vp9BeginsFrame(Buffer.from([0x48]))).toBe(true);
    expect(vp9BeginsFrame(Buffer.from([0x04]))).toBe(false);
    expect(vp9BeginsFrame(Buffer.alloc(0))).toBe(false);
  });

  it('-1 for a truncated descriptor; one object reused, nothing left from the previous packet', () => {
    const d = new Vp9Descriptor();
    expect(readVp9Descriptor(Buffer.alloc(0), d)).toBe(-1);
    expect(readVp9Descriptor(Buffer.from([0x80]), d)).toBe(-1); // picture id missing
    expect(readVp9Descriptor(Buffer.from([0x80, 0x80]), d)).toBe(-1); // second byte of a 15-bit id missing
    expect(readVp9Descriptor(Buffer.from([0x20, 0x00]), d)).toBe(-1); // TL0PICIDX missing
    expect(readVp9Descriptor(Buffer.from([0x0a, 0x10, 0x01]), d)).toBe(-1); // layer size cut short
    expect(readVp9Descriptor(Buffer.from([0xe8, 0x05, 0x40, 9]), d)).toBe(4);
    expect(readVp9Descriptor(Buffer.from([0x08, 0xff]), d)).toBe(1);
    expect(d).toMatchObject({ length: 1, pictureId: -1, temporalId: -1, tl0PicIdx: -1, interPredicted: false });
  });
});
