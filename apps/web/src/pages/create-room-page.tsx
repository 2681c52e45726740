import type { CreateRoomRequest, RoomKind, User } from '@fusionflow/protocol';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api } from '../api';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';

/** Roles that may broadcast live and charge for calls (the server enforces the same). */
const BROADCASTER_ROLES: ReadonlySet<string> = new Set(['streamer', 'studio', 'admin']);

/** A whole number of tokens, or undefined when the field is empty. */
function tokens(value: string): number | undefined {
  return value.trim() === '' ? undefined : Number(value);
}

export function CreateRoomPage() {
  const { user } = useSession();
  return user ? <CreateRoomForm user={user} /> : null;
}

function CreateRoomForm({ user }: { user: User }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const id = useId();
  const broadcaster = BROADCASTER_ROLES.has(user.role);
  const [kind, setKind] = useState<RoomKind>(broadcaster ? 'live' : 'call');
  const [title, setTitle] = useState('');
  const [ticketPrice, setTicketPrice] = useState('');
  const [record, setRecord] = useState(true);
  const [pricePerMinute, setPricePerMinute] = useState('');
  const [roomId, setRoomId] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    // `record` (live rooms, default on) is the issue 11 contract's CreateRoom field.
    const request: CreateRoomRequest & { record?: boolean } = { kind, title };
    if (kind === 'live') request.record = record;
    if (roomId.trim()) request.id = roomId.trim() as CreateRoomRequest['id'];
    const price = kind === 'live' ? tokens(ticketPrice) : broadcaster ? tokens(pricePerMinute) : undefined;
    if (price !== undefined) {
      if (kind === 'live') request.ticketPrice = price;
      else request.pricePerMinute = price;
    }
    try {
      const room = await api.createRoom(request);
      navigate(`/rooms/${encodeURIComponent(room.id)}`);
    } catch (err) {
      setError(err);
      setPending(false);
    }
  };

  return (
    <div className="narrow">
      <title>{`${t('createRoom.title')} · ${t('app.name')}`}</title>
      <h1>{t('createRoom.title')}</h1>
      <form className="form" onSubmit={(e) => void submit(e)}>
        <ErrorAlert error={error} />
        <fieldset className="field choices">
          <legend>{t('createRoom.kind')}</legend>
          <label className="choice">
            <input
              type="radio"
              name="kind"
              value="live"
              checked={kind === 'live'}
              disabled={!broadcaster}
              aria-describedby={broadcaster ? undefined : `${id}-live-hint`}
              onChange={() => setKind('live')}
            />
            {t('createRoom.kindLive')}
          </label>
          {!broadcaster && (
            <p className="hint" id={`${id}-live-hint`}>
              {t('createRoom.liveNeedsStreamer')}
            </p>
          )}
          <label className="choice">
            <input type="radio" name="kind" value="call" checked={kind === 'call'} onChange={() => setKind('call')} />
            {t('createRoom.kindCall')}
          </label>
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-title`}>{t('createRoom.roomTitle')}</label>
          <input id={`${id}-title`} required maxLength={140} value={title} onChange={(e) => setTitle(e.target.value)} />
        </div>
        {kind === 'live' && (
          <div className="field">
            <label htmlFor={`${id}-ticket`}>{t('createRoom.ticketPrice')}</label>
            <input
              id={`${id}-ticket`}
              type="number"
              inputMode="numeric"
              min={0}
              max={1_000_000}
              step={1}
              aria-describedby={`${id}-ticket-hint`}
              value={ticketPrice}
              onChange={(e) => setTicketPrice(e.target.value)}
            />
            <p className="hint" id={`${id}-ticket-hint`}>
              {t('createRoom.ticketPriceHint')}
            </p>
          </div>
        )}
        {kind === 'live' && (
          <div className="field">
            <label>
              <input
                type="checkbox"
                data-testid="record-broadcast"
                checked={record}
                onChange={(e) => setRecord(e.target.checked)}
              />{' '}
              {t('createRoom.record')}
            </label>
          </div>
        )}
        {kind === 'call' && broadcaster && (
          <div className="field">
            <label htmlFor={`${id}-ppm`}>{t('createRoom.pricePerMinute')}</label>
            <input
              id={`${id}-ppm`}
              type="number"
              inputMode="numeric"
              min={0}
              max={1_000_000}
              step={1}
              aria-describedby={`${id}-ppm-hint`}
              value={pricePerMinute}
              onChange={(e) => setPricePerMinute(e.target.value)}
            />
            <p className="hint" id={`${id}-ppm-hint`}>
              {t('createRoom.pricePerMinuteHint')}
            </p>
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-address`}>{t('createRoom.roomId')}</label>
          <input
            id={`${id}-address`}
            pattern="[A-Za-z0-9_\-]{1,64}"
            maxLength={64}
            autoCapitalize="off"
            spellCheck={false}
            aria-describedby={`${id}-address-hint`}
            value={roomId}
            onChange={(e) => setRoomId(e.target.value)}
          />
          <p className="hint" id={`${id}-address-hint`}>
            {t('createRoom.roomIdHint')}
          </p>
        </div>
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? t('createRoom.submitting') : t('createRoom.submit')}
        </button>
      </form>
    </div>
  );
}
