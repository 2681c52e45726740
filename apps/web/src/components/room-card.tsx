import type { Room } from '@fusionflow/protocol';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { RoomBadges } from './room-badges';

/** One room in a list: title (links to the room), host, kind, status and (broadcasts) viewer count. */
export function RoomCard({ room }: { room: Room }) {
  const { t } = useTranslation();
  return (
    <li className="room-card" data-testid="room-card" data-room-id={room.id}>
      <h3 className="room-card-title">
        <Link to={`/rooms/${encodeURIComponent(room.id)}`}>{room.title}</Link>
      </h3>
      <p className="room-card-host">{t('room.hostedBy', { name: room.ownerName })}</p>
      <p className="room-card-meta">
        <RoomBadges room={room} />
        {/* A call has participants, not viewers. */}
        {room.kind === 'live' && (
          <span className="room-card-viewers">{t('room.viewers', { count: room.viewerCount })}</span>
        )}
      </p>
    </li>
  );
}
