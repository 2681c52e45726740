import { isFusionFlowError } from '@fusionflow/client';
import type { Room } from '@fusionflow/protocol';
import { useEffect, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api } from '../api';
import { CallRoom } from '../call/call-room';
import { RoomChat } from '../chat/room-chat';
import { BroadcastSummary } from '../components/broadcast-summary';
import { ChannelLink, channelPath } from '../components/channel-link';
import { CopyLinkButton } from '../components/copy-link-button';
import { ErrorAlert } from '../components/error-alert';
import { LiveStudio } from '../components/live-studio';
import { LiveViewer } from '../components/live-viewer';
import { RoomBadges } from '../components/room-badges';
import { RoomModerators } from '../components/room-moderators';
import { TipForm } from '../components/tip-form';
import { useSession } from '../session/session-context';

/** The address to share for a room (the watch page of a broadcast, the invite to a call). */
const roomUrl = (id: string) => new URL(`/rooms/${encodeURIComponent(id)}`, window.location.origin).href;

/** A room: its details; for a live room the studio (its host) or the player (everyone else). */
export function RoomPage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const [room, setRoom] = useState<Room | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    setRoom(null);
    setLoadError(null);
    api.getRoom(id).then(
      (r) => live && setRoom(r),
      (err: unknown) => live && setLoadError(err),
    );
    return () => {
      live = false;
    };
  }, [id]);

  if (loadError) {
    return (
      <div className="narrow">
        <title>{`${t('room.notFound')} · ${t('app.name')}`}</title>
        {isFusionFlowError(loadError, 'room_not_found', 'validation_failed') ? (
          <h1>{t('room.notFound')}</h1>
        ) : (
          <ErrorAlert error={loadError} />
        )}
        <p>
          <Link to="/">{t('room.backHome')}</Link>
        </p>
      </div>
    );
  }
  if (!room) return <p className="muted">{t('app.loading')}</p>;
  return <RoomView room={room} onChange={setRoom} />;
}

function RoomView({ room, onChange }: { room: Room; onChange: (room: Room) => void }) {
  const { t, i18n } = useTranslation();
  const { user, restoring } = useSession();
  const [pending, setPending] = useState<'end' | null>(null);
  const [confirmingEnd, setConfirmingEnd] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const isHost = user !== null && user.id === room.ownerId;
  // Live rooms go live when their stream starts (the studio below), calls with their first member:
  // nothing goes live by hand.
  const canEnd = (isHost || user?.role === 'admin' || user?.role === 'moderator') && room.status !== 'ended';

  const dateTime = new Intl.DateTimeFormat(i18n.resolvedLanguage, { dateStyle: 'medium', timeStyle: 'short' });
  const when = (iso: string | null) => (iso ? dateTime.format(new Date(iso)) : null);
  const price = (amount: number | null) => (amount ? t('room.tokens', { count: amount }) : t('room.free'));

  const end = async () => {
    setPending('end');
    setError(null);
    try {
      onChange(await api.endRoom(room.id));
      setConfirmingEnd(false);
    } catch (err) {
      setError(err);
    } finally {
      setPending(null);
    }
  };

  return (
    <article className="room">
      <title>{`${room.title} · ${t('app.name')}`}</title>
      <header className="room-head">
        <div>
          <h1>{room.title}</h1>
          <p className="room-host">
            <Trans
              i18nKey="room.hostedByLink"
              components={{
                channel: (
                  <Link to={channelPath(room.ownerHandle)} data-testid="channel-link">
                    {room.ownerName}
                  </Link>
                ),
              }}
            />{' '}
            <RoomBadges room={room} />
          </p>
        </div>
        <div className="room-actions">
          {isHost && <p className="muted">{t('room.youHost')}</p>}
          {room.status !== 'ended' && (
            <CopyLinkButton
              url={roomUrl(room.id)}
              label={room.kind === 'call' ? t('share.copyInvite') : t('share.copyLink')}
              testId="copy-room-link"
            />
          )}
          {canEnd && !confirmingEnd && (
            <button
              type="button"
              className="button button-danger"
              disabled={pending !== null}
              onClick={() => setConfirmingEnd(true)}
            >
              {t('room.end')}
            </button>
          )}
        </div>
      </header>
      {confirmingEnd && (
        <div className="confirm">
          <p>{t('room.confirmEnd')}</p>
          <button type="button" className="button button-danger" disabled={pending !== null} onClick={() => void end()}>
            {pending === 'end' ? t('room.ending') : t('room.confirmEndYes')}
          </button>
          <button type="button" className="button" onClick={() => setConfirmingEnd(false)}>
            {t('room.cancel')}
          </button>
        </div>
      )}
      <ErrorAlert error={error} />
      {room.kind === 'call' && <CallRoom room={room} onRoomChange={onChange} />}
      {/* Studio or player only once we know who this is (a restored session must not become a guest). */}
      {room.kind === 'live' && !restoring && (
        <div className={room.status === 'ended' ? undefined : 'room-live'}>
          {isHost ? (
            <>
              <LiveStudio room={room} onChange={onChange} />
              {room.status !== 'ended' && <RoomChat room={room} />}
            </>
          ) : (
            <LiveViewer room={room} onChange={onChange} />
          )}
        </div>
      )}
      {room.kind === 'live' && isHost && room.status === 'ended' && <BroadcastSummary room={room} />}
      {/* Tips are for broadcasts; a call is not one. */}
      {room.kind === 'live' && !isHost && user !== null && user.role !== 'guest' && room.status !== 'ended' && (
        <TipForm roomId={room.id} />
      )}
      {isHost && room.status !== 'ended' && <RoomModerators roomId={room.id} />}
      <section aria-label={t('room.details')}>
        <dl className="facts">
          <dt>{t('room.kindLabel')}</dt>
          <dd>{t(`room.kind.${room.kind}`)}</dd>
          <dt>{t('room.statusLabel')}</dt>
          <dd data-testid="room-status">{t(`room.status.${room.status}`)}</dd>
          <dt>{t('room.host')}</dt>
          <dd>
            <ChannelLink handle={room.ownerHandle} name={room.ownerName} />
          </dd>
          {room.kind === 'live' ? (
            <>
              <dt>{t('room.ticketPrice')}</dt>
              <dd>{price(room.ticketPrice)}</dd>
            </>
          ) : (
            <>
              <dt>{t('room.pricePerMinute')}</dt>
              <dd>{price(room.pricePerMinute)}</dd>
            </>
          )}
          <dt>{t('room.createdAt')}</dt>
          <dd>{when(room.createdAt)}</dd>
          {room.startedAt && (
            <>
              <dt>{t('room.startedAt')}</dt>
              <dd>{when(room.startedAt)}</dd>
            </>
          )}
          {room.endedAt && (
            <>
              <dt>{t('room.endedAt')}</dt>
              <dd>{when(room.endedAt)}</dd>
            </>
          )}
        </dl>
      </section>
    </article>
  );
}
