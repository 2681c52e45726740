import type { CreateRoomRequest, Room, BroadcastSummary as Summary } from '@fusionflow/protocol';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api } from '../api';
import { ErrorAlert } from './error-alert';
import { formatDuration, formatTokens } from './format';

/**
 * The streamer's end-of-broadcast summary of their ended live room: how long it ran, peak and average
 * viewers, what tips and tickets earned them (after the platform fee), the chat messages; and "Go live
 * again", a new live room with the same title, ticket price and recording setting, opened in the studio.
 */
export function BroadcastSummary({ room }: { room: Room }) {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const lang = i18n.resolvedLanguage;
  const [summary, setSummary] = useState<Summary | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<unknown>(null);

  useEffect(() => {
    let current = true;
    setSummary(null);
    setLoadError(null);
    api.getRoomSummary(room.id).then(
      (s) => current && setSummary(s),
      (err: unknown) => current && setLoadError(err),
    );
    return () => {
      current = false;
    };
  }, [room.id]);

  const tokens = (amount: number) => t('wallet.tokens', { count: amount, formatted: formatTokens(amount, lang) });
  const count = (n: number) => formatTokens(n, lang);
  const average = (n: number) => new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(n);

  const goLiveAgain = async () => {
    setStarting(true);
    setStartError(null);
    const request: CreateRoomRequest = { kind: 'live', title: room.title, record: room.record };
    if (room.ticketPrice !== null) request.ticketPrice = room.ticketPrice;
    try {
      const next = await api.createRoom(request);
      navigate(`/rooms/${encodeURIComponent(next.id)}`);
    } catch (err) {
      setStartError(err);
      setStarting(false);
    }
  };

  return (
    <section className="stage stage-ended broadcast-summary" data-testid="broadcast-summary">
      <div>
        <p>{t('room.broadcastEnded')}</p>
        {room.startedAt && room.endedAt && (
          <p data-testid="broadcast-duration">
            {t('room.broadcastDuration', {
              duration: formatDuration(Date.parse(room.endedAt) - Date.parse(room.startedAt)),
            })}
          </p>
        )}
        <ErrorAlert error={loadError} />
        {summary === null && !loadError && <p>{t('app.loading')}</p>}
        {summary && (
          <dl className="facts" aria-label={t('room.summary.title')} data-testid="broadcast-stats">
            <dt>{t('room.summary.peakViewers')}</dt>
            <dd data-testid="summary-peak-viewers">{count(summary.peakViewers)}</dd>
            <dt>{t('room.summary.averageViewers')}</dt>
            <dd data-testid="summary-average-viewers">{average(summary.averageViewers)}</dd>
            <dt>{t('room.summary.tipsEarned')}</dt>
            <dd data-testid="summary-tips-earned">{tokens(summary.tipsEarned)}</dd>
            <dt>{t('room.summary.tickets')}</dt>
            <dd data-testid="summary-tickets">
              {t('room.summary.ticketsSoldEarned', {
                count: summary.ticketsSold,
                sold: count(summary.ticketsSold),
                earned: tokens(summary.ticketsEarned),
              })}
            </dd>
            <dt>{t('room.summary.messages')}</dt>
            <dd data-testid="summary-messages">{count(summary.messages)}</dd>
          </dl>
        )}
        <p className="muted">{t('room.summary.afterFee')}</p>
        <ErrorAlert error={startError} />
        <button
          type="button"
          className="button button-primary"
          disabled={starting}
          onClick={() => void goLiveAgain()}
          data-testid="go-live-again"
        >
          {starting ? t('room.summary.goingLiveAgain') : t('room.summary.goLiveAgain')}
        </button>
      </div>
    </section>
  );
}
