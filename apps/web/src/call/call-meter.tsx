import type { CallBillingMessage, RemovedMessage } from '@fusionflow/protocol';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { wallet } from '../api';

/**
 * Before a private call: its price per minute and the caller's balance. The call is charged per
 * started minute, only while both are connected.
 */
export function PrivateCallNotice({ pricePerMinute }: { pricePerMinute: number }) {
  const { t } = useTranslation();
  const [balance, setBalance] = useState<number | null>(null);
  useEffect(() => {
    wallet.balance().then(setBalance, () => setBalance(null));
  }, []);
  const minutes = balance === null ? null : Math.floor(balance / pricePerMinute);
  return (
    <div className="call-private" data-testid="private-call-notice">
      <p>
        <strong>{t('call.private.title')}</strong> · {t('call.private.price', { count: pricePerMinute })}
      </p>
      <p className="hint">{t('call.private.howCharged')}</p>
      {balance !== null && minutes !== null && (
        <p>
          {t('call.private.balance', { balance, count: minutes })}{' '}
          {minutes < 1 && <Link to="/wallet">{t('call.private.topUp')}</Link>}
        </p>
      )}
    </div>
  );
}

/** During a private call: minutes and tokens so far, the time paid for, and the warnings. */
export function CallMeter({ billing }: { billing: CallBillingMessage }) {
  const { t } = useTranslation();
  const [left, setLeft] = useState(billing.secondsLeft);
  useEffect(() => {
    setLeft(billing.secondsLeft);
    if (billing.status !== 'running') return;
    const timer = setInterval(() => setLeft((s) => Math.max(0, s - 1)), 1000);
    return () => clearInterval(timer);
  }, [billing]);
  return (
    <div
      className={`call-meter ${billing.lowBalance ? 'call-meter-low' : ''}`}
      role="status"
      data-testid="call-meter"
      data-status={billing.status}
    >
      <span>
        {t('call.private.meter', { count: billing.minutesCharged, tokens: billing.tokensCharged })}
        {billing.balance !== undefined && ` · ${t('call.private.balanceNow', { balance: billing.balance })}`}
      </span>
      {billing.status === 'paused' && <span> · {t('call.private.paused')}</span>}
      {billing.lowBalance && billing.status === 'running' && (
        <strong data-testid="call-meter-warning">
          {' '}
          · {t('call.private.lowBalance', { seconds: left })}{' '}
          {billing.balance !== undefined && <Link to="/wallet">{t('call.private.topUp')}</Link>}
        </strong>
      )}
    </div>
  );
}

/** After the server ended the call for this user (the balance ran out). */
export function RemovedNotice({ removed, billing }: { removed: RemovedMessage; billing: CallBillingMessage | null }) {
  const { t } = useTranslation();
  return (
    <div className="alert" role="alert" data-testid="call-removed">
      <p>{removed.reason === 'balance' ? t('call.private.endedBalance') : t('call.private.removed')}</p>
      {billing && <p>{t('call.private.meter', { count: billing.minutesCharged, tokens: billing.tokensCharged })}</p>}
      {removed.reason === 'balance' && <Link to="/wallet">{t('call.private.topUp')}</Link>}
    </div>
  );
}
