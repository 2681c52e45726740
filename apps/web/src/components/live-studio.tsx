import {
  backoffDelay,
  classifyWhepError,
  isFusionFlowError,
  MediaReporter,
  newTraceparent,
  readStatsSample,
  WhipPublisher,
} from '@fusionflow/client';
import { type Room, type StreamKeyInfo, whipUrl } from '@fusionflow/protocol';
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { ConfirmDialog } from './confirm-dialog';
import { RelayNotice } from './connection-badge';
import { ErrorAlert } from './error-alert';

/**
 * Two simulcast layers, so viewers on weak connections get the smaller one (the SFU picks per viewer
 * from its bandwidth estimate, or the viewer chooses). Browsers send only the layers the camera's
 * resolution allows.
 */
const SIMULCAST: RTCRtpEncodingParameters[] = [
  { rid: 'h', maxBitrate: 1_500_000 },
  { rid: 'l', scaleResolutionDownBy: 2, maxBitrate: 300_000 },
];

/** How often the room is fetched again while live (status and viewer count). */
const POLL_MS = 3000;
/**
 * Going live again by itself (the publisher's own ICE restart failed, as after a network switch): Chromium fails the
 * first requests after a network change, so a network error or a busy server is retried this many times (backoff up
 * to 4 s) before the studio gives up and shows the error.
 */
const AUTO_ATTEMPTS = 8;
/** How often the live connection's stats are read for the media report (the route its ICE took). */
const STATS_MS = 1000;

type Phase = 'preview' | 'connecting' | 'live' | 'stopping';

/** A studio hidden while live (a reload) goes live again by itself when it loads within this time. */
const RESUME_WITHIN_MS = 60_000;
const resumeKey = (roomId: string) => `fusionflow.studio.resume.${roomId}`;

function markResume(roomId: string): void {
  try {
    sessionStorage.setItem(resumeKey(roomId), String(Date.now()));
  } catch {
    // Storage refused (private mode): the streamer presses Go live again.
  }
}

/** Whether this page load follows a reload of a live studio (and forget it: it holds once). */
function takeResume(roomId: string): boolean {
  try {
    const at = Number(sessionStorage.getItem(resumeKey(roomId)));
    sessionStorage.removeItem(resumeKey(roomId));
    return at > 0 && Date.now() - at < RESUME_WITHIN_MS;
  } catch {
    return false;
  }
}

function CopyField({
  label,
  value,
  testId,
  secret = false,
}: {
  label: string;
  value: string;
  testId: string;
  /** Hidden (dots) until "Show": a stream key on a shared screen is a stolen stream. */
  secret?: boolean;
}) {
  const { t } = useTranslation();
  const id = useId();
  const [copied, setCopied] = useState(false);
  const [shown, setShown] = useState(!secret);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input
          id={id}
          readOnly
          type={shown ? 'text' : 'password'}
          value={value}
          data-testid={testId}
          onFocus={(e) => e.currentTarget.select()}
        />
        {secret && (
          <button
            type="button"
            className="button"
            data-testid={`${testId}-show`}
            aria-pressed={shown}
            onClick={() => setShown((v) => !v)}
          >
            {shown ? t('studio.hide') : t('studio.show')}
          </button>
        )}
        <button type="button" className="button" onClick={() => void copy()}>
          {copied ? t('studio.copied') : t('studio.copy')}
        </button>
      </div>
    </div>
  );
}

/** The streamer's side of a live room: preview with device pickers, Go live / Stop, encoder settings. */
export function LiveStudio({ room, onChange }: { room: Room; onChange: (room: Room) => void }) {
  const { t } = useTranslation();
  const videoRef = useRef<HTMLVideoElement>(null);
  const publisher = useRef<WhipPublisher | null>(null);
  /**
   * This broadcast's media report (kind `publish`): the route each WHIP connection took and its ICE failures, sent
   * when the broadcast stops. One per Go live; going live again by itself keeps it (a new connection is counted too).
   */
  const reporter = useRef<MediaReporter | null>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [cameraId, setCameraId] = useState('');
  const [micId, setMicId] = useState('');
  const [phase, setPhase] = useState<Phase>('preview');
  const [viewers, setViewers] = useState(room.viewerCount);
  const [error, setError] = useState<unknown>(null);
  const [keyInfo, setKeyInfo] = useState<StreamKeyInfo | null>(null);
  const [streamKey, setStreamKey] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  /** The publisher restarts ICE by itself (ICE disconnected, a network change): say so until it is back. */
  const [reconnecting, setReconnecting] = useState(false);
  /** The live connection's ICE took the relay (TURN): this network allows nothing else. */
  const [relayed, setRelayed] = useState(false);
  const cameraSelect = useId();
  const micSelect = useId();
  const ended = room.status === 'ended';

  // Camera and microphone preview, following the pickers.
  useEffect(() => {
    if (ended) return;
    let cancelled = false;
    let opened: MediaStream | null = null;
    navigator.mediaDevices
      .getUserMedia({
        video: cameraId ? { deviceId: { exact: cameraId } } : true,
        audio: micId ? { deviceId: { exact: micId } } : true,
      })
      .then(async (s) => {
        if (cancelled) {
          for (const track of s.getTracks()) track.stop();
          return;
        }
        opened = s;
        setStream(s);
        setDevices(await navigator.mediaDevices.enumerateDevices());
        // Switching devices while live swaps the tracks without a new session.
        const pc = publisher.current?.pc;
        if (pc) {
          for (const sender of pc.getSenders()) {
            const next = s.getTracks().find((tr) => tr.kind === sender.track?.kind);
            if (next) await sender.replaceTrack(next);
          }
        }
      })
      .catch((err: unknown) => !cancelled && setError(err));
    return () => {
      cancelled = true;
      if (opened && !publisher.current) for (const track of opened.getTracks()) track.stop();
    };
  }, [cameraId, micId, ended]);

  useEffect(() => {
    if (videoRef.current) videoRef.current.srcObject = stream;
  }, [stream]);

  // Leaving the studio inside the app ends the stream (DELETE). A reload or a closed tab only drops it: the media
  // server keeps the broadcast and its recording for its grace period, viewers wait, and a reloaded studio goes live
  // again by itself (the same broadcast, the same recording).
  useEffect(() => {
    const leave = () => {
      reporter.current?.end();
      reporter.current = null;
      void publisher.current?.stop();
      publisher.current = null;
    };
    const hide = () => {
      const p = publisher.current;
      publisher.current = null;
      if (p) markResume(room.id);
      void p?.drop();
    };
    window.addEventListener('pagehide', hide);
    return () => {
      window.removeEventListener('pagehide', hide);
      leave();
    };
  }, [room.id]);
  useEffect(
    () => () => {
      for (const tr of stream?.getTracks() ?? []) tr.stop();
    },
    [stream],
  );

  // Leaving the page while live asks first (the browser shows its own prompt).
  const live = phase === 'live';
  useEffect(() => {
    if (!live) return;
    const ask = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [live]);

  // While live, the connection's stats for the media report (which local candidate type its ICE chose).
  useEffect(() => {
    if (!live) {
      setRelayed(false);
      return;
    }
    let busy = false;
    const timer = setInterval(async () => {
      const pc = publisher.current?.pc;
      if (!pc || busy) return;
      busy = true;
      try {
        const sample = readStatsSample(await pc.getStats(), performance.now());
        setRelayed(sample.localCandidateType === 'relay');
        reporter.current?.observe(pc, sample, false);
      } catch {
        // A closed peer connection has no stats: the next one's come next.
      } finally {
        busy = false;
      }
    }, STATS_MS);
    return () => clearInterval(timer);
  }, [live]);

  // Room status and viewer count (an encoder such as OBS may be the one streaming).
  useEffect(() => {
    if (ended) return;
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
  }, [ended, room.id, room.status, onChange]);

  useEffect(() => {
    if (ended) return;
    api.getStreamKeyInfo(room.id).then(setKeyInfo, () => {});
  }, [room.id, ended]);

  /** `attempt` > 0: the studio goes live again by itself (see AUTO_ATTEMPTS); 0: the streamer pressed Go live. */
  const goLive = async (attempt = 0) => {
    clearTimeout(retry.current);
    if (!stream) return;
    setError(null);
    setReconnecting(false);
    setPhase('connecting');
    if (attempt === 0 || !reporter.current) {
      reporter.current?.end();
      reporter.current = new MediaReporter({
        kind: 'publish',
        send: (report, final) => void api.reportMedia(room.id, report, { keepalive: final }).catch(() => undefined),
      });
    }
    try {
      const traceparent = newTraceparent();
      const grant = await api.requestGrant(room.id, 'publish', { traceparent });
      const p = new WhipPublisher(
        {
          url: grant.whipUrl ?? whipUrl(room.id),
          token: grant.token,
          iceServers: grant.iceServers,
          traceparent,
        },
        stream,
        SIMULCAST,
      );
      p.on('session', (event) => {
        if (event.type === 'viewers') setViewers(event.count);
        if (event.type === 'ended') {
          reporter.current?.end();
          reporter.current = null;
          setPhase('preview');
        }
      });
      // The publisher restarts ICE itself on a network change; when that fails, go live again with a fresh grant.
      p.on('iceRestart', (event) => {
        if (publisher.current !== p) return;
        setReconnecting(event.state === 'restarting');
        if (event.state !== 'failed') return;
        reporter.current?.iceFailure('restart_failed');
        publisher.current = null;
        void p.stop().then(() => goLiveAgain.current(1));
      });
      publisher.current = p;
      await p.start();
      setPhase('live');
    } catch (err) {
      await publisher.current?.stop();
      publisher.current = null;
      const failure = classifyWhepError(err).reason;
      // Going live again by itself, the dropped session may not be gone from the media server yet (`publisher_exists`).
      const passing =
        ['network', 'unavailable', 'full'].includes(failure) || isFusionFlowError(err, 'publisher_exists');
      if (attempt > 0 && attempt < AUTO_ATTEMPTS && passing) {
        retry.current = setTimeout(
          () => void goLiveAgain.current(attempt + 1),
          backoffDelay(attempt - 1, { maxMs: 4000 }),
        );
        return;
      }
      reporter.current?.end();
      reporter.current = null;
      setError(err);
      setPhase('preview');
    }
  };
  const retry = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(retry.current), []);

  // The latest render's goLive (its stream follows the device pickers).
  const goLiveAgain = useRef(goLive);
  goLiveAgain.current = goLive;

  // Back from a reload while live: on air again as soon as the camera is open.
  const resume = useRef(takeResume(room.id));
  useEffect(() => {
    if (!stream || !resume.current) return;
    resume.current = false;
    if (room.status === 'live') void goLiveAgain.current(1);
  }, [stream, room.status]);

  const stop = async () => {
    clearTimeout(retry.current);
    setPhase('stopping');
    setError(null);
    const p = publisher.current;
    publisher.current = null;
    reporter.current?.end();
    reporter.current = null;
    await p?.stop();
    try {
      onChange(await api.endRoom(room.id));
    } catch (err) {
      if (!isFusionFlowError(err, 'room_ended')) setError(err);
    }
    setPhase('preview');
  };

  const makeKey = async () => {
    try {
      const created = await api.createStreamKey(room.id);
      setStreamKey(created.streamKey);
      setKeyInfo({ exists: true, createdAt: created.createdAt, whipUrl: created.whipUrl });
    } catch (err) {
      setError(err);
    }
  };

  if (ended) return null;
  const cameras = devices.filter((d) => d.kind === 'videoinput');
  const mics = devices.filter((d) => d.kind === 'audioinput');
  return (
    <section className="studio" aria-label={t('studio.title')} data-testid="studio">
      <div className="studio-main">
        <div className="player">
          <video ref={videoRef} autoPlay muted playsInline data-testid="studio-preview" />
          {phase === 'live' && (
            <span className="on-air" data-testid="on-air">
              {t('studio.onAir')}
            </span>
          )}
          {phase === 'live' && reconnecting && (
            <p className="player-banner" role="status" data-testid="studio-reconnecting">
              {t('studio.reconnecting')}
            </p>
          )}
        </div>
        <div className="studio-controls">
          <div className="field">
            <label htmlFor={cameraSelect}>{t('studio.camera')}</label>
            <select id={cameraSelect} value={cameraId} onChange={(e) => setCameraId(e.target.value)}>
              <option value="">{t('studio.defaultDevice')}</option>
              {cameras.map((d, i) => (
                <option key={d.deviceId || i} value={d.deviceId}>
                  {d.label || t('studio.cameraN', { n: i + 1 })}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={micSelect}>{t('studio.microphone')}</label>
            <select id={micSelect} value={micId} onChange={(e) => setMicId(e.target.value)}>
              <option value="">{t('studio.defaultDevice')}</option>
              {mics.map((d, i) => (
                <option key={d.deviceId || i} value={d.deviceId}>
                  {d.label || t('studio.microphoneN', { n: i + 1 })}
                </option>
              ))}
            </select>
          </div>
          <p data-testid="viewer-count">{t('room.viewers', { count: viewers })}</p>
          {phase === 'live' || phase === 'stopping' ? (
            <button
              type="button"
              className="button button-danger"
              data-testid="stop-live"
              disabled={phase === 'stopping'}
              onClick={() => setConfirming(true)}
            >
              {phase === 'stopping' ? t('studio.stopping') : t('studio.stop')}
            </button>
          ) : (
            <button
              type="button"
              className="button button-primary"
              data-testid="go-live"
              disabled={!stream || phase === 'connecting'}
              onClick={() => void goLive()}
            >
              {phase === 'connecting' ? t('room.going') : t('room.goLive')}
            </button>
          )}
        </div>
      </div>
      {confirming && (
        <ConfirmDialog
          title={t('studio.stopConfirmTitle')}
          confirmLabel={t('studio.stopConfirm')}
          cancelLabel={t('studio.keepStreaming')}
          testIdPrefix="stop"
          onConfirm={() => {
            setConfirming(false);
            void stop();
          }}
          onCancel={() => setConfirming(false)}
        />
      )}
      {phase === 'live' && relayed && <RelayNotice />}
      <ErrorAlert error={error} />
      <details className="encoder">
        <summary>{t('studio.encoderTitle')}</summary>
        <p className="muted">{t('studio.encoderHelp')}</p>
        {keyInfo && <CopyField label={t('studio.whipUrl')} value={keyInfo.whipUrl} testId="whip-url" />}
        {streamKey ? (
          <CopyField label={t('studio.streamKey')} value={streamKey} testId="stream-key" secret />
        ) : (
          <p className="muted">{keyInfo?.exists ? t('studio.keyHidden') : t('studio.noKey')}</p>
        )}
        <button type="button" className="button" data-testid="make-stream-key" onClick={() => void makeKey()}>
          {keyInfo?.exists ? t('studio.resetKey') : t('studio.makeKey')}
        </button>
      </details>
    </section>
  );
}
