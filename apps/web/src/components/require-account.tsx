import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation } from 'react-router-dom';
import { useSession } from '../session/session-context';

/** Renders its children for signed-in accounts; sends everyone else to sign in, then back here. */
export function RequireAccount({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { restoring, user } = useSession();
  const location = useLocation();
  if (restoring) return <p className="muted">{t('app.loading')}</p>;
  if (!user || user.role === 'guest') {
    return <Navigate to="/signin" replace state={{ from: `${location.pathname}${location.search}` }} />;
  }
  return children;
}
