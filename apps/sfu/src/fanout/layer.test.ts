import { describe, expect, it } from 'vitest';
import { Layer, type LayerSink } from './layer.js';
import type { MediaPacket } from './packet-cache.js';

const packet = (sequenceNumber: number): MediaPacket => ({
  sequenceNumber,
  timestamp: sequenceNumber * 3000,
  marker: false,
  payload: Buffer.from([sequenceNumber]),
  keyframe: false,
  receivedAt: 0,
});

const sink = () => {
  const got: number[] = [];
  const s: LayerSink & { got: number[] } = { got, write: (_layer, p) => void got.push(p.sequenceNumber) };
  return s;
};

describe('Layer: the one owner of who it feeds', () => {
  it('forwards each packet once to each sink that joined, and none after it left', () => {
    const layer = new Layer('h', 8);
    const a = sink();
    const b = sink();
    layer.add(a);
    layer.add(b);
    layer.add(a);
    expect(layer.sinkCount).toBe(2);
    layer.forward(packet(1));
    layer.remove(b);
    expect(layer.feeds(b)).toBe(false);
    layer.forward(packet(2));
    expect(a.got).toEqual([1, 2]);
    expect(b.got).toEqual([1]);
  });

  it('a sink may leave while the layer forwards (a down-track switching away on a keyframe)', () => {
    const layer = new Layer('', 8);
    const got: number[] = [];
    const leaving: LayerSink = {
      write: (l, p) => {
        got.push(p.sequenceNumber);
        l.remove(leaving);
      },
    };
    const staying = sink();
    layer.add(leaving);
    layer.add(staying);
    layer.forward(packet(1));
    layer.forward(packet(2));
    expect(got).toEqual([1]);
    expect(staying.got).toEqual([1, 2]);
  });

  it('clear() feeds nobody and forgets the cache', () => {
    const layer = new Layer('l', 8);
    const a = sink();
    layer.add(a);
    layer.cache.put(packet(5));
    layer.clear();
    layer.forward(packet(6));
    expect(a.got).toEqual([]);
    expect(layer.sinkCount).toBe(0);
    expect(layer.cache.get(5)).toBeUndefined();
  });
});
