import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { RecentReplays } from '../components/recent-replays';
import { RoomListSection } from '../components/room-list-section';
import { useSession } from '../session/session-context';

/** What is live now, the latest replays and what starts soon; anyone can browse. */
export function HomePage() {
  const { t } = useTranslation();
  const { user, restoring } = useSession();
  return (
    <>
      <title>{`${t('home.title')} · ${t('app.name')}`}</title>
      <div className="hero">
        <h1>{t('app.name')}</h1>
        <p className="lead">{t('app.tagline')}</p>
        {!restoring &&
          (user ? (
            <Link to="/create" className="button button-primary">
              {t('home.startCta')}
            </Link>
          ) : (
            <p>
              <Link to="/signup">{t('home.joinCta')}</Link>
            </p>
          ))}
      </div>
      <RoomListSection status="live" heading={t('home.liveNow')} empty={t('home.noLive')} />
      <RecentReplays />
      <RoomListSection status="created" heading={t('home.startingSoon')} empty={t('home.noSoon')} />
    </>
  );
}
