import type { RemotePeer } from '@fusionflow/client';
import type { Room } from '@fusionflow/protocol';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { ChatPanel } from '../chat/chat-panel';
import { ConnectionBadge, RelayNotice } from '../components/connection-badge';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';
import { CallMeter, PrivateCallNotice, RemovedNotice } from './call-meter';
import { callNetwork } from './call-network';
import { useCall, wasInCall } from './use-call';

/**
 * The call of a `call` room: a lobby (camera, microphone, relay-only), then a video grid with a
 * tile per participant, camera and microphone toggles, device pickers and a reconnecting banner.
 */
export function CallRoom({ room, onRoomChange }: { room: Room; onRoomChange: (room: Room) => void }) {
  const { t } = useTranslation();
  const { user, restoring } = useSession();
  const { view, join, toggle, chooseDevice, leave, setDesired } = useCall(room.id);
  const [relayOnly, setRelayOnly] = useState(false);
  const [turnAvailable, setTurnAvailable] = useState(false);
  const [guestPending, setGuestPending] = useState(false);
  const autoJoined = useRef(false);

  const inCall = view.status === 'joined' || view.status === 'reconnecting';
  const ended = room.status === 'ended' || view.status === 'ended';

  // A reload of a tab that was in the call rejoins by itself (and resumes its slot).
  useEffect(() => {
    if (!restoring && user && !autoJoined.current && !ended && wasInCall(room.id)) {
      autoJoined.current = true;
      void join({ relayOnly: false });
    }
  }, [restoring, user, ended, room.id, join]);

  useEffect(() => {
    if (!user) return;
    let live = true;
    api.getIceServers().then(
      (r) => live && setTurnAvailable(r.iceServers.some((s) => [s.urls].flat().some((u) => u.startsWith('turn')))),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [user]);

  // The call moves the room along (live with its first member, ended by its host): show it.
  const roomStatus = room.status;
  useEffect(() => {
    if ((view.status === 'joined' && roomStatus === 'created') || view.status === 'ended') {
      api.getRoom(room.id).then(onRoomChange, () => undefined);
    }
  }, [view.status, roomStatus, room.id, onRoomChange]);

  const isPayer = (room.pricePerMinute ?? 0) > 0 && user !== null && user.id !== room.ownerId;

  if (view.removed) {
    return (
      <section className="call call-ended" data-testid="call-room" data-status="removed">
        <RemovedNotice removed={view.removed} billing={view.billing} />
      </section>
    );
  }

  if (ended) {
    return (
      <section className="call call-ended" data-testid="call-room" data-status="ended">
        <p>{t('call.ended')}</p>
      </section>
    );
  }

  if (!inCall) {
    return (
      <section className="call call-lobby" data-testid="call-room" data-status={view.status}>
        <h2>{t('call.lobbyTitle')}</h2>
        {isPayer && <PrivateCallNotice pricePerMinute={room.pricePerMinute!} />}
        {!user && !restoring ? (
          <div className="call-lobby-actions">
            <p>{t('call.signInToJoin')}</p>
            <Link className="button button-primary" to="/signin">
              {t('nav.signIn')}
            </Link>
            <button
              type="button"
              className="button"
              disabled={guestPending}
              data-testid="call-join-guest"
              onClick={() => {
                setGuestPending(true);
                api.guest().finally(() => setGuestPending(false));
              }}
            >
              {t('call.joinAsGuest')}
            </button>
          </div>
        ) : (
          <form
            className="call-lobby-form"
            onSubmit={(e) => {
              e.preventDefault();
              void join({ relayOnly });
            }}
          >
            <label className="check">
              <input
                type="checkbox"
                checked={view.desired.camera}
                onChange={(e) => setDesired({ ...view.desired, camera: e.target.checked })}
              />
              {t('call.startWithCamera')}
            </label>
            <label className="check">
              <input
                type="checkbox"
                checked={view.desired.mic}
                onChange={(e) => setDesired({ ...view.desired, mic: e.target.checked })}
              />
              {t('call.startWithMic')}
            </label>
            {turnAvailable && (
              <label className="check">
                <input
                  type="checkbox"
                  data-testid="call-relay-only"
                  checked={relayOnly}
                  onChange={(e) => setRelayOnly(e.target.checked)}
                />
                {t('call.relayOnly')}
              </label>
            )}
            <ErrorAlert error={view.error} />
            <button
              type="submit"
              className="button button-primary"
              data-testid="call-join"
              disabled={view.status === 'joining' || restoring || !user}
            >
              {view.status === 'joining'
                ? t('call.joining')
                : isPayer
                  ? t('call.private.book', { count: room.pricePerMinute! })
                  : t('call.join')}
            </button>
          </form>
        )}
      </section>
    );
  }

  const peers = view.peers;
  const { mediaReconnecting, relayedByNetwork } = callNetwork(peers, view.relayOnly);
  return (
    <section
      className="call"
      data-testid="call-room"
      data-status={view.status}
      data-peer-id={view.self?.peerId}
      aria-label={t('call.title')}
    >
      {view.status === 'reconnecting' ? (
        <div className="call-banner" role="status" data-testid="call-reconnecting">
          {t('call.reconnecting')}
        </div>
      ) : (
        mediaReconnecting && (
          <div className="call-banner" role="status" data-testid="call-reconnecting" data-cause="ice">
            {t('call.mediaReconnecting')}
          </div>
        )
      )}
      {relayedByNetwork && <RelayNotice />}
      {view.billing && view.billing.status !== 'ended' && <CallMeter billing={view.billing} />}
      <div className={`call-grid call-grid-${Math.min(peers.length + 1, 4)}`}>
        <SelfTile
          name={view.self?.displayName ?? ''}
          stream={view.localStream}
          camera={view.desired.camera}
          mic={view.desired.mic}
          pending={view.desired.camera !== view.held.camera || view.desired.mic !== view.held.mic}
        />
        {peers.map((p) => (
          <PeerTile key={p.state.peerId} peer={p} stream={view.streams.get(p.state.peerId) ?? null} />
        ))}
      </div>
      {peers.length === 0 && <p className="muted call-alone">{t('call.alone')}</p>}
      <div className="call-controls" role="toolbar" aria-label={t('call.controls')}>
        <button
          type="button"
          className={`button ${view.desired.camera ? '' : 'button-off'}`}
          aria-pressed={view.desired.camera}
          data-testid="toggle-camera"
          onClick={() => void toggle('camera')}
        >
          {view.desired.camera ? t('call.cameraOff') : t('call.cameraOn')}
        </button>
        <button
          type="button"
          className={`button ${view.desired.mic ? '' : 'button-off'}`}
          aria-pressed={view.desired.mic}
          data-testid="toggle-mic"
          onClick={() => void toggle('mic')}
        >
          {view.desired.mic ? t('call.micOff') : t('call.micOn')}
        </button>
        <label className="call-device">
          <span>{t('call.camera')}</span>
          <select
            data-testid="camera-select"
            value={view.cameraId}
            onChange={(e) => void chooseDevice('video', e.target.value)}
          >
            <option value="">{t('call.defaultDevice')}</option>
            {view.devices.cameras.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || t('call.cameraN', { n: i + 1 })}
              </option>
            ))}
          </select>
        </label>
        <label className="call-device">
          <span>{t('call.microphone')}</span>
          <select
            data-testid="mic-select"
            value={view.micId}
            onChange={(e) => void chooseDevice('audio', e.target.value)}
          >
            <option value="">{t('call.defaultDevice')}</option>
            {view.devices.microphones.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || t('call.microphoneN', { n: i + 1 })}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="button button-danger" data-testid="call-leave" onClick={leave}>
          {t('call.leave')}
        </button>
      </div>
      {view.error && <ErrorAlert error={view.error} />}
      <ChatPanel client={view.chat} signedIn={user !== null} hostId={room.ownerId} />
    </section>
  );
}

/** A crossed-out microphone (an SVG: emoji fonts are not everywhere). */
function MutedIcon() {
  return (
    <svg
      viewBox="0 0 24 24"
      width="16"
      height="16"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
    >
      <rect x="9" y="3" width="6" height="11" rx="3" />
      <path d="M5 11a7 7 0 0 0 14 0M12 18v3" />
      <path d="M4 4l16 16" stroke="#ff6b6b" />
    </svg>
  );
}

function initials(name: string): string {
  return (
    name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0]!.toUpperCase())
      .join('') || '?'
  );
}

function useVideo(stream: MediaStream | null) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (!video || video.srcObject === stream) return;
    video.srcObject = stream;
    if (stream) {
      video.play().catch(() => {
        // Autoplay with sound needs a gesture (e.g. after a reload): play muted rather than not at all.
        video.muted = true;
        void video.play().catch(() => undefined);
      });
    }
  }, [stream]);
  return ref;
}

function SelfTile(p: { name: string; stream: MediaStream | null; camera: boolean; mic: boolean; pending: boolean }) {
  const { t } = useTranslation();
  const ref = useVideo(p.stream);
  return (
    <figure className="tile tile-self" data-testid="self-tile" data-camera={p.camera ? 'on' : 'off'}>
      <video ref={ref} muted playsInline autoPlay hidden={!p.camera} />
      {!p.camera && (
        <div className="tile-avatar" aria-hidden="true">
          {initials(p.name)}
        </div>
      )}
      <figcaption>
        {t('call.you', { name: p.name })}
        {!p.mic && (
          <span className="tile-muted" title={t('call.muted')}>
            <MutedIcon />
            <span className="visually-hidden">{t('call.muted')}</span>
          </span>
        )}
        {p.pending && <span className="tile-note">{t('call.applying')}</span>}
      </figcaption>
    </figure>
  );
}

function PeerTile({ peer, stream }: { peer: RemotePeer; stream: MediaStream | null }) {
  const { t } = useTranslation();
  const ref = useVideo(stream);
  const { state, quality } = peer;
  const showVideo = state.media.camera || state.media.screen;
  const away = !state.connected || peer.connection === 'disconnected' || peer.connection === 'failed';
  return (
    <figure
      className={`tile ${away ? 'tile-away' : ''}`}
      data-testid="peer-tile"
      data-peer-id={state.peerId}
      data-name={state.displayName}
      data-camera={state.media.camera ? 'on' : 'off'}
      data-mic={state.media.mic ? 'on' : 'off'}
      data-reconcile={peer.reconcile}
      data-connection={peer.connection}
      data-presence={state.connected ? 'connected' : 'away'}
      data-frames={quality?.videoFrames ?? 0}
      data-route={quality?.localCandidateType ?? ''}
    >
      <ConnectionBadge quality={quality} />
      {/* biome-ignore lint/a11y/useMediaCaption: a live call has no caption track (live captions are future work) */}
      <video ref={ref} playsInline autoPlay hidden={!showVideo} data-testid="peer-video" />
      {!showVideo && (
        <div className="tile-avatar" data-testid="peer-avatar" aria-hidden="true">
          {initials(state.displayName)}
        </div>
      )}
      <figcaption>
        {state.displayName}
        {state.role === 'host' && <span className="badge">{t('call.host')}</span>}
        {!state.media.mic && (
          <span className="tile-muted" data-testid="peer-muted" title={t('call.muted')}>
            <MutedIcon />
            <span className="visually-hidden">{t('call.muted')}</span>
          </span>
        )}
        {away ? (
          <span className="tile-note">{t('call.peerReconnecting')}</span>
        ) : (
          peer.reconcile === 'replay-requested' && <span className="tile-note">{t('call.repairing')}</span>
        )}
      </figcaption>
    </figure>
  );
}
