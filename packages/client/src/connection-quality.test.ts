import { describe, expect, it } from 'vitest';
import { connectionQuality, mediaPathOf, qualityLevel, readStatsSample } from './connection-quality.js';
import { chromiumReport } from './test-chromium-stats.js';

/** Two Chromium reports a second apart: 20 frames, 100 video and 50 audio packets in between. */
const base = { framesDecoded: 58, videoPacketsReceived: 210, audioPacketsReceived: 148, currentRoundTripTime: 0.002 };
const first = chromiumReport({ timestamp: 1000, ...base });
const second = chromiumReport({
  timestamp: 2000,
  ...base,
  framesDecoded: 78,
  videoPacketsReceived: 310,
  audioPacketsReceived: 198,
});

describe('readStatsSample', () => {
  it('sums inbound-rtp counters and reads the route of the pair the transport selected', () => {
    expect(readStatsSample(first, 1000)).toEqual({
      at: 1000,
      packetsReceived: 358,
      packetsLost: 0,
      framesDecoded: 58,
      decodesFrames: true,
      videoPackets: 210,
      audioPackets: 148,
      rttMs: 2,
      localCandidateType: 'host',
      remoteCandidateType: 'host',
    });
  });

  it('without a transport entry, takes the nominated pair that carried the media (not an earlier nominated one)', () => {
    const s = readStatsSample(
      chromiumReport({ timestamp: 1, ...base, currentRoundTripTime: 0.031, withTransport: false }),
      1,
    );
    expect(s.rttMs).toBe(31);
  });

  it('falls back to remote-inbound-rtp for the round trip when the pair has none', () => {
    const s = readStatsSample(
      chromiumReport({ ...base, timestamp: 1, currentRoundTripTime: undefined, remoteInboundRoundTripTime: 0.184 }),
      1,
    );
    expect(s.rttMs).toBe(184);
  });

  it('reads a relayed pair', () => {
    const s = readStatsSample(chromiumReport({ ...base, timestamp: 1, localCandidateType: 'relay' }), 1);
    expect(s.localCandidateType).toBe('relay');
    expect(mediaPathOf(s)).toBe('relay');
  });

  it('knows nothing of a report without media or a pair (a connection still setting up)', () => {
    const s = readStatsSample(new Map([['P', { id: 'P', type: 'peer-connection', timestamp: 1 }]]), 5);
    expect(s).toMatchObject({ packetsReceived: 0, framesDecoded: 0, decodesFrames: false, rttMs: null });
    expect(mediaPathOf(s)).toBeNull();
    expect(connectionQuality(s, undefined).level).toBe('unknown');
  });

  it('never lets a negative packetsLost (duplicates) take away from the count', () => {
    const s = readStatsSample(chromiumReport({ ...base, timestamp: 1, videoPacketsLost: -3, audioPacketsLost: 2 }), 1);
    expect(s.packetsLost).toBe(2);
  });

  it('counts werift’s video packets where it decodes no frames', () => {
    const werift = new Map<string, Record<string, unknown>>([
      ['v', { id: 'v', type: 'inbound-rtp', kind: 'video', packetsReceived: 40, packetsLost: 0 }],
      ['a', { id: 'a', type: 'inbound-rtp', kind: 'audio', packetsReceived: 30 }],
    ]);
    expect(readStatsSample(werift, 1)).toMatchObject({ framesDecoded: 0, decodesFrames: false, videoPackets: 40 });
  });
});

describe('connectionQuality', () => {
  it('grades a clean loopback second as good, direct, 20 fps, no loss', () => {
    const q = connectionQuality(readStatsSample(second, 2000), readStatsSample(first, 1000), { expectVideo: true });
    expect(q).toEqual({
      level: 'good',
      lossPercent: 0,
      rttMs: 2,
      framesPerSecond: 20,
      path: 'direct',
      localCandidateType: 'host',
      remoteCandidateType: 'host',
      framesDecoded: 78,
    });
  });

  it('computes loss from the interval’s deltas, not the totals', () => {
    const before = readStatsSample(chromiumReport({ ...base, timestamp: 0, videoPacketsLost: 500 }), 0);
    // 95 received and 5 lost since: 5 %, although 500 were lost before.
    const after = readStatsSample(
      chromiumReport({
        ...base,
        timestamp: 1000,
        framesDecoded: 78,
        videoPacketsReceived: 280,
        audioPacketsReceived: 173,
        videoPacketsLost: 505,
      }),
      1000,
    );
    const q = connectionQuality(after, before, { expectVideo: true });
    expect(q.lossPercent).toBe(5);
    expect(q.level).toBe('fair');
  });

  it('is poor with a long round trip, heavy loss or a frozen picture', () => {
    const s0 = readStatsSample(first, 1000);
    const slow = readStatsSample(
      chromiumReport({ ...base, timestamp: 2000, framesDecoded: 78, currentRoundTripTime: 0.8 }),
      2000,
    );
    expect(connectionQuality(slow, s0).level).toBe('poor');
    const frozen = readStatsSample(chromiumReport({ ...base, timestamp: 2000, videoPacketsReceived: 260 }), 2000);
    expect(connectionQuality(frozen, s0, { expectVideo: true })).toMatchObject({ framesPerSecond: 0, level: 'poor' });
    // The same numbers with the camera off: no frames is what the sender sends.
    expect(connectionQuality(frozen, s0, { expectVideo: false }).level).toBe('good');
  });

  it('starts over when the counters went back (a new peer connection)', () => {
    const q = connectionQuality(readStatsSample(first, 3000), readStatsSample(second, 2000), { expectVideo: true });
    expect(q).toMatchObject({ lossPercent: null, framesPerSecond: null, rttMs: 2, level: 'good' });
  });
});

describe('qualityLevel', () => {
  it('takes the worst of what is known', () => {
    expect(qualityLevel({ lossPercent: 0, rttMs: 300, framesPerSecond: 30 }, { expectVideo: true })).toBe('fair');
    expect(qualityLevel({ lossPercent: 12, rttMs: 10, framesPerSecond: 30 }, { expectVideo: true })).toBe('poor');
    expect(qualityLevel({ lossPercent: null, rttMs: null, framesPerSecond: 8 }, { expectVideo: true })).toBe('fair');
    expect(qualityLevel({ lossPercent: null, rttMs: null, framesPerSecond: 8 })).toBe('unknown');
  });
});
