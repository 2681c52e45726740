import type { Session } from '@fusionflow/client';
import type { User } from '@fusionflow/protocol';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';
import { api } from '../api';
import { i18n } from '../i18n/i18n';
import { browserUiLanguage, uiLanguageFor } from '../i18n/languages';

export interface SessionValue {
  /** True until the first attempt to restore the session from the refresh cookie has finished. */
  restoring: boolean;
  /** The signed-in account, or null for anonymous visitors. */
  user: User | null;
}

const SessionContext = createContext<SessionValue | null>(null);

let restoring: Promise<unknown> | null = null;

/** The server sets the readable `ff_session` cookie beside the httpOnly refresh cookie. */
const hasSessionCookie = () => document.cookie.split('; ').some((c) => c.startsWith('ff_session='));

/**
 * Restore the session from the refresh cookie, once per page load, and only when there is one to
 * restore. The client shares one request among concurrent callers, so React's double-run effects
 * cannot rotate the cookie twice.
 */
function restoreSession(): Promise<unknown> {
  restoring ??= hasSessionCookie() ? api.refresh().catch(() => null) : Promise.resolve(null);
  return restoring;
}

/** Holds who is signed in and keeps the interface language on the account's preferred language. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(api.session);
  const [isRestoring, setRestoring] = useState(true);

  useEffect(() => api.on('session', setSession), []);

  useEffect(() => {
    let live = true;
    void restoreSession().finally(() => {
      if (live) {
        setSession(api.session);
        setRestoring(false);
      }
    });
    return () => {
      live = false;
    };
  }, []);

  const user = session?.user ?? null;
  const language = user ? uiLanguageFor(user.language) : browserUiLanguage();
  useEffect(() => {
    if (i18n.resolvedLanguage !== language) void i18n.changeLanguage(language);
  }, [language]);

  const value = useMemo(() => ({ restoring: isRestoring, user }), [isRestoring, user]);
  return <SessionContext value={value}>{children}</SessionContext>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession needs a <SessionProvider> above it');
  return value;
}
