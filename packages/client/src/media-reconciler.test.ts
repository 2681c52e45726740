import { describe, expect, it } from 'vitest';
import { MediaReconciler, type MediaSample } from './media-reconciler.js';

/** Drive a reconciler with samples every 500 ms; `frames(t)` gives the cumulative counters at time t. */
function run(
  r: MediaReconciler,
  from: number,
  to: number,
  sample: (t: number) => Omit<MediaSample, 'now'>,
): { t: number; transitions: string[]; replay?: string }[] {
  const out: { t: number; transitions: string[]; replay?: string }[] = [];
  for (let t = from; t <= to; t += 500) {
    const o = r.sample({ now: t, ...sample(t) });
    if (o.transitions.length > 0 || o.replay) out.push({ t, ...o });
  }
  return out;
}

const on = { audio: true, video: true };
const off = { audio: false, video: false };

describe('MediaReconciler (Connected → LiveMedia → ReplayRequested → Connected)', () => {
  it('goes live when expected frames arrive, and back to connected when media is switched off', () => {
    const r = new MediaReconciler({ missingMs: 2000 });
    expect(r.state).toBe('connected');
    const flowing = run(r, 0, 2000, (t) => ({
      expected: on,
      counters: { video: t, audio: t },
      transportConnected: true,
    }));
    expect(flowing).toEqual([{ t: 500, transitions: ['live-media'] }]);
    // Camera and mic off: frames stop, nothing is expected, no replay.
    const stopped = run(r, 2500, 8000, () => ({
      expected: off,
      counters: { video: 2000, audio: 2000 },
      transportConnected: true,
    }));
    expect(stopped).toEqual([{ t: 2500, transitions: ['connected'] }]);
  });

  it('asks for a replay when expected media stops arriving, and recovers when frames come back', () => {
    const r = new MediaReconciler({ missingMs: 2000, retryMs: 3000 });
    run(r, 0, 1000, (t) => ({ expected: on, counters: { video: t, audio: t }, transportConnected: true }));
    // Video freezes at t=1000 while the server still expects it.
    const frozen = run(r, 1500, 4500, (t) => ({
      expected: on,
      counters: { video: 1000, audio: t },
      transportConnected: true,
    }));
    expect(frozen).toEqual([{ t: 3000, transitions: ['replay-requested'], replay: 'media-missing' }]);
    expect(r.attempts).toBe(1);
    const back = run(r, 5000, 6000, (t) => ({
      expected: on,
      counters: { video: t, audio: t },
      transportConnected: true,
    }));
    expect(back).toEqual([{ t: 5000, transitions: ['connected', 'live-media'] }]);
    expect(r.attempts).toBe(0);
  });

  it('asks again, less and less often, while the replay does not work, then gives up', () => {
    const r = new MediaReconciler({ missingMs: 1000, retryMs: 1000, maxAttempts: 3 });
    const asks = run(r, 0, 20_000, () => ({
      expected: on,
      counters: { video: 0, audio: 0 },
      transportConnected: true,
    })).filter((x) => x.replay);
    expect(asks.map((x) => x.t)).toEqual([1000, 2000, 4000]);
  });

  it('does not judge media while the transport is down, nor right after it comes up', () => {
    const r = new MediaReconciler({ missingMs: 2000 });
    expect(
      run(r, 0, 10_000, () => ({ expected: on, counters: { video: 0, audio: 0 }, transportConnected: false })),
    ).toEqual([]);
    const up = run(r, 10_500, 13_000, () => ({
      expected: on,
      counters: { video: 0, audio: 0 },
      transportConnected: true,
    }));
    expect(up).toEqual([{ t: 12_500, transitions: ['replay-requested'], replay: 'media-missing' }]);
  });

  it('counts from the moment media becomes expected', () => {
    const r = new MediaReconciler({ missingMs: 2000 });
    run(r, 0, 5000, () => ({ expected: off, counters: { video: 0, audio: 0 }, transportConnected: true }));
    const turnedOn = run(r, 5500, 8000, (t) => ({
      expected: { audio: false, video: true },
      counters: { video: t >= 6500 ? t : 0, audio: 0 },
      transportConnected: true,
    }));
    expect(turnedOn).toEqual([{ t: 6500, transitions: ['live-media'] }]);
  });

  it('does not call the tail of an earlier stream live when media is switched on again', () => {
    const r = new MediaReconciler({ missingMs: 2000 });
    run(r, 0, 1000, (t) => ({ expected: on, counters: { video: t, audio: t }, transportConnected: true }));
    // Off at 1500 (the last packets still arrive in that sample), on again at 2000 — but nothing comes.
    const after = run(r, 1500, 4500, (t) => ({
      expected: t === 1500 ? off : on,
      counters: { video: 1500, audio: 1500 },
      transportConnected: true,
    }));
    expect(after).toEqual([
      { t: 1500, transitions: ['connected'] },
      { t: 4000, transitions: ['replay-requested'], replay: 'media-missing' },
    ]);
  });

  it('asks for a replay when video arrives that the server says is off (stale state)', () => {
    const r = new MediaReconciler({ missingMs: 2000 });
    const stale = run(r, 0, 3000, (t) => ({
      expected: off,
      counters: { video: t, audio: 0 },
      transportConnected: true,
    }));
    expect(stale).toEqual([{ t: 2500, transitions: ['replay-requested'], replay: 'state-mismatch' }]);
  });
});
