import type { Payout } from '@fusionflow/protocol';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { wallet } from '../api';
import { ErrorAlert } from '../components/error-alert';
import { formatDateTime, formatTokens } from '../components/format';
import { useSession } from '../session/session-context';

/** Admins: the queue of payout requests, approved or rejected with a note. */
export function AdminPayoutsPage() {
  const { t, i18n } = useTranslation();
  const { user } = useSession();
  const [status, setStatus] = useState<Payout['status']>('pending');
  const [payouts, setPayouts] = useState<Payout[]>([]);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      setPayouts(await wallet.payoutQueue(status));
    } catch (err) {
      setError(err);
    }
  }, [status]);
  useEffect(() => {
    void load();
  }, [load]);

  if (user?.role !== 'admin') return <p>{t('admin.onlyAdmins')}</p>;

  const decide = async (payout: Payout, decision: 'approve' | 'reject') => {
    setError(null);
    try {
      const note = notes[payout.id]?.trim();
      await wallet.decidePayout(payout.id, { decision, ...(note ? { note } : {}) });
      await load();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div>
      <title>{`${t('admin.payoutsTitle')} · ${t('app.name')}`}</title>
      <h1>{t('admin.payoutsTitle')}</h1>
      <div className="field inline">
        <label htmlFor="payout-status">{t('payouts.status')}</label>
        <select id="payout-status" value={status} onChange={(e) => setStatus(e.target.value as Payout['status'])}>
          {(['pending', 'approved', 'rejected'] as const).map((s) => (
            <option key={s} value={s}>
              {t(`payouts.statuses.${s}`)}
            </option>
          ))}
        </select>
      </div>
      <ErrorAlert error={error} />
      {payouts.length === 0 ? (
        <p className="muted">{t('admin.noPayouts')}</p>
      ) : (
        <table className="table" data-testid="payout-queue">
          <thead>
            <tr>
              <th scope="col">{t('payouts.requested')}</th>
              <th scope="col">{t('earnings.streamer')}</th>
              <th scope="col">{t('payouts.source')}</th>
              <th scope="col" className="num">
                {t('payouts.amount')}
              </th>
              <th scope="col">{t('payouts.note')}</th>
              {status === 'pending' && <th scope="col">{t('admin.decision')}</th>}
            </tr>
          </thead>
          <tbody>
            {payouts.map((p) => (
              <tr key={p.id}>
                <td>{formatDateTime(p.createdAt, i18n.resolvedLanguage)}</td>
                <td>{p.displayName}</td>
                <td>{t(`payouts.sources.${p.source}`)}</td>
                <td className="num">{formatTokens(p.amount, i18n.resolvedLanguage)}</td>
                <td>
                  {status === 'pending' ? (
                    <input
                      aria-label={t('payouts.noteFor', { name: p.displayName })}
                      maxLength={500}
                      value={notes[p.id] ?? ''}
                      onChange={(e) => setNotes({ ...notes, [p.id]: e.target.value })}
                    />
                  ) : (
                    (p.note ?? '')
                  )}
                </td>
                {status === 'pending' && (
                  <td className="actions">
                    <button type="button" className="button button-primary" onClick={() => void decide(p, 'approve')}>
                      {t('admin.approve')}
                    </button>
                    <button type="button" className="button button-danger" onClick={() => void decide(p, 'reject')}>
                      {t('admin.reject')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
