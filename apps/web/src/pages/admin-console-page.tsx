import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useSession } from '../session/session-context';
import { AuditSection } from './admin/audit-section';
import { LiveSection } from './admin/live-section';
import { ReportsSection } from './admin/reports-section';
import { StudiosSection } from './admin/studios-section';
import { UsersSection } from './admin/users-section';
import { WordsSection } from './admin/words-section';

type Tab = 'users' | 'reports' | 'live' | 'audit' | 'studios' | 'words';
const STAFF_TABS: Tab[] = ['users', 'reports'];
const ADMIN_TABS: Tab[] = ['users', 'reports', 'live', 'audit', 'studios', 'words'];

/** `/admin`: the governance console. Moderators see users and reports; admins everything. */
export function AdminConsolePage() {
  const { t } = useTranslation();
  const { user } = useSession();
  const isAdmin = user?.role === 'admin';
  const tabs = isAdmin ? ADMIN_TABS : STAFF_TABS;
  const [tab, setTab] = useState<Tab>(() => {
    const asked = new URLSearchParams(window.location.search).get('tab') as Tab | null;
    return asked && tabs.includes(asked) ? asked : 'users';
  });
  if (!user || (user.role !== 'admin' && user.role !== 'moderator')) return <p>{t('governance.onlyStaff')}</p>;
  return (
    <div>
      <title>{`${t('governance.consoleTitle')} · ${t('app.name')}`}</title>
      <h1>{t('governance.consoleTitle')}</h1>
      <nav className="tabs" aria-label={t('governance.consoleTitle')}>
        {tabs.map((name) => (
          <button
            key={name}
            type="button"
            className={name === tab ? 'button button-primary' : 'button'}
            aria-pressed={name === tab}
            data-testid={`tab-${name}`}
            onClick={() => setTab(name)}
          >
            {t(`governance.tabs.${name}`)}
          </button>
        ))}
        {isAdmin && <Link to="/admin/payouts">{t('nav.payouts')}</Link>}
        {isAdmin && <Link to="/admin/ledger">{t('nav.ledger')}</Link>}
        {isAdmin && <Link to="/admin/diagnostics">{t('nav.diagnostics')}</Link>}
      </nav>
      {tab === 'users' && <UsersSection isAdmin={isAdmin} />}
      {tab === 'reports' && <ReportsSection myId={user.id} />}
      {tab === 'live' && isAdmin && <LiveSection />}
      {tab === 'audit' && isAdmin && <AuditSection />}
      {tab === 'studios' && isAdmin && <StudiosSection />}
      {tab === 'words' && isAdmin && <WordsSection />}
    </div>
  );
}
