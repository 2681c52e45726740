import type { Room } from '@fusionflow/protocol';
import { useTranslation } from 'react-i18next';

/** Kind and status of a room as two small labels. */
export function RoomBadges({ room }: { room: Pick<Room, 'kind' | 'status'> }) {
  const { t } = useTranslation();
  return (
    <span className="badges">
      <span className={`badge badge-kind-${room.kind}`}>{t(`room.kind.${room.kind}`)}</span>
      <span className={`badge badge-status-${room.status}`}>{t(`room.status.${room.status}`)}</span>
    </span>
  );
}
