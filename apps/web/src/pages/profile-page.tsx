import { isFusionFlowError } from '@fusionflow/client';
import type { User } from '@fusionflow/protocol';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { ChangePasswordForm } from '../components/change-password-form';
import { channelPath } from '../components/channel-link';
import { ErrorAlert } from '../components/error-alert';
import { HandleField, handleProblem } from '../components/handle-field';
import { LanguageSelect } from '../components/language-select';
import { MyReports } from '../components/my-reports';
import { useSession } from '../session/session-context';

/** The signed-in account: display name and preferred language (which the interface follows), password. */
export function ProfilePage() {
  const { user } = useSession();
  // RequireAccount renders this page only with a user; keyed so a different account starts fresh.
  return user ? <ProfileForm key={user.id} user={user} /> : null;
}

function ProfileForm({ user }: { user: User }) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const [displayName, setDisplayName] = useState(user.displayName);
  const [language, setLanguage] = useState(user.language);
  const [handle, setHandle] = useState(user.handle ?? '');
  const [pending, setPending] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (handleProblem(handle)) return;
    setPending(true);
    setSaved(false);
    setError(null);
    try {
      // The session listener switches the interface language when the preferred one changes.
      const newHandle = handle.trim().toLowerCase();
      await api.updateMe({ displayName, language, ...(newHandle !== user.handle ? { handle: newHandle } : {}) });
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  const memberSince = user.createdAt
    ? new Intl.DateTimeFormat(i18n.resolvedLanguage, { dateStyle: 'long' }).format(new Date(user.createdAt))
    : '';

  return (
    <div className="narrow">
      <title>{`${t('profile.title')} · ${t('app.name')}`}</title>
      <h1>{t('profile.title')}</h1>
      <dl className="facts">
        <dt>{t('profile.email')}</dt>
        <dd>{user.email}</dd>
        <dt>{t('profile.role')}</dt>
        <dd>{t(`roles.${user.role}`)}</dd>
        {user.handle && (
          <>
            <dt>{t('profile.channel')}</dt>
            <dd>
              <Link to={channelPath(user.handle)} data-testid="my-channel">
                {`/c/${user.handle}`}
              </Link>
            </dd>
          </>
        )}
        {memberSince && (
          <>
            <dt>{t('profile.memberSince')}</dt>
            <dd>{memberSince}</dd>
          </>
        )}
      </dl>
      <form className="form" onSubmit={(e) => void submit(e)}>
        {/* A taken handle is shown at its field. */}
        <ErrorAlert error={isFusionFlowError(error, 'handle_taken') ? null : error} />
        <div className="field">
          <label htmlFor={`${id}-name`}>{t('profile.displayName')}</label>
          <input
            id={`${id}-name`}
            autoComplete="nickname"
            required
            maxLength={50}
            value={displayName}
            onChange={(e) => {
              setDisplayName(e.target.value);
              setSaved(false);
            }}
          />
        </div>
        <HandleField
          id={`${id}-handle`}
          value={handle}
          serverError={error}
          onChange={(value) => {
            setHandle(value);
            setSaved(false);
            if (isFusionFlowError(error, 'handle_taken')) setError(null);
          }}
        />
        <div className="field">
          <label htmlFor={`${id}-language`}>{t('profile.language')}</label>
          <LanguageSelect
            id={`${id}-language`}
            value={language}
            describedBy={`${id}-language-hint`}
            onChange={(value) => {
              setLanguage(value);
              setSaved(false);
            }}
          />
          <p className="hint" id={`${id}-language-hint`}>
            {t('profile.languageHint')}
          </p>
        </div>
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? t('profile.submitting') : t('profile.submit')}
        </button>
        <p className="status" role="status">
          {saved ? t('profile.saved') : ''}
        </p>
      </form>
      <ChangePasswordForm />
      <MyReports />
    </div>
  );
}
