import { describe, expect, it } from 'vitest';
import { splitRevenue } from './revenue-split.js';

describe('splitRevenue', () => {
  it('takes the platform fee, then the studio share of the rest, and gives the streamer the remainder', () => {
    expect(splitRevenue(100, { platformFeePercent: 20, studioSharePercent: 30 }, true)).toEqual({
      platform: 20,
      studio: 24,
      streamer: 56,
    });
    expect(splitRevenue(100, { platformFeePercent: 20, studioSharePercent: 30 }, false)).toEqual({
      platform: 20,
      studio: 0,
      streamer: 80,
    });
  });

  it('rounds down for platform and studio so fractions go to the streamer', () => {
    // 7 × 20% = 1.4 → 1; rest 6 × 30% = 1.8 → 1; streamer 5.
    expect(splitRevenue(7, { platformFeePercent: 20, studioSharePercent: 30 }, true)).toEqual({
      platform: 1,
      studio: 1,
      streamer: 5,
    });
    expect(splitRevenue(1, { platformFeePercent: 20, studioSharePercent: 30 }, true)).toEqual({
      platform: 0,
      studio: 0,
      streamer: 1,
    });
    expect(splitRevenue(3, { platformFeePercent: 12.5, studioSharePercent: 0 }, true)).toEqual({
      platform: 0,
      studio: 0,
      streamer: 3,
    });
  });

  it('never creates or loses a token (exhaustive over small amounts and many policies)', () => {
    const policies = [0, 0.01, 5, 12.5, 20, 33.33, 50, 99.99, 100];
    const failures: string[] = [];
    let checked = 0;
    for (const fee of policies) {
      for (const share of policies) {
        for (let amount = 0; amount <= 500; amount++) {
          for (const hasStudio of [true, false]) {
            const s = splitRevenue(amount, { platformFeePercent: fee, studioSharePercent: share }, hasStudio);
            checked++;
            if (
              s.platform + s.studio + s.streamer !== amount ||
              Math.min(s.platform, s.studio, s.streamer) < 0 ||
              s.platform > (amount * fee) / 100 ||
              (!hasStudio && s.studio !== 0)
            ) {
              failures.push(`${amount} fee ${fee} share ${share} studio ${hasStudio}: ${JSON.stringify(s)}`);
            }
          }
        }
      }
    }
    expect(checked).toBe(9 * 9 * 501 * 2);
    expect(failures).toEqual([]);
  });

  it('refuses fractional or negative amounts', () => {
    expect(() => splitRevenue(1.5, { platformFeePercent: 20, studioSharePercent: 0 }, false)).toThrow(RangeError);
    expect(() => splitRevenue(-1, { platformFeePercent: 20, studioSharePercent: 0 }, false)).toThrow(RangeError);
  });
});
