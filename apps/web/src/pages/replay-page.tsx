import { isFusionFlowError } from '@fusionflow/client';
import { ReplayPlayback as Playback, Replay, ReplayChat, type Room } from '@fusionflow/protocol';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { api } from '../api';
import { ErrorAlert } from '../components/error-alert';
import { formatDateTime, formatDuration } from '../components/format';
import { TicketGate } from '../components/ticket-gate';
import { NotFoundPage } from './not-found-page';

type ReplayMessage = ReplayChat['messages'][number];

/** A recorded broadcast: the video (seekable) with its chat replaying in time with it. */
export function ReplayPage() {
  const { id = '' } = useParams();
  const { t, i18n } = useTranslation();
  const videoRef = useRef<HTMLVideoElement>(null);
  const [replay, setReplay] = useState<Replay | null>(null);
  const [url, setUrl] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [messages, setMessages] = useState<ReplayMessage[]>([]);
  const [nowMs, setNowMs] = useState(0);
  /** The playback was refused with 402 ticket_required: the ticket gate shows, then playback is asked again. */
  const [needsTicket, setNeedsTicket] = useState(false);
  /** Bumped when a ticket is bought: asks for playback and chat again. */
  const [attempt, setAttempt] = useState(0);
  const path = `/api/replays/${encodeURIComponent(id)}`;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the signal to ask again after a ticket
  useEffect(() => {
    let cancelled = false;
    api.request({ method: 'GET', path, schema: Replay, auth: true }).then(
      async (r) => {
        if (cancelled) return;
        setReplay(r);
        try {
          const p = await api.request({ method: 'POST', path: `${path}/playback`, schema: Playback, auth: true });
          if (!cancelled) setUrl(p.url);
          const lang = encodeURIComponent(i18n.resolvedLanguage ?? 'en');
          const chat = await api.request({
            method: 'GET',
            path: `${path}/chat?lang=${lang}`,
            schema: ReplayChat,
            auth: true,
          });
          if (!cancelled) setMessages(chat.messages);
        } catch (err) {
          if (cancelled) return;
          if (isFusionFlowError(err, 'ticket_required')) setNeedsTicket(true);
          else setError(err);
        }
      },
      (err: unknown) => {
        if (cancelled) return;
        // The API answers a missing, deleted or hidden replay with recording_not_found.
        if (isFusionFlowError(err, 'not_found', 'recording_not_found')) setMissing(true);
        else setError(err);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [path, i18n.resolvedLanguage, attempt]);

  if (missing) return <NotFoundPage />;
  const follow = () => setNowMs((videoRef.current?.currentTime ?? 0) * 1000);
  const shown = messages.filter((m) => m.offsetMs <= nowMs);
  return (
    <article className="room">
      {replay && <title>{`${replay.title} · ${t('app.name')}`}</title>}
      {replay && (
        <header className="room-head">
          <h1>{replay.title}</h1>
          <p className="room-host">{replay.ownerName}</p>
          <p className="hint" data-testid="replay-facts">
            {formatDateTime(replay.startedAt ?? replay.createdAt, i18n.resolvedLanguage)}
            {replay.durationMs !== null && ` · ${formatDuration(replay.durationMs)}`}
          </p>
        </header>
      )}
      <ErrorAlert error={error} />
      {replay && needsTicket && (
        <TicketGate
          room={ticketRoom(replay)}
          onEntitled={() => {
            setNeedsTicket(false);
            setAttempt((n) => n + 1);
          }}
        />
      )}
      <div className="room-live">
        <div className="player">
          {url && (
            // biome-ignore lint/a11y/useMediaCaption: recordings have no caption track yet; the chat replays beside it
            <video
              ref={videoRef}
              data-testid="replay-video"
              controls
              src={url}
              onTimeUpdate={follow}
              onSeeked={follow}
            />
          )}
        </div>
        <ol className="chat-messages" data-testid="replay-chat">
          {shown.map((m) => (
            <li key={m.id}>
              <strong>{m.author.displayName}</strong> {m.translation?.text ?? m.text}
            </li>
          ))}
        </ol>
      </div>
    </article>
  );
}

/** The ticket gate sells the broadcast's room ticket: the replay carries what it shows (id, title, price). */
function ticketRoom(replay: Replay): Room {
  return { id: replay.roomId, title: replay.title, ticketPrice: replay.ticketPrice } as Room;
}
