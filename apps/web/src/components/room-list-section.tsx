import type { Room, RoomStatus } from '@fusionflow/protocol';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { ErrorAlert } from './error-alert';
import { RoomCard } from './room-card';

const PAGE_SIZE = 24;
/** How often the first page is fetched again while the page is visible. */
const POLL_MS = 15_000;

interface RoomListSectionProps {
  status: RoomStatus;
  heading: string;
  empty: string;
}

/** A titled list of the rooms with one status, newest first, kept fresh and paged. */
export function RoomListSection({ status, heading, empty }: RoomListSectionProps) {
  const { t } = useTranslation();
  const headingId = useId();
  const [rooms, setRooms] = useState<Room[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const pages = useRef(1);

  const reload = useCallback(async () => {
    try {
      const page = await api.listRooms({ status, limit: PAGE_SIZE });
      pages.current = 1;
      setRooms(page.rooms);
      setNextCursor(page.nextCursor);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [status]);

  useEffect(() => {
    void reload();
    const timer = setInterval(() => {
      // Keep further pages a person loaded; refresh only the first page.
      if (document.visibilityState === 'visible' && pages.current === 1) void reload();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [reload]);

  const loadMore = async () => {
    if (!nextCursor) return;
    setLoadingMore(true);
    try {
      const page = await api.listRooms({ status, limit: PAGE_SIZE, cursor: nextCursor });
      pages.current += 1;
      setRooms((prev) => [...(prev ?? []), ...page.rooms.filter((r) => !prev?.some((p) => p.id === r.id))]);
      setNextCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <section className="room-section" aria-labelledby={headingId}>
      <div className="section-head">
        <h2 id={headingId}>{heading}</h2>
        <button type="button" className="button button-quiet" onClick={() => void reload()}>
          {t('home.refresh')}
        </button>
      </div>
      <ErrorAlert error={error} />
      {rooms === null && !error && <p className="muted">{t('app.loading')}</p>}
      {rooms !== null && rooms.length === 0 && <p className="muted">{empty}</p>}
      {rooms !== null && rooms.length > 0 && (
        <ul className="room-grid">
          {rooms.map((room) => (
            <RoomCard key={room.id} room={room} />
          ))}
        </ul>
      )}
      {nextCursor && (
        <button type="button" className="button" onClick={() => void loadMore()} disabled={loadingMore}>
          {t('home.loadMore')}
        </button>
      )}
    </section>
  );
}
