import {
  type ConnectionQuality,
  connectionQuality,
  isFusionFlowError,
  MediaReporter,
  newTraceparent,
  RetryingWhepPlayer,
  readStatsSample,
  type StatsSample,
} from '@fusionflow/client';
import { type Room, whepUrl } from '@fusionflow/protocol';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { ConnectionBadge, RelayNotice } from './connection-badge';
import { ErrorAlert } from './error-alert';
import { TicketGate } from './ticket-gate';

const RETRY_MS = 3000;
/** The longest wait between two attempts to play. */
const MAX_RETRY_MS = 8000;
const POLL_MS = 5000;
/** How often the connection's quality is measured (getStats). */
const QUALITY_MS = 1000;

/**
 * `ticket`: a paid stream this viewer has no ticket for (the grant answered 402); nothing plays until bought.
 * `full`: the media server refused the viewer (503 sfu_full); the player tries again.
 */
type State = 'waiting' | 'connecting' | 'playing' | 'interrupted' | 'full' | 'ended' | 'ticket';

/** The layers, tallest first (those of unknown height last, as the SFU lists them). */
function byHeight(l: { available: string[]; heights: Record<string, number> }): string[] {
  return [...l.available].sort((a, b) => (l.heights[b] ?? -1) - (l.heights[a] ?? -1));
}

/** A viewer's side of a live room: plays it over WHEP, follows the viewer count, says when it ends. */
export function LivePlayer({
  room,
  onChange,
  onTicket,
}: {
  room: Room;
  onChange: (room: Room) => void;
  /** Told once a ticket is bought here (the room's chat opens to ticket holders only). */
  onTicket?: () => void;
}) {
  const { t } = useTranslation();
  const videoRef = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<State>(room.status === 'ended' ? 'ended' : 'waiting');
  const [viewers, setViewers] = useState(room.viewerCount);
  const [muted, setMuted] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [layers, setLayers] = useState<{
    available: string[];
    current: string | null;
    heights: Record<string, number>;
  }>({ available: [], current: null, heights: {} });
  const [quality, setQuality] = useState<string>('auto');
  const playerRef = useRef<RetryingWhepPlayer | null>(null);
  /** This watch session's media report (join time, route, ICE failures, freezes). */
  const reporterRef = useRef<MediaReporter | null>(null);
  const [connection, setConnection] = useState<ConnectionQuality | null>(null);
  /** The session restarts ICE by itself (ICE disconnected, a network change): say so until it is back. */
  const [reconnecting, setReconnecting] = useState(false);
  /** Bumped after a ticket is bought: connect again. */
  const [attempt, setAttempt] = useState(0);
  const live = room.status === 'live';

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the signal to connect again after a ticket
  useEffect(() => {
    if (!live) return;
    // The join time runs from the player starting (again from there while nobody publishes yet) to the first frame.
    const reporter = new MediaReporter({
      kind: 'watch',
      send: (report, final) => void api.reportMedia(room.id, report, { keepalive: final }).catch(() => undefined),
    });
    reporter.start();
    reporterRef.current = reporter;
    // The SDK's player retries by itself (a full media server, ICE failure, a closed session) with backoff; this
    // decides the rest: what a refusal or the end of a session means for this room.
    const viewer = new RetryingWhepPlayer({
      session: async () => {
        if (!api.session) await api.guest();
        // One trace per play: the grant, the forwarder and the SFU session (when the operator traces).
        const traceparent = newTraceparent();
        const grant = await api.requestGrant(room.id, 'subscribe', { traceparent });
        return {
          url: grant.whepUrl ?? whepUrl(room.id),
          token: grant.token,
          iceServers: grant.iceServers,
          traceparent,
        };
      },
      backoff: { initialMs: RETRY_MS / 2, maxMs: MAX_RETRY_MS },
      retry: async (failure, byDefault) => {
        const err = failure.error;
        if (failure.ice) reporter.iceFailure(failure.ice);
        if (failure.reason === 'waiting') reporter.restartJoinClock();
        if (isFusionFlowError(err, 'room_ended')) {
          setState('ended');
          return false;
        }
        if (isFusionFlowError(err, 'ticket_required')) {
          setState('ticket');
          return false;
        }
        if (failure.reason === 'full') {
          setState('full');
          return true;
        }
        if (failure.reason === 'ended') {
          const r = await api.getRoom(room.id).catch(() => null);
          if (r?.status === 'ended') {
            setState('ended');
            onChange(r);
            return false;
          }
          setState('interrupted');
          return true;
        }
        if (isFusionFlowError(err, 'no_publisher')) setState('waiting');
        else if (!byDefault && err !== undefined) setError(err);
        return true;
      },
    });
    playerRef.current = viewer;
    viewer.on('state', (s) => {
      if (s.state === 'connecting')
        setState((prev) => (prev === 'interrupted' || prev === 'full' ? prev : 'connecting'));
      if (s.state === 'playing') {
        setState('playing');
        setError(null);
      }
    });
    viewer.on('player', (p) => {
      if (videoRef.current && p.stream) videoRef.current.srcObject = p.stream;
      setReconnecting(false);
      p.on('iceRestart', (e) => setReconnecting(e.state === 'restarting'));
    });
    viewer.on('event', (event) => {
      if (event.type === 'viewers') setViewers(event.count);
      if (event.type === 'layers') {
        setLayers({ available: event.available, current: event.current, heights: event.heights ?? {} });
      }
    });
    viewer.start();
    return () => {
      playerRef.current = null;
      reporterRef.current = null;
      reporter.end();
      setConnection(null);
      setReconnecting(false);
      void viewer.stop();
    };
  }, [live, room.id, onChange, attempt]);

  // The connection's quality while playing, about once a second (and what the media report needs of it).
  useEffect(() => {
    if (state !== 'playing') {
      setConnection(null);
      return;
    }
    let previous: { pc: RTCPeerConnection; sample: StatsSample } | undefined;
    let busy = false;
    const timer = setInterval(async () => {
      const pc = playerRef.current?.player?.pc;
      if (!pc || busy) return;
      busy = true;
      try {
        const sample = readStatsSample(await pc.getStats(), performance.now());
        const base = previous?.pc === pc ? previous.sample : undefined;
        previous = { pc, sample };
        setConnection(connectionQuality(sample, base, { expectVideo: true }));
        reporterRef.current?.observe(pc, sample, true);
      } catch {
        // A closed peer connection has no stats: the next player's come next.
      } finally {
        busy = false;
      }
    }, QUALITY_MS);
    return () => clearInterval(timer);
  }, [state]);

  // A reload or a closed tab ends the session at once, not after the media server's ICE timeout:
  // the viewer who comes back is not counted twice meanwhile.
  useEffect(() => {
    const leave = () => {
      reporterRef.current?.end();
      void playerRef.current?.stop();
    };
    window.addEventListener('pagehide', leave);
    return () => window.removeEventListener('pagehide', leave);
  }, []);

  const chooseQuality = (value: string) => {
    setQuality(value);
    playerRef.current?.player?.selectLayer(value === 'auto' ? null : value).catch((err: unknown) => setError(err));
  };

  // The room itself: status (a stream that has not started, or has ended) and viewers.
  useEffect(() => {
    if (room.status === 'ended') {
      setState('ended');
      return;
    }
    const timer = setInterval(() => {
      api.getRoom(room.id).then(
        (r) => {
          setViewers(r.viewerCount);
          if (r.status !== room.status) onChange(r);
        },
        () => {},
      );
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [room.id, room.status, onChange]);

  const message =
    state === 'ended'
      ? t('watch.ended')
      : state === 'interrupted'
        ? t('watch.interrupted')
        : state === 'full'
          ? t('watch.full')
          : state === 'ticket'
            ? null
            : room.status === 'created'
              ? t('watch.notStarted')
              : state === 'playing'
                ? null
                : t('watch.connecting');

  return (
    <section className="watch" aria-label={t('watch.title')} data-testid="watch">
      {state === 'ticket' && (
        <TicketGate
          room={room}
          onEntitled={() => {
            setAttempt((a) => a + 1);
            onTicket?.();
          }}
        />
      )}
      <div className="player" hidden={state === 'ticket'}>
        <video ref={videoRef} autoPlay playsInline muted={muted} data-testid="watch-video" hidden={state === 'ended'} />
        {state === 'playing' && <ConnectionBadge quality={connection} />}
        {state === 'playing' && reconnecting && (
          <p className="player-banner" role="status" data-testid="watch-reconnecting">
            {t('watch.reconnecting')}
          </p>
        )}
        {message && (
          <p className="player-message" data-testid={state === 'ended' ? 'stream-ended' : 'player-status'}>
            {message}
          </p>
        )}
      </div>
      <div className="watch-bar">
        <span data-testid="viewer-count">{t('room.viewers', { count: viewers })}</span>
        {state === 'playing' && layers.available.length > 1 && (
          <label className="quality">
            {t('watch.quality')}{' '}
            <select data-testid="quality" value={quality} onChange={(e) => chooseQuality(e.target.value)}>
              <option value="auto">{t('watch.qualityAuto')}</option>
              {byHeight(layers).map((rid) => (
                <option key={rid} value={rid}>
                  {layers.heights[rid] !== undefined
                    ? t('watch.qualityHeight', { height: layers.heights[rid] })
                    : t('watch.qualityLayer', { rid })}
                </option>
              ))}
            </select>
          </label>
        )}
        {state === 'playing' && (
          <button type="button" className="button" data-testid="unmute" onClick={() => setMuted((m) => !m)}>
            {muted ? t('watch.unmute') : t('watch.mute')}
          </button>
        )}
      </div>
      {state === 'playing' && connection?.localCandidateType === 'relay' && <RelayNotice />}
      <ErrorAlert error={error} />
    </section>
  );
}
