import type { RoomModerator } from '@fusionflow/protocol';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { governance } from '../api';
import { ErrorAlert } from './error-alert';

/** The room's owner appoints and removes its channel moderators. */
export function RoomModerators({ roomId }: { roomId: string }) {
  const { t } = useTranslation();
  const [moderators, setModerators] = useState<RoomModerator[]>([]);
  const [userId, setUserId] = useState('');
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setModerators(await governance.roomModerators(roomId));
    } catch (err) {
      setError(err);
    }
  }, [roomId]);
  useEffect(() => {
    void load();
  }, [load]);
  const run = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      await load();
    } catch (err) {
      setError(err);
    }
  };
  const add = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await governance.addRoomModerator(roomId, userId.trim());
      setUserId('');
    });
  };
  return (
    <section aria-labelledby="room-mods-title" data-testid="room-moderators">
      <h2 id="room-mods-title">{t('governance.moderatorsTitle')}</h2>
      {moderators.length === 0 ? (
        <p className="muted">{t('governance.noModerators')}</p>
      ) : (
        <ul className="plain">
          {moderators.map((m) => (
            <li key={m.userId}>
              {m.displayName}{' '}
              <button
                type="button"
                className="button button-quiet"
                onClick={() => void run(() => governance.removeRoomModerator(roomId, m.userId))}
              >
                {t('governance.remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="field inline" onSubmit={add}>
        <label htmlFor="room-mod-id">{t('governance.addModerator')}</label>
        <input id="room-mod-id" maxLength={64} value={userId} onChange={(e) => setUserId(e.target.value)} />
        <button type="submit" className="button" disabled={!userId.trim()}>
          {t('governance.add')}
        </button>
      </form>
      <ErrorAlert error={error} />
    </section>
  );
}
