import type { AdminPasswordResetResponse } from '@fusionflow/protocol';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api';
import { CopyLinkButton } from '../../components/copy-link-button';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../components/format';

/**
 * Admins: make a single-use password-reset link for an account and copy it, to hand over to its
 * holder (the way to reset a password on a server that sends no email). Making a new link does not
 * revoke an earlier one; using any of them ends the others.
 */
export function PasswordResetLink({ userId }: { userId: string }) {
  const { t, i18n } = useTranslation();
  const [link, setLink] = useState<AdminPasswordResetResponse | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const make = async () => {
    setError(null);
    setBusy(true);
    try {
      setLink(await api.adminPasswordReset(userId));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="field" data-testid="password-reset-link">
      <button type="button" className="button" disabled={busy} onClick={() => void make()}>
        {t('governance.makeResetLink')}
      </button>
      <ErrorAlert error={error} />
      {link && (
        <p>
          <span data-testid="reset-link-note">
            {t('governance.resetLinkMade', { until: formatDateTime(link.expiresAt, i18n.resolvedLanguage) })}
          </span>{' '}
          <CopyLinkButton url={link.resetUrl} label={t('governance.copyResetLink')} testId="copy-reset-link" />
        </p>
      )}
    </div>
  );
}
