import { isFusionFlowError } from '@fusionflow/client';
import { Replay, type Room } from '@fusionflow/protocol';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';

/** How often the room's replay is asked for while it is not ready yet. */
const POLL_MS = 5000;
/** Bounded: after this many polls without a ready replay, stop asking. */
const MAX_POLLS = 120;

/** A viewer's one offline state for an ended broadcast, with "Watch the replay" once it is ready. */
export function EndedBroadcast({ room }: { room: Room }) {
  const { t } = useTranslation();
  const [replay, setReplay] = useState<Replay | null>(null);

  useEffect(() => {
    let stopped = false;
    let polls = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = () => {
      api
        .request({
          method: 'GET',
          path: `/api/rooms/${encodeURIComponent(room.id)}/replay`,
          schema: Replay,
          auth: true,
        })
        .then(
          (r) => {
            if (stopped) return;
            if (r.status === 'ready') return setReplay(r);
            if (r.status !== 'failed' && ++polls < MAX_POLLS) timer = setTimeout(poll, POLL_MS);
          },
          (err: unknown) => {
            // 404: the broadcast was not recorded; any other error: try again a bounded number of times.
            if (stopped || isFusionFlowError(err, 'not_found')) return;
            if (++polls < MAX_POLLS) timer = setTimeout(poll, POLL_MS);
          },
        );
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [room.id]);

  return (
    <section className="stage stage-ended" data-testid="broadcast-ended">
      <p data-testid="stream-ended">{t('room.broadcastEnded')}</p>
      {replay && (
        <Link
          className="button button-primary"
          to={`/replays/${encodeURIComponent(replay.id)}`}
          data-testid="watch-replay"
        >
          {t('room.watchReplay')}
        </Link>
      )}
    </section>
  );
}
