import { newIdempotencyKey } from '@fusionflow/client';
import type { Room } from '@fusionflow/protocol';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { wallet } from '../api';
import { useSession } from '../session/session-context';
import { ErrorAlert } from './error-alert';

/**
 * In front of a paid live stream: the price, the viewer's balance and a Buy button. The buyer confirms
 * the price they see; if the streamer changed it meanwhile the server refuses and the new price shows.
 */
export function TicketGate({ room, onEntitled }: { room: Room; onEntitled: () => void }) {
  const { t } = useTranslation();
  const { user } = useSession();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const key = useRef(newIdempotencyKey());
  const price = room.ticketPrice ?? 0;
  const signedIn = user !== null && user.role !== 'guest';

  const buy = async () => {
    setPending(true);
    setError(null);
    try {
      await wallet.buyTicket(room.id, { expectedPrice: price }, key.current);
      onEntitled();
    } catch (err) {
      key.current = newIdempotencyKey();
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <section className="ticket-gate" data-testid="ticket-gate" aria-labelledby="ticket-gate-title">
      <h2 id="ticket-gate-title">{t('tickets.title')}</h2>
      <p>{t('tickets.price', { count: price })}</p>
      {signedIn ? (
        <>
          <ErrorAlert error={error} />
          <button type="button" className="button button-primary" disabled={pending} onClick={() => void buy()}>
            {pending ? t('tickets.buying') : t('tickets.buy', { count: price })}
          </button>
          <p className="hint">
            <Link to="/wallet">{t('tickets.topUp')}</Link>
          </p>
        </>
      ) : (
        <p>
          <Link to="/signin">{t('tickets.signIn')}</Link>
        </p>
      )}
    </section>
  );
}
