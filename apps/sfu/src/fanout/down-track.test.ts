import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RoomMetrics } from '../metrics.js';
import { DownTrack } from './down-track.js';
import type { Layer } from './layer.js';
import type { MediaPacket } from './packet-cache.js';
import type { PublishedTrack } from './published-track.js';
import type { RtpHeaderWriter } from './rtp-header-writer.js';

/** What went out: the rewritten sequence number and timestamp of each packet, and its payload. */
const sent: { seq: number; ts: number; payload: string }[] = [];
vi.mock('./transport-send.js', () => ({
  sendRtp: (_dtls: unknown, payload: Buffer, header: RtpHeaderWriter) => {
    const h = header.serialize();
    sent.push({ seq: h.readUInt16BE(2), ts: h.readUInt32BE(4), payload: payload.toString() });
    return 100;
  },
}));

/** Layer's membership (the down-track joins and leaves through it) over a set, with a settable bitrate. */
interface FakeLayer {
  rid: string;
  meter: { bps: number };
  cache: Map<number, MediaPacket>;
  add(sink: unknown): void;
  remove(sink: unknown): void;
  feeds(sink: unknown): boolean;
}

const layerOf = (rid: string, bps: number): FakeLayer => {
  const sinks = new Set<unknown>();
  return {
    rid,
    meter: { bps },
    cache: new Map(),
    add: (sink) => void sinks.add(sink),
    remove: (sink) => void sinks.delete(sink),
    feeds: (sink) => sinks.has(sink),
  };
};

function setup(layers: FakeLayer[]) {
  const keyframesAsked: string[] = [];
  const nack: { listener?: (n: { lost: number[] }) => void } = {};
  const subscription = { unSubscribe: () => undefined };
  const sender = {
    codec: { payloadType: 96 },
    dtlsTransport: {},
    ssrc: 1111,
    rtxSsrc: 2222,
    headerExtensions: [],
    mid: '0',
    receiverEstimatedMaxBitrate: 0n,
    onGenericNack: {
      subscribe: (l: (n: { lost: number[] }) => void) => {
        nack.listener = l;
        return subscription;
      },
    },
    onPictureLossIndication: { subscribe: () => subscription },
    onRtcp: { subscribe: () => subscription },
  };
  const track = {
    kind: 'video',
    codec: { clockRate: 90_000 },
    get layers() {
      // Best first, as PublishedTrack sorts them.
      return [...layers].sort((a, b) => b.meter.bps - a.meter.bps);
    },
    layer: (rid: string) => layers.find((l) => l.rid === rid),
    attach: () => undefined,
    detach: () => undefined,
    requestKeyframe: (rid: string) => keyframesAsked.push(rid),
    missing: () => undefined,
  } as unknown as PublishedTrack;
  const metrics = {
    dropped: () => undefined,
    sent: () => undefined,
    nack: () => undefined,
    retransmitted: () => undefined,
  };
  const logger = { debug: () => undefined };
  const dt = new DownTrack({
    track,
    transceiver: { sender } as never,
    metrics: metrics as unknown as RoomMetrics,
    logger: logger as never,
  });
  const changes: (string | null)[] = [];
  dt.on('layer', (rid) => void changes.push(rid));
  dt.start();
  const write = (layer: FakeLayer, p: Omit<MediaPacket, 'payload' | 'marker'> & { payload?: string }) => {
    const packet: MediaPacket = {
      marker: false,
      ...p,
      payload: Buffer.from(p.payload ?? `${layer.rid}${p.sequenceNumber}`),
    };
    layer.cache.set(packet.sequenceNumber, packet);
    dt.write(layer as unknown as Layer, packet);
  };
  const estimate = (bps: number) => {
    sender.receiverEstimatedMaxBitrate = BigInt(bps);
    dt.pick();
  };
  return { dt, write, estimate, keyframesAsked, changes, nack: (lost: number[]) => nack.listener!({ lost }) };
}

beforeEach(() => {
  sent.length = 0;
});

describe('DownTrack sequence and timestamp offsets', () => {
  it('keeps both continuous across a layer switch, starting the new layer on its keyframe', () => {
    const h = layerOf('h', 2_000_000);
    const l = layerOf('l', 300_000);
    const { dt, write, changes, nack } = setup([h, l]);
    expect(dt.layer).toBeNull();
    // Before a keyframe nothing goes out.
    write(h, { sequenceNumber: 999, timestamp: 87_000, keyframe: false, receivedAt: -33 });
    expect(sent).toEqual([]);
    write(h, { sequenceNumber: 1000, timestamp: 90_000, keyframe: true, receivedAt: 0 });
    write(h, { sequenceNumber: 1001, timestamp: 93_000, keyframe: false, receivedAt: 33 });
    dt.pin('l');
    // Still on h until l brings a keyframe; l's inter frames are not forwarded.
    write(h, { sequenceNumber: 1002, timestamp: 96_000, keyframe: false, receivedAt: 66 });
    write(l, { sequenceNumber: 49, timestamp: 2_000, keyframe: false, receivedAt: 80 });
    write(l, { sequenceNumber: 50, timestamp: 5_000, keyframe: true, receivedAt: 100 });
    write(l, { sequenceNumber: 51, timestamp: 8_000, keyframe: false, receivedAt: 133 });
    // h no longer feeds this subscriber.
    write(h, { sequenceNumber: 1003, timestamp: 99_000, keyframe: false, receivedAt: 100 });
    expect(sent.map((s) => s.payload)).toEqual(['h1000', 'h1001', 'h1002', 'l50', 'l51']);
    expect(sent.map((s) => s.seq)).toEqual([1000, 1001, 1002, 1003, 1004]);
    // The switch keyframe lands one frame's wall-clock time after the last packet sent: 34 ms at 90 kHz.
    expect(sent.map((s) => s.ts)).toEqual([90_000, 93_000, 96_000, 96_000 + 3060, 96_000 + 3060 + 3000]);
    expect(changes).toEqual(['h', 'l']);
    expect(dt.layer).toBe('l');
    expect(h.feeds(dt)).toBe(false);
    expect(l.feeds(dt)).toBe(true);
    // A NACK in the subscriber's numbering is answered from the new layer's cache, renumbered.
    sent.length = 0;
    nack([1003]);
    expect(sent).toEqual([{ seq: 1003, ts: 96_000 + 3060, payload: 'l50' }]);
  });

  it('wraps sequence numbers and timestamps around their 16 and 32 bits', () => {
    const h = layerOf('h', 2_000_000);
    const l = layerOf('l', 300_000);
    const { dt, write } = setup([h, l]);
    write(h, { sequenceNumber: 65_535, timestamp: 0xffff_ff00, keyframe: true, receivedAt: 0 });
    dt.pin('l');
    write(l, { sequenceNumber: 7, timestamp: 10, keyframe: true, receivedAt: 10 });
    write(l, { sequenceNumber: 8, timestamp: 3010, keyframe: false, receivedAt: 43 });
    expect(sent.map((s) => s.seq)).toEqual([65_535, 0, 1]);
    expect(sent.map((s) => s.ts)).toEqual([0xffff_ff00, (0xffff_ff00 + 900) >>> 0, (0xffff_ff00 + 900 + 3000) >>> 0]);
  });
});

describe('DownTrack layer choice from the REMB estimate', () => {
  it('takes the best layer the estimate allows, with headroom to go up and none to stay', () => {
    const h = layerOf('h', 2_000_000);
    const m = layerOf('m', 800_000);
    const l = layerOf('l', 200_000);
    const { dt, write, estimate, keyframesAsked } = setup([l, h, m]);
    // No estimate yet: the best layer.
    expect(keyframesAsked).toEqual(['h']);
    // 1 Mbit/s: m fits with 20 % headroom (960 kbit/s), h does not.
    estimate(1_000_000);
    expect(keyframesAsked.at(-1)).toBe('m');
    write(m, { sequenceNumber: 1, timestamp: 0, keyframe: true, receivedAt: 0 });
    expect(dt.layer).toBe('m');
    // Down to 850 kbit/s: the current layer needs no headroom to stay.
    const asked = keyframesAsked.length;
    estimate(850_000);
    expect(keyframesAsked).toHaveLength(asked);
    expect(m.feeds(dt)).toBe(true);
    // 700 kbit/s: m no longer fits; l does.
    estimate(700_000);
    expect(keyframesAsked.at(-1)).toBe('l');
    expect(l.feeds(dt)).toBe(true);
    // Nothing fits: the lowest layer, not nothing.
    estimate(100_000);
    expect(l.feeds(dt)).toBe(true);
    // Back up to 2.5 Mbit/s: h would need 2.4 Mbit/s; it fits.
    estimate(2_500_000);
    expect(keyframesAsked.at(-1)).toBe('h');
    // A layer waited for and no longer wanted stops feeding it (m is still current until h's keyframe).
    expect(l.feeds(dt)).toBe(false);
    // A pinned layer wins over the estimate; unpinning follows the estimate again.
    dt.pin('l');
    expect(keyframesAsked.at(-1)).toBe('l');
    estimate(10_000_000);
    expect(keyframesAsked.at(-1)).toBe('l');
    dt.pin(null);
    expect(keyframesAsked.at(-1)).toBe('h');
  });
});
