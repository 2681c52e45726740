import type { Replay } from '@fusionflow/protocol';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { formatDateTime, formatDuration } from './format';
import { PaidBadge } from './paid-badge';

/**
 * One replay in a list: title (links to the replay), when, how long, the ticket it needs; the host if asked, a
 * "Hidden" badge when it is hidden (only its owner gets those), and `children` (the owner's controls) below.
 */
export function ReplayCard({
  replay,
  showOwner = false,
  children,
}: {
  replay: Replay;
  showOwner?: boolean;
  children?: ReactNode;
}) {
  const { t, i18n } = useTranslation();
  return (
    <li className="room-card" data-testid="replay-card" data-replay-id={replay.id}>
      <h3 className="room-card-title">
        <Link to={`/replays/${encodeURIComponent(replay.id)}`}>{replay.title}</Link>
      </h3>
      {showOwner && <p className="room-card-host">{t('room.hostedBy', { name: replay.ownerName })}</p>}
      <p className="room-card-meta">
        <span data-testid="replay-date">
          {formatDateTime(replay.startedAt ?? replay.createdAt, i18n.resolvedLanguage)}
        </span>
        {replay.durationMs !== null && <span data-testid="replay-duration">{formatDuration(replay.durationMs)}</span>}
        <PaidBadge price={replay.ticketPrice} />
        {replay.hidden && (
          <span className="badge badge-status-ended" data-testid="replay-hidden-badge">
            {t('replayManage.hidden')}
          </span>
        )}
      </p>
      {children}
    </li>
  );
}
