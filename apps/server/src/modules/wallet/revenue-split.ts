import type { RevenueSplit } from '@fusionflow/protocol';
import type { Posting } from './ledger.js';

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

/**
 * The postings of a payment to a streamer: the payer's wallet out; the streamer's earnings, the
 * studio's share (when there is one) and the platform's fee in. Zero lines are left out.
 */
export function revenuePostings(
  payerId: string,
  amount: number,
  split: RevenueSplit,
  streamerId: string,
  studioId: string | null,
): Posting[] {
  const postings: Posting[] = [
    { account: { kind: 'wallet', ownerId: payerId }, amount: -amount },
    { account: { kind: 'earnings', ownerId: streamerId }, amount: split.streamer },
  ];
  if (studioId) postings.push({ account: { kind: 'studio', ownerId: studioId }, amount: split.studio });
  postings.push({ account: { kind: 'platform_revenue' }, amount: split.platform });
  return postings.filter((p) => p.amount !== 0);
}
