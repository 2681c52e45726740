import type { RevenueSplit } from '@fusionflow/protocol';

export interface SplitPolicy {
  /** Platform fee, percent of every payment (0–100, up to two decimals). */
  platformFeePercent: number;
  /** The studio's share, percent of what remains after the platform fee (0–100, up to two decimals). */
  studioSharePercent: number;
}

const basisPoints = (percent: number) => Math.round(percent * 100);

/**
 * How a payment of `amount` tokens splits between streamer, studio and platform.
 *
 * Rounding rule: the platform takes ⌊amount × fee⌋; of the rest, the studio (when the streamer has
 * one) takes ⌊rest × share⌋; the streamer gets everything left. Fractions of a token therefore always
 * go to the streamer, and the three parts add up to `amount` exactly — no token is created or lost.
 */
export function splitRevenue(amount: number, policy: SplitPolicy, hasStudio: boolean): RevenueSplit {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`amount must be a whole number: ${amount}`);
  const platform = Math.floor((amount * basisPoints(policy.platformFeePercent)) / 10_000);
  const rest = amount - platform;
  const studio = hasStudio ? Math.floor((rest * basisPoints(policy.studioSharePercent)) / 10_000) : 0;
  return { platform, studio, streamer: rest - studio };
}
