import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router-dom';
import { api } from '../api';
import { ErrorAlert } from '../components/error-alert';

/** The page a reset link opens: the token is in the fragment (`#token=…`), never sent to a server in a URL. */
export function ResetPasswordPage() {
  const { t } = useTranslation();
  const id = useId();
  const token = new URLSearchParams(useLocation().hash.replace(/^#/, '')).get('token') ?? '';
  const [password, setPassword] = useState('');
  const [pending, setPending] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await api.confirmPasswordReset({ token, newPassword: password });
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <div className="narrow">
      <title>{`${t('password.resetTitle')} · ${t('app.name')}`}</title>
      <h1>{t('password.resetTitle')}</h1>
      {done ? (
        <p className="status" role="status" data-testid="reset-done">
          {t('password.resetDone')} <Link to="/signin">{t('password.signInNow')}</Link>
        </p>
      ) : token === '' ? (
        <p>
          {t('password.noToken')} <Link to="/forgot-password">{t('password.askAgain')}</Link>
        </p>
      ) : (
        <form className="form" onSubmit={(e) => void submit(e)}>
          <ErrorAlert error={error} />
          <div className="field">
            <label htmlFor={`${id}-password`}>{t('password.new')}</label>
            <input
              id={`${id}-password`}
              type="password"
              autoComplete="new-password"
              minLength={8}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <button type="submit" className="button button-primary" disabled={pending}>
            {pending ? t('password.saving') : t('password.save')}
          </button>
        </form>
      )}
    </div>
  );
}
