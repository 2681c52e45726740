import type { Room } from '@fusionflow/protocol';
import { Trans, useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { channelPath } from './channel-link';
import { PaidBadge } from './paid-badge';
import { RoomBadges } from './room-badges';

/**
 * One room in a list: title (links to the room), host (links to their channel), kind, status and, for
 * broadcasts, the viewer count and the ticket price when there is one.
 */
export function RoomCard({ room }: { room: Room }) {
  const { t } = useTranslation();
  return (
    <li className="room-card" data-testid="room-card" data-room-id={room.id}>
      <h3 className="room-card-title">
        <Link to={`/rooms/${encodeURIComponent(room.id)}`}>{room.title}</Link>
      </h3>
      <p className="room-card-host">
        <Trans
          i18nKey="room.hostedByLink"
          components={{
            channel: (
              <Link to={channelPath(room.ownerHandle)} data-testid="channel-link">
                {room.ownerName}
              </Link>
            ),
          }}
        />
      </p>
      <p className="room-card-meta">
        <RoomBadges room={room} />
        {/* A call has participants, not viewers. */}
        {room.kind === 'live' && (
          <span className="room-card-viewers" data-testid="room-card-viewers">
            {t('room.viewers', { count: room.viewerCount })}
          </span>
        )}
        {room.kind === 'live' && <PaidBadge price={room.ticketPrice} />}
      </p>
    </li>
  );
}
