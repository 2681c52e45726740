import type { ConnectionQuality } from '@fusionflow/client';
import { useTranslation } from 'react-i18next';

const BARS = { good: 3, fair: 2, poor: 1 } as const;

/**
 * How a media connection is doing (a call tile's, the player's): signal bars and a word (good, fair, poor), "Relay"
 * when the media goes through TURN, and the numbers behind it in the tooltip and the accessible name. Nothing while
 * nothing is measured yet.
 */
export function ConnectionBadge({ quality }: { quality: ConnectionQuality | null }) {
  const { t } = useTranslation();
  if (!quality || quality.level === 'unknown') return null;
  const level = quality.level;
  const details = [
    quality.lossPercent !== null ? t('connection.loss', { value: quality.lossPercent }) : null,
    quality.rttMs !== null ? t('connection.rtt', { value: quality.rttMs }) : null,
    quality.framesPerSecond !== null ? t('connection.fps', { value: Math.round(quality.framesPerSecond) }) : null,
    quality.path ? t(`connection.${quality.path}`) : null,
  ].filter((d): d is string => d !== null);
  const label = t('connection.label', {
    summary: t(`connection.summary.${level}`),
    details: details.length > 0 ? details.join(', ') : t('connection.notMeasured'),
  });
  return (
    <span
      className={`connection-badge connection-badge-${level}`}
      role="img"
      aria-label={label}
      title={label}
      data-testid="connection-quality"
      data-level={level}
      data-path={quality.path ?? ''}
      data-loss={quality.lossPercent ?? ''}
      data-rtt={quality.rttMs ?? ''}
      data-fps={quality.framesPerSecond ?? ''}
      data-frames={quality.framesDecoded}
    >
      <svg viewBox="0 0 12 10" width="12" height="10" aria-hidden="true">
        {[0, 1, 2].map((i) => (
          <rect
            key={i}
            x={i * 4}
            y={6 - i * 3}
            width="3"
            height={4 + i * 3}
            rx="0.5"
            fill="currentColor"
            opacity={i < BARS[level] ? 1 : 0.3}
          />
        ))}
      </svg>
      <span aria-hidden="true">{t(`connection.${level}`)}</span>
      {quality.path === 'relay' && (
        <span className="connection-badge-relay" aria-hidden="true">
          {t('connection.relayShort')}
        </span>
      )}
    </span>
  );
}

/** Said once the media goes through the relay because this side's network allows nothing else. */
export function RelayNotice() {
  const { t } = useTranslation();
  return (
    <p className="relay-notice" role="status" data-testid="relay-notice">
      {t('connection.relayNotice')}
    </p>
  );
}
