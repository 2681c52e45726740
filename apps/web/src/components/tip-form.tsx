import { newIdempotencyKey } from '@fusionflow/client';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { wallet } from '../api';
import { returnHere } from '../session/return-path';
import { ErrorAlert } from './error-alert';
import { PlatformFee } from './platform-fee';

const PRESETS = [5, 20, 50, 100];

/**
 * Tip the room's streamer: preset or custom amount and an optional message; shows the balance (and
 * the new one after a tip), the platform's fee, and a top-up link that comes back to the room.
 */
export function TipForm({ roomId, onTipped }: { roomId: string; onTipped?: (balance: number) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [amount, setAmount] = useState(PRESETS[1]!);
  const [message, setMessage] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<number | null>(null);
  const [balance, setBalance] = useState<number | null>(null);
  const location = useLocation();
  useEffect(() => {
    wallet.balance().then(setBalance, () => {});
  }, []);
  // One key per intended tip: a retry after an unclear failure reuses it, so it can never charge twice.
  const key = useRef(newIdempotencyKey());

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    setDone(null);
    try {
      const res = await wallet.tip(
        roomId,
        { amount, ...(message.trim() ? { message: message.trim() } : {}) },
        key.current,
      );
      key.current = newIdempotencyKey();
      setDone(res.balance);
      setBalance(res.balance);
      setMessage('');
      onTipped?.(res.balance);
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <form className="tip-form" onSubmit={(e) => void submit(e)} data-testid="tip-form">
      <fieldset className="field">
        <legend>{t('tips.amount')}</legend>
        <div className="choices">
          {PRESETS.map((p) => (
            <button
              key={p}
              type="button"
              className={`button ${p === amount ? 'button-primary' : ''}`}
              aria-pressed={p === amount}
              onClick={() => {
                setAmount(p);
                key.current = newIdempotencyKey();
              }}
            >
              {t('tips.tokens', { count: p })}
            </button>
          ))}
          <label className="sr-only" htmlFor={`${id}-custom`}>
            {t('tips.custom')}
          </label>
          <input
            id={`${id}-custom`}
            type="number"
            min={1}
            step={1}
            className="tip-custom"
            value={amount}
            onChange={(e) => {
              setAmount(Math.max(1, Math.floor(Number(e.target.value) || 1)));
              key.current = newIdempotencyKey();
            }}
          />
        </div>
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-message`}>{t('tips.message')}</label>
        <input id={`${id}-message`} maxLength={200} value={message} onChange={(e) => setMessage(e.target.value)} />
      </div>
      {balance !== null && (
        <p className="hint">
          <span data-testid="tip-balance">{t('tickets.yourBalance', { count: balance })}</span>{' '}
          <Link to="/wallet" state={returnHere(location)}>
            {t('tips.topUp')}
          </Link>
        </p>
      )}
      <PlatformFee on="tip" />
      <ErrorAlert error={error} />
      <button type="submit" className="button button-primary" disabled={pending}>
        {pending ? t('tips.sending') : t('tips.send', { count: amount })}
      </button>
      {done !== null && (
        <p className="status" role="status">
          {t('tips.sent', { balance: done })}
        </p>
      )}
    </form>
  );
}
