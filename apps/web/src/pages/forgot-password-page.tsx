import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { ErrorAlert } from '../components/error-alert';

/** "Forgot your password?": ask for a reset link by email (the answer never says whether the account exists). */
export function ForgotPasswordPage() {
  const { t } = useTranslation();
  const id = useId();
  const [email, setEmail] = useState('');
  const [pending, setPending] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await api.requestPasswordReset(email);
      setSent(true);
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <div className="narrow">
      <title>{`${t('password.forgotTitle')} · ${t('app.name')}`}</title>
      <h1>{t('password.forgotTitle')}</h1>
      {sent ? (
        <p className="status" role="status" data-testid="reset-sent">
          {t('password.sent', { email })}
        </p>
      ) : (
        <form className="form" onSubmit={(e) => void submit(e)}>
          <p className="hint">{t('password.forgotHint')}</p>
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
          <button type="submit" className="button button-primary" disabled={pending}>
            {pending ? t('password.sending') : t('password.sendLink')}
          </button>
        </form>
      )}
      <p className="form-footer">
        <Link to="/signin">{t('password.backToSignIn')}</Link>
      </p>
    </div>
  );
}
