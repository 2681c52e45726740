import { isFusionFlowError } from '@fusionflow/client';
import type { SelfServiceRole } from '@fusionflow/protocol';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { api } from '../api';
import { ErrorAlert } from '../components/error-alert';
import { HandleField, handleProblem } from '../components/handle-field';
import { LanguageSelect } from '../components/language-select';
import { browserPreferredLanguage, uiLanguageFor } from '../i18n/languages';
import { returnPath } from '../session/return-path';

export function SignUpPage() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const id = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [handle, setHandle] = useState('');
  const [role, setRole] = useState<SelfServiceRole>('viewer');
  const [language, setLanguage] = useState(browserPreferredLanguage);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const chosen = handle.trim().toLowerCase();
    if (chosen && handleProblem(chosen)) return;
    setPending(true);
    setError(null);
    try {
      await api.register({ email, password, displayName, role, language, ...(chosen ? { handle: chosen } : {}) });
      navigate(returnPath(location.state) ?? '/', { replace: true });
    } catch (err) {
      setError(err);
      setPending(false);
    }
  };

  return (
    <div className="narrow">
      <title>{`${t('signUp.title')} · ${t('app.name')}`}</title>
      <h1>{t('signUp.title')}</h1>
      <form className="form" onSubmit={(e) => void submit(e)}>
        <ErrorAlert error={isFusionFlowError(error, 'handle_taken') ? null : error} />
        <div className="field">
          <label htmlFor={`${id}-email`}>{t('signUp.email')}</label>
          <input
            id={`${id}-email`}
            type="email"
            autoComplete="email"
            required
            maxLength={254}
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>{t('signUp.password')}</label>
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={256}
            aria-describedby={`${id}-password-hint`}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <p className="hint" id={`${id}-password-hint`}>
            {t('signUp.passwordHint')}
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${id}-name`}>{t('signUp.displayName')}</label>
          <input
            id={`${id}-name`}
            autoComplete="nickname"
            required
            maxLength={50}
            aria-describedby={`${id}-name-hint`}
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
          />
          <p className="hint" id={`${id}-name-hint`}>
            {t('signUp.displayNameHint')}
          </p>
        </div>
        <HandleField
          id={`${id}-handle`}
          value={handle}
          optional
          serverError={error}
          onChange={(value) => {
            setHandle(value);
            if (isFusionFlowError(error, 'handle_taken')) setError(null);
          }}
        />
        <fieldset className="field choices">
          <legend>{t('signUp.role')}</legend>
          <label className="choice">
            <input
              type="radio"
              name="role"
              value="viewer"
              checked={role === 'viewer'}
              onChange={() => setRole('viewer')}
            />
            {t('signUp.roleViewer')}
          </label>
          <label className="choice">
            <input
              type="radio"
              name="role"
              value="streamer"
              checked={role === 'streamer'}
              onChange={() => setRole('streamer')}
            />
            {t('signUp.roleStreamer')}
          </label>
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-language`}>{t('signUp.language')}</label>
          <LanguageSelect
            id={`${id}-language`}
            value={language}
            onChange={(picked) => {
              setLanguage(picked);
              // The form speaks the language picked (English for one the interface is not translated into).
              void i18n.changeLanguage(uiLanguageFor(picked));
            }}
          />
        </div>
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? t('signUp.submitting') : t('signUp.submit')}
        </button>
      </form>
      <p className="form-footer">
        {t('signUp.haveAccount')} <Link to="/signin">{t('signUp.signInLink')}</Link>
      </p>
    </div>
  );
}
