import { newIdempotencyKey } from '@fusionflow/client';
import type { EarningsResponse, Payout, StudioEarningsResponse } from '@fusionflow/protocol';
import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { wallet } from '../api';
import { EarningsChart } from '../components/earnings-chart';
import { ErrorAlert } from '../components/error-alert';
import { formatDateTime, formatTokens } from '../components/format';
import { PlatformFee } from '../components/platform-fee';
import { useSession } from '../session/session-context';

/** For streamers and studios: earnings by day and source, payout requests and their status. */
export function EarningsPage() {
  const { t } = useTranslation();
  const { user } = useSession();
  const [days, setDays] = useState(30);
  const [earnings, setEarnings] = useState<EarningsResponse | null>(null);
  const [studio, setStudio] = useState<StudioEarningsResponse | null>(null);
  const [payouts, setPayouts] = useState<Payout[]>([]);
  const [error, setError] = useState<unknown>(null);
  const isStudio = user?.role === 'studio';

  const load = useCallback(async () => {
    try {
      setEarnings(await wallet.earnings(days));
      if (isStudio) setStudio(await wallet.studioEarnings(days));
      setPayouts(await wallet.myPayouts());
    } catch (err) {
      setError(err);
    }
  }, [days, isStudio]);
  useEffect(() => {
    void load();
  }, [load]);

  if (user && !['streamer', 'studio', 'admin'].includes(user.role)) {
    return (
      <div className="narrow">
        <h1>{t('earnings.title')}</h1>
        <p>{t('earnings.notAStreamer')}</p>
      </div>
    );
  }

  return (
    <div className="earnings">
      <title>{`${t('earnings.title')} · ${t('app.name')}`}</title>
      <h1>{t('earnings.title')}</h1>
      <PlatformFee on="earnings" />
      <p className="hint">{t('earnings.apartFromWallet')}</p>
      <ErrorAlert error={error} />
      <div className="field inline">
        <label htmlFor="earnings-days">{t('earnings.period')}</label>
        <select id="earnings-days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
          {[7, 30, 90, 365].map((d) => (
            <option key={d} value={d}>
              {t('earnings.lastDays', { count: d })}
            </option>
          ))}
        </select>
      </div>
      {earnings && <EarningsSummary earnings={earnings} />}
      {studio && <StudioSummary studio={studio} />}
      <PayoutForm
        available={earnings?.available ?? 0}
        studioAvailable={studio?.available ?? null}
        onRequested={() => void load()}
      />
      <PayoutList payouts={payouts} />
    </div>
  );
}

function EarningsSummary({ earnings }: { earnings: EarningsResponse }) {
  const { t, i18n } = useTranslation();
  const fmt = (n: number) => formatTokens(n, i18n.resolvedLanguage);
  return (
    <section aria-labelledby="earnings-summary" className="wallet-section">
      <h2 id="earnings-summary">{t('earnings.summary')}</h2>
      <dl className="facts" data-testid="earnings-totals">
        <dt>{t('earnings.available')}</dt>
        <dd data-testid="earnings-available">{fmt(earnings.available)}</dd>
        <dt>{t('earnings.pending')}</dt>
        <dd>{fmt(earnings.pendingPayouts)}</dd>
        <dt>{t('earnings.sources.tips')}</dt>
        <dd data-testid="earnings-tips">{fmt(earnings.totals.tips)}</dd>
        <dt>{t('earnings.sources.tickets')}</dt>
        <dd>{fmt(earnings.totals.tickets)}</dd>
        <dt>{t('earnings.sources.calls')}</dt>
        <dd>{fmt(earnings.totals.calls)}</dd>
        <dt>{t('earnings.total')}</dt>
        <dd>{fmt(earnings.totals.total)}</dd>
      </dl>
      {earnings.days.length > 0 ? (
        <EarningsChart days={earnings.days} />
      ) : (
        <p className="muted">{t('earnings.none')}</p>
      )}
    </section>
  );
}

function StudioSummary({ studio }: { studio: StudioEarningsResponse }) {
  const { t, i18n } = useTranslation();
  const fmt = (n: number) => formatTokens(n, i18n.resolvedLanguage);
  return (
    <section aria-labelledby="studio-summary" className="wallet-section">
      <h2 id="studio-summary">{t('earnings.studioTitle')}</h2>
      <p>{t('earnings.studioAvailable', { amount: fmt(studio.available) })}</p>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">{t('earnings.streamer')}</th>
            <th scope="col" className="num">
              {t('earnings.streamerEarnings')}
            </th>
            <th scope="col" className="num">
              {t('earnings.studioShare')}
            </th>
          </tr>
        </thead>
        <tbody>
          {studio.streamers.map((s) => (
            <tr key={s.userId}>
              <td>{s.displayName}</td>
              <td className="num">{fmt(s.streamerEarnings)}</td>
              <td className="num">{fmt(s.studioShare)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function PayoutForm(props: { available: number; studioAvailable: number | null; onRequested: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [amount, setAmount] = useState(0);
  const [source, setSource] = useState<'earnings' | 'studio'>('earnings');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const key = useRef(newIdempotencyKey());
  const max = source === 'studio' ? (props.studioAvailable ?? 0) : props.available;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await wallet.requestPayout({ amount, source }, key.current);
      key.current = newIdempotencyKey();
      setAmount(0);
      props.onRequested();
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <form className="form wallet-section" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('payouts.request')}</h2>
      <ErrorAlert error={error} />
      {props.studioAvailable !== null && (
        <div className="field">
          <label htmlFor={`${id}-source`}>{t('payouts.source')}</label>
          <select
            id={`${id}-source`}
            value={source}
            onChange={(e) => setSource(e.target.value as 'earnings' | 'studio')}
          >
            <option value="earnings">{t('payouts.sources.earnings')}</option>
            <option value="studio">{t('payouts.sources.studio')}</option>
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-amount`}>{t('payouts.amount')}</label>
        <input
          id={`${id}-amount`}
          type="number"
          min={1}
          max={Math.max(1, max)}
          step={1}
          required
          value={amount || ''}
          onChange={(e) => {
            setAmount(Math.floor(Number(e.target.value) || 0));
            key.current = newIdempotencyKey();
          }}
        />
        <p className="hint">{t('payouts.availableHint', { count: max })}</p>
      </div>
      <button type="submit" className="button button-primary" disabled={pending || amount < 1 || amount > max}>
        {t('payouts.submit')}
      </button>
    </form>
  );
}

function PayoutList({ payouts }: { payouts: Payout[] }) {
  const { t, i18n } = useTranslation();
  if (payouts.length === 0) return null;
  return (
    <section aria-labelledby="payouts-title" className="wallet-section">
      <h2 id="payouts-title">{t('payouts.mine')}</h2>
      <table className="table" data-testid="my-payouts">
        <thead>
          <tr>
            <th scope="col">{t('payouts.requested')}</th>
            <th scope="col" className="num">
              {t('payouts.amount')}
            </th>
            <th scope="col">{t('payouts.status')}</th>
            <th scope="col">{t('payouts.note')}</th>
          </tr>
        </thead>
        <tbody>
          {payouts.map((p) => (
            <tr key={p.id}>
              <td>{formatDateTime(p.createdAt, i18n.resolvedLanguage)}</td>
              <td className="num">{formatTokens(p.amount, i18n.resolvedLanguage)}</td>
              <td>{t(`payouts.statuses.${p.status}`)}</td>
              <td>{p.note ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
