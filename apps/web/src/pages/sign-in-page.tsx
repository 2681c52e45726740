import { type FormEvent, useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { api } from '../api';
import { ErrorAlert } from '../components/error-alert';
import { returnPath } from '../session/return-path';

export function SignInPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const id = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // "Forgot your password?" only where the server can email a link (SMTP_URL).
  const [resetByEmail, setResetByEmail] = useState(false);
  useEffect(() => {
    api.authOptions().then(
      (o) => setResetByEmail(o.passwordResetByEmail),
      () => {},
    );
  }, []);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await api.login({ email, password });
      // Back to the page that asked for it (a room, to buy its ticket), or home.
      navigate(returnPath(location.state) ?? '/', { replace: true });
    } catch (err) {
      setError(err);
      setPending(false);
    }
  };

  return (
    <div className="narrow">
      <title>{`${t('signIn.title')} · ${t('app.name')}`}</title>
      <h1>{t('signIn.title')}</h1>
      <form className="form" onSubmit={(e) => void submit(e)}>
        <ErrorAlert error={error} />
        <div className="field">
          <label htmlFor={`${id}-email`}>{t('signIn.email')}</label>
          <input
            id={`${id}-email`}
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>{t('signIn.password')}</label>
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? t('signIn.submitting') : t('signIn.submit')}
        </button>
      </form>
      {resetByEmail && (
        <p className="form-footer">
          <Link to="/forgot-password">{t('password.forgotLink')}</Link>
        </p>
      )}
      <p className="form-footer">
        {t('signIn.noAccount')}{' '}
        <Link to="/signup" state={location.state}>
          {t('signIn.signUpLink')}
        </Link>
      </p>
    </div>
  );
}
