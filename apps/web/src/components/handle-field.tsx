import { isFusionFlowError } from '@fusionflow/client';
import { HANDLE_MAX, Handle, RESERVED_HANDLES } from '@fusionflow/protocol';
import { useTranslation } from 'react-i18next';

/** Why a handle is refused before asking the server (the protocol's own schema), or null when it is fine. */
export function handleProblem(value: string): 'reserved' | 'invalid' | null {
  if (Handle.safeParse(value).success) return null;
  return RESERVED_HANDLES.has(value.trim().toLowerCase()) ? 'reserved' : 'invalid';
}

interface HandleFieldProps {
  id: string;
  value: string;
  onChange: (value: string) => void;
  /** The last request's error: `handle_taken` is shown here, at the field. */
  serverError?: unknown;
  /** Sign-up: empty is allowed (the server derives one from the display name). */
  optional?: boolean;
}

/** A channel address (`/c/<handle>`), checked as it is typed with the same schema the server uses. */
export function HandleField({ id, value, onChange, serverError, optional = false }: HandleFieldProps) {
  const { t } = useTranslation();
  const problem = optional && value.trim() === '' ? null : handleProblem(value);
  const taken = isFusionFlowError(serverError, 'handle_taken');
  const message = problem ? t(`handle.${problem}`) : taken ? t('errors.codes.handle_taken') : null;
  return (
    <div className="field">
      <label htmlFor={id}>{t('handle.label')}</label>
      <input
        id={id}
        name="handle"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        maxLength={HANDLE_MAX}
        required={!optional}
        aria-invalid={message ? true : undefined}
        aria-describedby={`${id}-hint${message ? ` ${id}-error` : ''}`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
      <p className="hint" id={`${id}-hint`}>
        {t(optional ? 'handle.hintOptional' : 'handle.hint', { handle: value.trim().toLowerCase() || '…' })}
      </p>
      {message && (
        <p className="field-error" id={`${id}-error`} data-testid="handle-error">
          {message}
        </p>
      )}
    </div>
  );
}
