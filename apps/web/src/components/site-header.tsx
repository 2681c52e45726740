import { useTranslation } from 'react-i18next';
import { Link, NavLink, useNavigate } from 'react-router-dom';
import { api } from '../api';
import { useSession } from '../session/session-context';

/** Brand, main navigation and the account menu (sign in / sign up, or profile / sign out). */
export function SiteHeader() {
  const { t } = useTranslation();
  const { user, restoring } = useSession();
  const navigate = useNavigate();
  const signedIn = user !== null && user.role !== 'guest';

  const signOut = async () => {
    // The client forgets the session even when the server cannot be reached.
    await api.logout().catch(() => undefined);
    navigate('/');
  };

  return (
    <header className="site-header">
      <div className="site-header-inner">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true">
            ▶
          </span>
          {t('app.name')}
        </Link>
        <nav aria-label={t('nav.label')} className="site-nav">
          <NavLink to="/" end>
            {t('nav.home')}
          </NavLink>
          {signedIn && <NavLink to="/create">{t('nav.createRoom')}</NavLink>}
          {signedIn && <NavLink to="/wallet">{t('nav.wallet')}</NavLink>}
          {signedIn && ['streamer', 'studio', 'admin'].includes(user.role) && (
            <NavLink to="/earnings">{t('nav.earnings')}</NavLink>
          )}
          {signedIn && (user.role === 'admin' || user.role === 'moderator') && (
            <NavLink to="/admin" end>
              {t('nav.console')}
            </NavLink>
          )}
          {signedIn && user.role === 'admin' && <NavLink to="/admin/payouts">{t('nav.payouts')}</NavLink>}
          {signedIn && user.role === 'admin' && <NavLink to="/admin/ledger">{t('nav.ledger')}</NavLink>}
          {signedIn && user.role === 'admin' && <NavLink to="/admin/diagnostics">{t('nav.diagnostics')}</NavLink>}
        </nav>
        <div className="account">
          {restoring ? null : signedIn ? (
            <>
              <NavLink to="/profile" title={t('nav.signedInAs', { name: user.displayName })}>
                {t('nav.profile')}
                <span className="account-name"> · {user.displayName}</span>
              </NavLink>
              <button type="button" className="button button-quiet" onClick={() => void signOut()}>
                {t('nav.signOut')}
              </button>
            </>
          ) : (
            <>
              <NavLink to="/signin">{t('nav.signIn')}</NavLink>
              <Link to="/signup" className="button button-primary">
                {t('nav.signUp')}
              </Link>
            </>
          )}
        </div>
      </div>
    </header>
  );
}
