import { describe, expect, it } from 'vitest';
import { isVp8KeyframeStart, vp8BeginsFrame, vp8DescriptorLength, vp8KeyframeHeaderSize } from './vp8-payload.js';

describe('the VP8 payload descriptor', () => {
  it('is one byte without the extension, more with each optional field', () => {
    expect(vp8DescriptorLength(Buffer.from([0x10, 0x00]))).toBe(1);
    expect(vp8DescriptorLength(Buffer.from([0x90, 0x00, 0x00]))).toBe(2); // X, no fields
    expect(vp8DescriptorLength(Buffer.from([0x90, 0x80, 0x05, 0x00]))).toBe(3); // 7-bit picture id
    expect(vp8DescriptorLength(Buffer.from([0x90, 0x80, 0x81, 0x05, 0x00]))).toBe(4); // 15-bit picture id
    expect(vp8DescriptorLength(Buffer.from([0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0x00]))).toBe(6); // I, L, T
    expect(vp8DescriptorLength(Buffer.from([0x90, 0x10, 0x20]))).toBe(3); // K alone
  });

  it('-1 for a packet too short for its descriptor', () => {
    expect(vp8DescriptorLength(Buffer.alloc(0))).toBe(-1);
    expect(vp8DescriptorLength(Buffer.from([0x90]))).toBe(-1);
    expect(vp8DescriptorLength(Buffer.from([0x90, 0x80]))).toBe(-1);
    expect(vp8DescriptorLength(Buffer.from([0x90, 0xc0, 0x81]))).toBe(-1);
  });

  it('a frame begins at the start of partition 0; a keyframe where its payload header says P=0', () => {
    expect(vp8BeginsFrame(Buffer.from([0x10]))).toBe(true);
    expect(vp8BeginsFrame(Buffer.from([0x11]))).toBe(false); // partition 1
    expect(vp8BeginsFrame(Buffer.from([0x00]))).toBe(false);
    expect(vp8BeginsFrame(Buffer.alloc(0))).toBe(false);
    expect(isVp8KeyframeStart(Buffer.from([0x90, 0x80, 0x81, 0x05, 0x00]))).toBe(true);
    expect(isVp8KeyframeStart(Buffer.from([0x90, 0x80, 0x81, 0x05, 0x01]))).toBe(false);
    expect(isVp8KeyframeStart(Buffer.from([0x90, 0x80, 0x81, 0x05]))).toBe(false); // no payload header
  });

  it("reads the size in a keyframe's header, at an offset", () => {
    const frame = Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0xc1]);
    expect(vp8KeyframeHeaderSize(frame)).toEqual({ width: 640, height: 360 });
    expect(vp8KeyframeHeaderSize(Buffer.concat([Buffer.from([0x10]), frame]), 1)).toEqual({ width: 640, height: 360 });
    expect(vp8KeyframeHeaderSize(frame.subarray(0, 9))).toBeUndefined();
    const wrong = Buffer.from(frame);
    wrong[3] = 0;
    expect(vp8KeyframeHeaderSize(wrong)).toBeUndefined();
  });
});
