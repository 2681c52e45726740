import type { LiveNowItem } from '@fusionflow/protocol';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { governance } from '../../api';
import { ErrorAlert } from '../../components/error-alert';

const duration = (s: number) =>
  `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;

/** Admins: every live broadcast and call; end one with a reason its viewers see. */
export function LiveSection() {
  const { t } = useTranslation();
  const [rooms, setRooms] = useState<LiveNowItem[]>([]);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setRooms(await governance.liveNow());
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 10_000);
    return () => clearInterval(timer);
  }, [load]);
  const end = async (roomId: string) => {
    setError(null);
    try {
      await governance.endLive(roomId, (reasons[roomId] ?? '').trim());
      await load();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="live-title">
      <h2 id="live-title">{t('governance.liveTitle')}</h2>
      <ErrorAlert error={error} />
      {rooms.length === 0 ? (
        <p className="muted">{t('governance.noLive')}</p>
      ) : (
        <table className="table" data-testid="live-now">
          <thead>
            <tr>
              <th scope="col">{t('governance.name')}</th>
              <th scope="col">{t('governance.subject')}</th>
              <th scope="col" className="num">
                {t('governance.viewers')}
              </th>
              <th scope="col">{t('governance.duration')}</th>
              <th scope="col">{t('governance.node')}</th>
              <th scope="col">{t('governance.end')}</th>
            </tr>
          </thead>
          <tbody>
            {rooms.map((r) => (
              <tr key={r.roomId} data-testid="live-row">
                <td>{r.title}</td>
                <td>{r.ownerName}</td>
                <td className="num">{r.viewers}</td>
                <td>{duration(r.durationSeconds)}</td>
                <td>{r.node}</td>
                <td className="actions">
                  <input
                    aria-label={t('governance.endReason')}
                    maxLength={500}
                    value={reasons[r.roomId] ?? ''}
                    onChange={(e) => setReasons({ ...reasons, [r.roomId]: e.target.value })}
                  />
                  <button
                    type="button"
                    className="button button-danger"
                    disabled={!(reasons[r.roomId] ?? '').trim()}
                    onClick={() => void end(r.roomId)}
                  >
                    {t('governance.end')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
