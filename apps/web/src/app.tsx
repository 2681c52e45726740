import { useTranslation } from 'react-i18next';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import { RequireAccount } from './components/require-account';
import { SiteHeader } from './components/site-header';
import { AdminConsolePage } from './pages/admin-console-page';
import { AdminDiagnosticsPage } from './pages/admin-diagnostics-page';
import { AdminLedgerPage } from './pages/admin-ledger-page';
import { AdminPayoutsPage } from './pages/admin-payouts-page';
import { ChannelPage } from './pages/channel-page';
import { CreateRoomPage } from './pages/create-room-page';
import { EarningsPage } from './pages/earnings-page';
import { ForgotPasswordPage } from './pages/forgot-password-page';
import { HomePage } from './pages/home-page';
import { NotFoundPage } from './pages/not-found-page';
import { ProfilePage } from './pages/profile-page';
import { ReplayPage } from './pages/replay-page';
import { ResetPasswordPage } from './pages/reset-password-page';
import { RoomPage } from './pages/room-page';
import { SignInPage } from './pages/sign-in-page';
import { SignUpPage } from './pages/sign-up-page';
import { WalletPage } from './pages/wallet-page';
import { SessionProvider } from './session/session-context';

/** The shell: session, header and the routes of every page. */
export function App() {
  const { t } = useTranslation();
  return (
    <SessionProvider>
      <BrowserRouter>
        <a className="skip-link" href="#main">
          {t('app.skipToContent')}
        </a>
        <SiteHeader />
        <main id="main" className="main">
          <Routes>
            <Route path="/" element={<HomePage />} />
            <Route path="/signin" element={<SignInPage />} />
            <Route path="/signup" element={<SignUpPage />} />
            <Route path="/forgot-password" element={<ForgotPasswordPage />} />
            <Route path="/reset-password" element={<ResetPasswordPage />} />
            <Route
              path="/profile"
              element={
                <RequireAccount>
                  <ProfilePage />
                </RequireAccount>
              }
            />
            <Route
              path="/create"
              element={
                <RequireAccount>
                  <CreateRoomPage />
                </RequireAccount>
              }
            />
            <Route
              path="/wallet"
              element={
                <RequireAccount>
                  <WalletPage />
                </RequireAccount>
              }
            />
            <Route
              path="/earnings"
              element={
                <RequireAccount>
                  <EarningsPage />
                </RequireAccount>
              }
            />
            <Route
              path="/admin"
              element={
                <RequireAccount>
                  <AdminConsolePage />
                </RequireAccount>
              }
            />
            <Route
              path="/admin/payouts"
              element={
                <RequireAccount>
                  <AdminPayoutsPage />
                </RequireAccount>
              }
            />
            <Route
              path="/admin/ledger"
              element={
                <RequireAccount>
                  <AdminLedgerPage />
                </RequireAccount>
              }
            />
            <Route
              path="/admin/diagnostics"
              element={
                <RequireAccount>
                  <AdminDiagnosticsPage />
                </RequireAccount>
              }
            />
            <Route path="/rooms/:id" element={<RoomPage />} />
            <Route path="/replays/:id" element={<ReplayPage />} />
            <Route path="/c/:handle" element={<ChannelPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </main>
        <footer className="site-footer">
          <p>{t('app.footer')}</p>
        </footer>
      </BrowserRouter>
    </SessionProvider>
  );
}
