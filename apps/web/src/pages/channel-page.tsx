import { isFusionFlowError } from '@fusionflow/client';
import type { Channel, Replay, Room } from '@fusionflow/protocol';
import { useCallback, useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { api } from '../api';
import { ErrorAlert } from '../components/error-alert';
import { LiveViewer } from '../components/live-viewer';
import { ReplayCard } from '../components/replay-card';
import { ReplayManageControls } from '../components/replay-manage-controls';
import { listReplays } from '../replays';
import { useSession } from '../session/session-context';

/** How often an offline channel asks whether its owner went live. */
const POLL_MS = 15_000;

/**
 * A streamer's permanent address (`/c/<handle>`): the broadcast when one is live, otherwise an offline card
 * with the latest replay, and the channel's past broadcasts.
 */
export function ChannelPage() {
  const { t } = useTranslation();
  const { handle = '' } = useParams();
  const [channel, setChannel] = useState<Channel | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      setChannel(await api.getChannel(handle));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [handle]);

  useEffect(() => {
    setChannel(null);
    setError(null);
    void load();
  }, [load]);

  // Offline: look again now and then, so the channel shows the next broadcast without a reload.
  const offline = channel !== null && channel.live === null;
  useEffect(() => {
    if (!offline) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [offline, load]);

  if (error && isFusionFlowError(error, 'channel_not_found')) {
    return (
      <div className="narrow">
        <title>{`${t('channel.notFound')} · ${t('app.name')}`}</title>
        <h1>{t('channel.notFound')}</h1>
        <p>
          <Link to="/">{t('room.backHome')}</Link>
        </p>
      </div>
    );
  }
  if (!channel) {
    return error ? <ErrorAlert error={error} /> : <p className="muted">{t('app.loading')}</p>;
  }
  // The player follows its room; once it ends the channel is asked again (offline, with the replays).
  const onRoomChange = (room: Room) => {
    if (room.status === 'ended') void load();
    else setChannel((c) => (c?.live?.id === room.id ? { ...c, live: room } : c));
  };
  return <ChannelView channel={channel} onRoomChange={onRoomChange} />;
}

function ChannelView({ channel, onRoomChange }: { channel: Channel; onRoomChange: (room: Room) => void }) {
  const { t } = useTranslation();
  const { user, restoring } = useSession();
  const headingId = useId();
  const [replays, setReplays] = useState<Replay[] | null>(null);
  const [replaysError, setReplaysError] = useState<unknown>(null);
  const live = channel.live;
  const isOwner = user !== null && user.id === channel.ownerId;

  // Asked again when a broadcast ends here (its replay joins the list).
  useEffect(() => {
    if (live) return;
    let cancelled = false;
    // The owner also gets their hidden replays, to show them again.
    listReplays({ owner: channel.ownerId, includeHidden: isOwner }).then(
      (list) => !cancelled && setReplays(list),
      (err: unknown) => !cancelled && setReplaysError(err),
    );
    return () => {
      cancelled = true;
    };
  }, [channel.ownerId, live, isOwner]);

  // The owner's changes are applied to the list as the server answers them (no reload).
  const replaced = (next: Replay) => setReplays((list) => list?.map((r) => (r.id === next.id ? next : r)) ?? list);
  const removed = (id: string) => setReplays((list) => list?.filter((r) => r.id !== id) ?? list);

  // The latest replay everyone can watch (the owner's hidden ones are not offered).
  const latest = replays?.find((r) => !r.hidden) ?? null;
  const upcoming = channel.latestRoom?.status === 'created' ? channel.latestRoom : null;
  return (
    <article className="room channel" data-testid="channel-page">
      <title>{`${channel.displayName} · ${t('app.name')}`}</title>
      <header className="room-head">
        <div>
          <h1>{channel.displayName}</h1>
          <p className="room-host" data-testid="channel-handle">
            @{channel.handle}
          </p>
        </div>
        {isOwner && (
          <div className="room-actions">
            <Link className="button" to={live ? `/rooms/${encodeURIComponent(live.id)}` : '/create'}>
              {live ? t('channel.openStudio') : t('channel.goLive')}
            </Link>
          </div>
        )}
      </header>
      {live ? (
        <>
          <h2 className="channel-now" data-testid="channel-live-title">
            <span className="badge badge-status-live">{t('room.status.live')}</span> {live.title}
          </h2>
          {/* The owner's studio is on the room page; everyone else watches here. */}
          {!restoring && !isOwner && (
            <div className="room-live">
              <LiveViewer key={live.id} room={live} onChange={onRoomChange} />
            </div>
          )}
        </>
      ) : (
        <section className="stage stage-ended channel-offline" data-testid="channel-offline">
          <div>
            <p>{t('channel.offline', { name: channel.displayName })}</p>
            {upcoming && (
              <p>
                <Link to={`/rooms/${encodeURIComponent(upcoming.id)}`} data-testid="channel-upcoming">
                  {t('channel.upcoming', { title: upcoming.title })}
                </Link>
              </p>
            )}
            {latest && (
              <Link
                className="button button-primary"
                to={`/replays/${encodeURIComponent(latest.id)}`}
                data-testid="channel-latest-replay"
              >
                {t('channel.watchLatest', { title: latest.title })}
              </Link>
            )}
          </div>
        </section>
      )}
      {!live && (
        <section className="room-section" aria-labelledby={headingId} data-testid="channel-replays">
          <div className="section-head">
            <h2 id={headingId}>{t('channel.replays')}</h2>
          </div>
          <ErrorAlert error={replaysError} />
          {replays === null && !replaysError && <p className="muted">{t('app.loading')}</p>}
          {replays !== null && replays.length === 0 && <p className="muted">{t('channel.noReplays')}</p>}
          {replays !== null && replays.length > 0 && (
            <ul className="room-grid">
              {replays.map((r) => (
                <ReplayCard key={r.id} replay={r}>
                  {isOwner && <ReplayManageControls replay={r} onChange={replaced} onDelete={removed} />}
                </ReplayCard>
              ))}
            </ul>
          )}
        </section>
      )}
    </article>
  );
}
