import type { Replay } from '@fusionflow/protocol';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { listReplays } from '../replays';
import { ReplayCard } from './replay-card';

const LIMIT = 12;

/** The home page's latest replays of every channel; nothing at all when there are none or they cannot be had. */
export function RecentReplays() {
  const { t } = useTranslation();
  const headingId = useId();
  const [replays, setReplays] = useState<Replay[]>([]);

  useEffect(() => {
    let cancelled = false;
    listReplays({ limit: LIMIT }).then(
      (list) => !cancelled && setReplays(list),
      // A home page without replays is still a home page: the section stays hidden.
      () => {},
    );
    return () => {
      cancelled = true;
    };
  }, []);

  if (replays.length === 0) return null;
  return (
    <section className="room-section" aria-labelledby={headingId} data-testid="recent-replays">
      <div className="section-head">
        <h2 id={headingId}>{t('home.recentReplays')}</h2>
      </div>
      <ul className="room-grid">
        {replays.map((r) => (
          <ReplayCard key={r.id} replay={r} showOwner />
        ))}
      </ul>
    </section>
  );
}
