import { newIdempotencyKey } from '@fusionflow/client';
import type { Entitlement, TokenPack, TransactionKind, WalletHistoryItem } from '@fusionflow/protocol';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { wallet } from '../api';
import { ErrorAlert } from '../components/error-alert';
import { formatDateTime, formatPrice, formatTokens } from '../components/format';
import { TransactionKindField } from '../components/transaction-kind-field';
import { returnPath } from '../session/return-path';
import { useSession } from '../session/session-context';

/** What moves a viewer's wallet (payouts move earnings, not the wallet). */
const VIEWER_KINDS: readonly TransactionKind[] = ['purchase', 'tip', 'ticket', 'call_minute'];

/** Balance, token packs to buy, the history of every movement (filterable) and the tickets held. */
export function WalletPage() {
  const { t, i18n } = useTranslation();
  const locale = i18n.resolvedLanguage;
  const [balance, setBalance] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { user } = useSession();
  // Sent here from a room (to top up for a ticket or a tip): the way back.
  const back = returnPath(useLocation().state);
  const earns = user?.role === 'streamer' || user?.role === 'studio';
  const refreshBalance = useCallback(() => {
    wallet.balance().then(setBalance, setError);
  }, []);
  useEffect(refreshBalance, [refreshBalance]);

  return (
    <div className="wallet">
      <title>{`${t('wallet.title')} · ${t('app.name')}`}</title>
      <h1>{t('wallet.title')}</h1>
      <ErrorAlert error={error} />
      <p className="balance" data-testid="wallet-balance">
        {balance === null ? '…' : t('wallet.balance', { count: balance, formatted: formatTokens(balance, locale) })}
      </p>
      {back && (
        <p>
          <Link to={back} className="button" data-testid="wallet-back">
            {t('wallet.backToRoom')}
          </Link>
        </p>
      )}
      {earns && (
        <p className="hint" data-testid="wallet-earnings-apart">
          {t('wallet.earningsApart')} <Link to="/earnings">{t('wallet.earningsLink')}</Link>
        </p>
      )}
      <BuyTokens onBought={refreshBalance} />
      <History key={balance ?? -1} />
      <Tickets />
    </div>
  );
}

function BuyTokens({ onBought }: { onBought: () => void }) {
  const { t, i18n } = useTranslation();
  const [packs, setPacks] = useState<TokenPack[]>([]);
  const [providers, setProviders] = useState<('dev' | 'webhook')[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // One key per pack the buyer is about to buy; kept across a failed attempt so a retry is the same purchase.
  const keys = useRef(new Map<string, string>());

  useEffect(() => {
    wallet.packs().then((r) => {
      setPacks(r.packs);
      setProviders(r.providers);
    }, setError);
  }, []);

  const buy = async (pack: TokenPack) => {
    setBusy(pack.id);
    setError(null);
    setNotice(null);
    const key = keys.current.get(pack.id) ?? newIdempotencyKey();
    keys.current.set(pack.id, key);
    try {
      const res = await wallet.purchase({ packId: pack.id, expectedPriceCents: pack.priceCents }, key);
      keys.current.delete(pack.id);
      setNotice(
        res.purchase.status === 'completed' ? t('wallet.bought', { count: res.purchase.tokens }) : t('wallet.pending'),
      );
      onBought();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="buy-title" className="wallet-section">
      <h2 id="buy-title">{t('wallet.buyTitle')}</h2>
      {providers.length === 0 && packs.length > 0 && <p className="muted">{t('wallet.noProvider')}</p>}
      {providers.includes('dev') && <p className="hint">{t('wallet.devProvider')}</p>}
      <ErrorAlert error={error} />
      {notice && (
        <p className="status" role="status">
          {notice}
        </p>
      )}
      <ul className="pack-grid">
        {packs.map((pack) => (
          <li key={pack.id} className="pack-card" data-testid="token-pack">
            <p className="pack-tokens">
              {t('wallet.tokens', { count: pack.tokens, formatted: formatTokens(pack.tokens, i18n.resolvedLanguage) })}
            </p>
            <p className="pack-price">{formatPrice(pack.priceCents, pack.currency, i18n.resolvedLanguage)}</p>
            <button
              type="button"
              className="button button-primary"
              disabled={busy !== null || providers.length === 0}
              onClick={() => void buy(pack)}
            >
              {busy === pack.id ? t('wallet.buying') : t('wallet.buy')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function History() {
  const { t, i18n } = useTranslation();
  const id = useId();
  const [kind, setKind] = useState<TransactionKind | ''>('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [items, setItems] = useState<WalletHistoryItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(
    async (after?: string) => {
      setError(null);
      try {
        const page = await wallet.history({
          ...(kind ? { kind } : {}),
          ...(from ? { from: new Date(`${from}T00:00:00`).toISOString() } : {}),
          ...(to ? { to: new Date(`${to}T23:59:59.999`).toISOString() } : {}),
          ...(after ? { cursor: after } : {}),
        });
        setItems((prev) => (after ? [...prev, ...page.items] : page.items));
        setCursor(page.nextCursor);
      } catch (err) {
        setError(err);
      }
    },
    [kind, from, to],
  );
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section aria-labelledby="history-title" className="wallet-section">
      <h2 id="history-title">{t('wallet.historyTitle')}</h2>
      <div className="filters">
        <TransactionKindField value={kind} onChange={setKind} kinds={VIEWER_KINDS} />
        <div className="field">
          <label htmlFor={`${id}-from`}>{t('wallet.from')}</label>
          <input id={`${id}-from`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>{t('wallet.to')}</label>
          <input id={`${id}-to`} type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
      </div>
      <ErrorAlert error={error} />
      {items.length === 0 ? (
        <p className="muted">{t('wallet.noHistory')}</p>
      ) : (
        <table className="table" data-testid="wallet-history">
          <thead>
            <tr>
              <th scope="col">{t('wallet.when')}</th>
              <th scope="col">{t('wallet.what')}</th>
              <th scope="col" className="num">
                {t('wallet.amount')}
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={`${item.transactionId}-${item.amount}`}>
                <td>{formatDateTime(item.createdAt, i18n.resolvedLanguage)}</td>
                <td>
                  {t(`wallet.kinds.${item.kind}`)}
                  {item.roomId && (
                    <>
                      {' · '}
                      <Link to={`/rooms/${item.roomId}`}>{item.roomId}</Link>
                    </>
                  )}
                </td>
                <td className={`num ${item.amount < 0 ? 'negative' : 'positive'}`}>
                  {item.amount > 0 ? '+' : ''}
                  {formatTokens(item.amount, i18n.resolvedLanguage)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" className="button" onClick={() => void load(cursor)}>
          {t('wallet.more')}
        </button>
      )}
    </section>
  );
}

function Tickets() {
  const { t, i18n } = useTranslation();
  const [tickets, setTickets] = useState<Entitlement[]>([]);
  useEffect(() => {
    wallet.entitlements().then(
      (r) => setTickets(r.entitlements),
      () => undefined,
    );
  }, []);
  if (tickets.length === 0) return null;
  return (
    <section aria-labelledby="tickets-title" className="wallet-section">
      <h2 id="tickets-title">{t('wallet.ticketsTitle')}</h2>
      <ul>
        {tickets.map((e) => (
          <li key={e.id}>
            <Link to={`/rooms/${e.roomId}`}>{e.roomId}</Link> ·{' '}
            {t('wallet.tokens', { count: e.price, formatted: formatTokens(e.price, i18n.resolvedLanguage) })} ·{' '}
            {formatDateTime(e.createdAt, i18n.resolvedLanguage)}
          </li>
        ))}
      </ul>
    </section>
  );
}
