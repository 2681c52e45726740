import type { TokenPacksResponse } from '@fusionflow/protocol';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { wallet } from '../api';

/** The server's terms (platform fee, studio share), asked once per page load. */
let terms: Promise<TokenPacksResponse> | undefined;

export function usePlatformTerms(): { platformFeePercent: number; studioSharePercent: number } | null {
  const [value, setValue] = useState<TokenPacksResponse | null>(null);
  useEffect(() => {
    let live = true;
    terms ??= wallet.packs();
    terms.then(
      (r) => live && setValue(r),
      () => {
        terms = undefined;
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return value;
}

/**
 * The platform's fee, said where people pay (tips, tickets) and where streamers read what they
 * earned: "The streamer receives 80%; the platform keeps 20%."
 */
export function PlatformFee({ on }: { on: 'tip' | 'ticket' | 'earnings' }) {
  const { t } = useTranslation();
  const terms = usePlatformTerms();
  if (!terms) return null;
  const fee = terms.platformFeePercent;
  return (
    <p className="hint" data-testid="platform-fee">
      {t(`fees.${on}`, { fee, rest: Math.round((100 - fee) * 100) / 100 })}
    </p>
  );
}
