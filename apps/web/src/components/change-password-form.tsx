import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { ErrorAlert } from './error-alert';

/** Change one's password (Profile): the current one, then the new one; other sessions are signed out. */
export function ChangePasswordForm() {
  const { t } = useTranslation();
  const id = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [pending, setPending] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setPending(true);
    setSaved(false);
    setError(null);
    try {
      await api.changePassword({ currentPassword: current, newPassword: next });
      setSaved(true);
      setCurrent('');
      setNext('');
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <form
      className="form"
      onSubmit={(e) => void submit(e)}
      aria-labelledby={`${id}-title`}
      data-testid="change-password"
    >
      <h2 id={`${id}-title`}>{t('password.changeTitle')}</h2>
      <ErrorAlert error={error} />
      <div className="field">
        <label htmlFor={`${id}-current`}>{t('password.current')}</label>
        <input
          id={`${id}-current`}
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-new`}>{t('password.new')}</label>
        <input
          id={`${id}-new`}
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
      </div>
      <button type="submit" className="button button-primary" disabled={pending}>
        {pending ? t('password.saving') : t('password.change')}
      </button>
      {saved && (
        <p className="status" role="status">
          {t('password.changed')}
        </p>
      )}
    </form>
  );
}
