import { describe, expect, it } from 'vitest';
import { RtpHeader } from 'werift';
import { isVp8KeyframeStart } from '../codec/vp8-payload.js';
import { isVp9KeyframeStart } from '../codec/vp9-payload.js';
import { isH264KeyframeStart } from './keyframe.js';
import { PacketCache } from './packet-cache.js';
import { RtpHeaderWriter } from './rtp-header-writer.js';

describe('keyframe detection', () => {
  it('VP8: start of partition 0 with P=0, with and without the extended descriptor', () => {
    expect(isVp8KeyframeStart(Buffer.from([0x10, 0x00]))).toBe(true);
    expect(isVp8KeyframeStart(Buffer.from([0x10, 0x01]))).toBe(false); // inter frame
    expect(isVp8KeyframeStart(Buffer.from([0x00, 0x00]))).toBe(false); // not the start
    // X=1, I=1 (15-bit picture id), L=1, T=1: four descriptor bytes before the payload header.
    expect(isVp8KeyframeStart(Buffer.from([0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0x00]))).toBe(true);
    expect(isVp8KeyframeStart(Buffer.from([0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0x01]))).toBe(false);
  });

  it('VP9: beginning of a frame that is not inter-predicted', () => {
    expect(isVp9KeyframeStart(Buffer.from([0x08]))).toBe(true);
    expect(isVp9KeyframeStart(Buffer.from([0x48]))).toBe(false);
    expect(isVp9KeyframeStart(Buffer.from([0x00]))).toBe(false);
  });

  it('H.264: IDR and SPS alone, in STAP-A and at the start of FU-A', () => {
    expect(isH264KeyframeStart(Buffer.from([0x65]))).toBe(true);
    expect(isH264KeyframeStart(Buffer.from([0x67]))).toBe(true);
    expect(isH264KeyframeStart(Buffer.from([0x41]))).toBe(false);
    expect(isH264KeyframeStart(Buffer.from([0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68]))).toBe(true);
    expect(isH264KeyframeStart(Buffer.from([0x7c, 0x85]))).toBe(true);
    expect(isH264KeyframeStart(Buffer.from([0x7c, 0x05]))).toBe(false); // FU-A continuation
  });
});

describe('RtpHeaderWriter', () => {
  it('writes a header werift parses back, rewriting only the per-packet fields', () => {
    const w = new RtpHeaderWriter(96, 0xdeadbeef, { mid: { id: 4, value: '1' }, absSendTime: 2 });
    const a = RtpHeader.deSerialize(Buffer.from(w.write(65535, 0xfffffff0, true, 1000).serialize()));
    expect(a).toMatchObject({
      payloadType: 96,
      ssrc: 0xdeadbeef,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      marker: true,
    });
    expect(a.extensions.find((e) => e.id === 4)?.payload.toString()).toBe('1');
    expect(a.extensions.find((e) => e.id === 2)?.payload).toHaveLength(3);
    const b = RtpHeader.deSerialize(Buffer.from(w.write(0, 1, false, 2000).serialize()));
    expect(b).toMatchObject({ payloadType: 96, sequenceNumber: 0, timestamp: 1, marker: false });
    expect(w.serializeSize).toBe(w.serialize().length);
  });

  it('without extensions is the plain 12-byte header', () => {
    const w = new RtpHeaderWriter(111, 7);
    expect(w.write(1, 2, false, 0).serialize()).toHaveLength(12);
  });
});

describe('PacketCache', () => {
  it('answers only for the exact sequence number it holds', () => {
    const cache = new PacketCache(4);
    const p = (sequenceNumber: number) => ({
      sequenceNumber,
      timestamp: 0,
      marker: false,
      payload: Buffer.alloc(0),
      keyframe: false,
      receivedAt: 0,
    });
    for (const s of [1, 2, 3, 4, 5]) cache.put(p(s));
    expect(cache.get(5)?.sequenceNumber).toBe(5);
    expect(cache.get(1)).toBeUndefined(); // overwritten by 5
    expect(cache.get(9)).toBeUndefined();
  });
});
