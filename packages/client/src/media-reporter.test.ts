import type { MediaReport } from '@fusionflow/protocol';
import { MediaReport as MediaReportSchema } from '@fusionflow/protocol';
import { describe, expect, it } from 'vitest';
import { readStatsSample, type StatsSample } from './connection-quality.js';
import { MediaReporter } from './media-reporter.js';
import { chromiumReport } from './test-chromium-stats.js';

const sample = (at: number, framesDecoded: number, localCandidateType: 'host' | 'relay' = 'host'): StatsSample =>
  readStatsSample(
    chromiumReport({
      timestamp: at,
      framesDecoded,
      videoPacketsReceived: framesDecoded * 3,
      audioPacketsReceived: at / 20,
      currentRoundTripTime: 0.01,
      localCandidateType,
    }),
    at,
  );

function reporter(kind: 'call' | 'watch' = 'call') {
  const sent: { report: MediaReport; final: boolean }[] = [];
  const r = new MediaReporter({ kind, send: (report, final) => sent.push({ report, final }) });
  return { r, sent };
}

describe('MediaReporter', () => {
  it('reports the join (start to first frame) and the route once, then the rest at the end', () => {
    const { r, sent } = reporter();
    const a = {};
    r.start(1000);
    r.observe(a, sample(1500, 0), true);
    expect(sent).toEqual([]);
    r.observe(a, sample(2250, 4), true);
    expect(sent).toEqual([{ report: { kind: 'call', joinSeconds: 1.25, candidateTypes: { host: 1 } }, final: false }]);
    r.observe(a, sample(3000, 20), true);
    r.iceFailure('connect_timeout');
    r.end();
    r.end();
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual({ report: { kind: 'call', iceFailures: { connect_timeout: 1 } }, final: true });
    for (const { report } of sent) expect(MediaReportSchema.safeParse(report).success).toBe(true);
  });

  it('counts each connection’s candidate type once, a new connection again', () => {
    const { r, sent } = reporter();
    const first = {};
    const second = {};
    r.start(0);
    r.observe(first, sample(500, 0, 'relay'), true);
    r.observe(first, sample(1000, 0, 'relay'), true);
    r.observe(second, sample(1000, 0, 'host'), true);
    r.end();
    expect(sent).toEqual([{ report: { kind: 'call', candidateTypes: { relay: 1, host: 1 } }, final: true }]);
  });

  it('counts a freeze once per stall of a second or more, only while video is expected', () => {
    const { r, sent } = reporter('watch');
    const pc = {};
    r.start(0);
    r.observe(pc, sample(500, 10), true);
    r.observe(pc, sample(1000, 20), true);
    // Stalled from 1000: 1.0 s later it is a freeze, and stays one freeze until frames come again.
    r.observe(pc, sample(1500, 20), true);
    r.observe(pc, sample(2000, 20), true);
    r.observe(pc, sample(2500, 20), true);
    r.observe(pc, sample(3000, 30), true);
    // The camera off: no frames for seconds, no freeze.
    r.observe(pc, sample(4000, 30), false);
    r.observe(pc, sample(6000, 30), false);
    // Back on, stalled again.
    r.observe(pc, sample(6500, 30), true);
    r.observe(pc, sample(7600, 30), true);
    r.end();
    expect(sent.map((s) => s.report)).toEqual([
      { kind: 'watch', joinSeconds: 0.5, candidateTypes: { host: 1 } },
      { kind: 'watch', freezes: 2 },
    ]);
  });

  it('leaves out a join time no one waited for (a suspended tab’s clock) and sends nothing when nothing happened', () => {
    const { r, sent } = reporter();
    r.start(0);
    r.observe({}, sample(400_000, 5), true);
    expect(sent[0]?.report).toEqual({ kind: 'call', candidateTypes: { host: 1 } });
    const quiet = reporter();
    quiet.r.start(0);
    quiet.r.end();
    expect(quiet.sent).toEqual([]);
  });

  it('starts the join clock again while nobody publishes yet (the wait for the streamer is no join time)', () => {
    const { r, sent } = reporter('watch');
    r.start(0);
    r.restartJoinClock(5000);
    r.observe({}, sample(5800, 2), true);
    r.restartJoinClock(9000);
    expect(sent[0]?.report.joinSeconds).toBe(0.8);
  });

  it('takes nothing after the end, and a failing send does not throw', () => {
    const r = new MediaReporter({
      kind: 'call',
      send: () => {
        throw new Error('offline');
      },
    });
    r.start(0);
    expect(() => r.observe({}, sample(100, 3), true)).not.toThrow();
    r.end();
    r.iceFailure('failed');
    expect(r.ended).toBe(true);
  });
});
