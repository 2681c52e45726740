import { newIdempotencyKey } from '@fusionflow/client';
import type { Entitlement, Room } from '@fusionflow/protocol';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { wallet } from '../api';
import { returnHere } from '../session/return-path';
import { useSession } from '../session/session-context';
import { ErrorAlert } from './error-alert';
import { formatDateTime } from './format';
import { PlatformFee } from './platform-fee';

/**
 * In front of a paid live stream: the price, the viewer's balance and a Buy button, then a
 * confirmation (price and balance after) before any money moves, then a receipt. The buyer confirms
 * the price they see; if the streamer changed it meanwhile the server refuses and the new price
 * shows. Sign-in and top-up links come back to this room.
 */
export function TicketGate({ room, onEntitled }: { room: Room; onEntitled: () => void }) {
  const { t, i18n } = useTranslation();
  const { user } = useSession();
  const location = useLocation();
  const [pending, setPending] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [receipt, setReceipt] = useState<{ entitlement: Entitlement; balance: number } | null>(null);
  const [balance, setBalance] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const key = useRef(newIdempotencyKey());
  const price = room.ticketPrice ?? 0;
  const signedIn = user !== null && user.role !== 'guest';

  useEffect(() => {
    if (signedIn) wallet.balance().then(setBalance, () => {});
  }, [signedIn]);

  const buy = async () => {
    setPending(true);
    setError(null);
    try {
      const res = await wallet.buyTicket(room.id, { expectedPrice: price }, key.current);
      setReceipt(res);
      setConfirming(false);
    } catch (err) {
      key.current = newIdempotencyKey();
      setError(err);
      setConfirming(false);
    } finally {
      setPending(false);
    }
  };

  if (receipt) {
    return (
      <section className="ticket-gate" data-testid="ticket-receipt" aria-labelledby="ticket-receipt-title">
        <h2 id="ticket-receipt-title">{t('tickets.receiptTitle')}</h2>
        <dl className="facts">
          <dt>{t('tickets.receiptRoom')}</dt>
          <dd>{room.title}</dd>
          <dt>{t('tickets.receiptPaid')}</dt>
          <dd>{t('tips.tokens', { count: receipt.entitlement.price })}</dd>
          <dt>{t('tickets.receiptWhen')}</dt>
          <dd>{formatDateTime(receipt.entitlement.createdAt, i18n.resolvedLanguage)}</dd>
          <dt>{t('tickets.receiptBalance')}</dt>
          <dd>{t('tips.tokens', { count: receipt.balance })}</dd>
          <dt>{t('tickets.receiptId')}</dt>
          <dd>
            <code>{receipt.entitlement.id}</code>
          </dd>
        </dl>
        <p className="hint">{t('tickets.receiptWallet')}</p>
        <button type="button" className="button button-primary" data-testid="ticket-watch" onClick={onEntitled}>
          {t('tickets.watchNow')}
        </button>
      </section>
    );
  }

  return (
    <section className="ticket-gate" data-testid="ticket-gate" aria-labelledby="ticket-gate-title">
      <h2 id="ticket-gate-title">{t('tickets.title')}</h2>
      <p>{t('tickets.price', { count: price })}</p>
      <PlatformFee on="ticket" />
      {signedIn ? (
        <>
          {balance !== null && <p data-testid="ticket-balance">{t('tickets.yourBalance', { count: balance })}</p>}
          <ErrorAlert error={error} />
          {confirming ? (
            <div className="confirm" data-testid="ticket-confirm">
              <p>
                {t('tickets.confirm', { count: price, title: room.title })}
                {balance !== null && ` ${t('tickets.balanceAfter', { count: balance - price })}`}
              </p>
              <button type="button" className="button button-primary" disabled={pending} onClick={() => void buy()}>
                {pending ? t('tickets.buying') : t('tickets.confirmYes', { count: price })}
              </button>
              <button type="button" className="button" disabled={pending} onClick={() => setConfirming(false)}>
                {t('room.cancel')}
              </button>
            </div>
          ) : (
            <button
              type="button"
              className="button button-primary"
              disabled={pending}
              onClick={() => {
                setError(null);
                setConfirming(true);
              }}
            >
              {t('tickets.buy', { count: price })}
            </button>
          )}
          <p className="hint">
            <Link to="/wallet" state={returnHere(location)}>
              {t('tickets.topUp')}
            </Link>
          </p>
        </>
      ) : (
        <p>
          <Link to="/signin" state={returnHere(location)}>
            {t('tickets.signIn')}
          </Link>
        </p>
      )}
    </section>
  );
}
