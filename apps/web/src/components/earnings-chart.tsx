import type { EarningsDay } from '@fusionflow/protocol';
import { useTranslation } from 'react-i18next';

const SOURCES = ['tips', 'tickets', 'calls'] as const;

/**
 * Earnings per day as stacked bars (tips, tickets, calls), drawn as plain SVG: a dozen lines here
 * cost less than a chart library in the bundle. The table beside it carries the same numbers for
 * screen readers and for copying.
 */
export function EarningsChart({ days }: { days: EarningsDay[] }) {
  const { t, i18n } = useTranslation();
  // Days are calendar dates (YYYY-MM-DD, UTC): "2 dic." in Spanish, "Dec 2" in English.
  const short = new Intl.DateTimeFormat(i18n.resolvedLanguage, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const long = new Intl.DateTimeFormat(i18n.resolvedLanguage, { dateStyle: 'medium', timeZone: 'UTC' });
  const dateOf = (day: string) => new Date(`${day}T00:00:00Z`);
  const max = Math.max(1, ...days.map((d) => d.total));
  const width = 640;
  const height = 180;
  const barWidth = days.length > 0 ? Math.max(4, Math.min(40, (width - 20) / days.length - 4)) : 0;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height + 20}`}
        role="img"
        aria-label={t('earnings.chartLabel')}
        data-testid="earnings-chart"
      >
        <line x1="0" y1={height} x2={width} y2={height} className="chart-axis" />
        {days.map((day, i) => {
          const x = 10 + i * (barWidth + 4);
          let y = height;
          return (
            <g key={day.day}>
              <title>{`${long.format(dateOf(day.day))}: ${day.total}`}</title>
              {SOURCES.map((source) => {
                const h = (day[source] / max) * (height - 10);
                y -= h;
                return h > 0 ? (
                  <rect key={source} x={x} y={y} width={barWidth} height={h} className={`chart-${source}`} />
                ) : null;
              })}
              <text x={x + barWidth / 2} y={height + 14} textAnchor="middle" className="chart-label">
                {short.format(dateOf(day.day))}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        {SOURCES.map((source) => (
          <span key={source}>
            <span className={`chart-swatch chart-${source}`} aria-hidden="true" /> {t(`earnings.sources.${source}`)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
