import type { LedgerTransactionView, TransactionKind } from '@fusionflow/protocol';
import { useCallback, useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { wallet } from '../api';
import { ErrorAlert } from '../components/error-alert';
import { formatDateTime, formatTokens } from '../components/format';
import { TransactionKindField } from '../components/transaction-kind-field';
import { useSession } from '../session/session-context';

/** Admins: every ledger transaction with its entries, actor, request id and reason; the ledger's total. */
export function AdminLedgerPage() {
  const { t, i18n } = useTranslation();
  const { user } = useSession();
  const id = useId();
  const [kind, setKind] = useState<TransactionKind | ''>('');
  const [userId, setUserId] = useState('');
  const [rows, setRows] = useState<LedgerTransactionView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(
    async (after?: string) => {
      setError(null);
      try {
        const page = await wallet.ledger({
          ...(kind ? { kind } : {}),
          ...(userId.trim() ? { userId: userId.trim() } : {}),
          ...(after ? { cursor: after } : {}),
        });
        setRows((prev) => (after ? [...prev, ...page.transactions] : page.transactions));
        setCursor(page.nextCursor);
        setTotal(page.totalBalance);
      } catch (err) {
        setError(err);
      }
    },
    [kind, userId],
  );
  useEffect(() => {
    if (user?.role === 'admin') void load();
  }, [load, user?.role]);

  if (user?.role !== 'admin') return <p>{t('admin.onlyAdmins')}</p>;
  return (
    <div>
      <title>{`${t('admin.ledgerTitle')} · ${t('app.name')}`}</title>
      <h1>{t('admin.ledgerTitle')}</h1>
      {total !== null && (
        <p data-testid="ledger-total" className={total === 0 ? 'status' : 'alert'}>
          {t('admin.ledgerTotal', { total })}
        </p>
      )}
      <div className="filters">
        <TransactionKindField value={kind} onChange={setKind} />
        <div className="field">
          <label htmlFor={`${id}-user`}>{t('admin.userId')}</label>
          <input id={`${id}-user`} value={userId} onChange={(e) => setUserId(e.target.value)} />
        </div>
      </div>
      <ErrorAlert error={error} />
      <table className="table" data-testid="ledger">
        <thead>
          <tr>
            <th scope="col">{t('wallet.when')}</th>
            <th scope="col">{t('wallet.filterKind')}</th>
            <th scope="col">{t('admin.reason')}</th>
            <th scope="col">{t('admin.entries')}</th>
            <th scope="col">{t('admin.trace')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td>{formatDateTime(r.createdAt, i18n.resolvedLanguage)}</td>
              <td>{t(`wallet.kinds.${r.kind}`)}</td>
              <td>{r.reason}</td>
              <td>
                {r.entries.map((e) => (
                  <div key={e.account}>
                    <code>{e.account}</code> {e.amount > 0 ? '+' : ''}
                    {formatTokens(e.amount, i18n.resolvedLanguage)}
                  </div>
                ))}
              </td>
              <td>
                <div>
                  {t('admin.actor')}: <code>{r.actorId ?? '—'}</code>
                </div>
                <div>
                  {t('admin.request')}: <code>{r.requestId ?? '—'}</code>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <button type="button" className="button" onClick={() => void load(cursor)}>
          {t('wallet.more')}
        </button>
      )}
    </div>
  );
}
