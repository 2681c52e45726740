import { ApiError } from '@fusionflow/client';
import { useTranslation } from 'react-i18next';
import en from '../i18n/en.json';

type KnownCode = keyof typeof en.errors.codes;
type KnownField = keyof typeof en.errors.fields;

const isKnownCode = (code: string): code is KnownCode => Object.hasOwn(en.errors.codes, code);
const isKnownField = (field: string): field is KnownField => Object.hasOwn(en.errors.fields, field);

interface FieldIssue {
  field: string;
  message: string;
}

/** The per-field problems of a `validation_failed` error (`details` is the validator's list). */
function fieldIssues(details: unknown): FieldIssue[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((d: unknown) => {
    if (typeof d !== 'object' || d === null) return [];
    const { instancePath, message } = d as { instancePath?: unknown; message?: unknown };
    if (typeof message !== 'string') return [];
    const field = typeof instancePath === 'string' ? instancePath.replace(/^\//, '').replaceAll('/', '.') : '';
    return [{ field, message }];
  });
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError('internal_error', 0, error instanceof Error ? error.message : String(error));
}

/**
 * A failed request, shown so a person can act on it: one sentence in the interface's language (the
 * error code's explanation), the fields that failed validation, and — behind a "Details" toggle —
 * the server's own (English) message and the code, for a bug report.
 */
export function ErrorAlert({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (error === null || error === undefined) return null;
  const e = asApiError(error);
  const friendly = isKnownCode(e.code) ? t(`errors.codes.${e.code}`) : t('errors.unknown');
  const issues = fieldIssues(e.details);
  return (
    <div className="alert" role="alert" data-code={e.code}>
      <p className="alert-title">{friendly}</p>
      {issues.length > 0 && (
        <ul className="alert-issues">
          {issues.map((issue) => (
            <li key={`${issue.field}:${issue.message}`}>
              {issue.field && (
                <strong>{isKnownField(issue.field) ? t(`errors.fields.${issue.field}`) : issue.field}: </strong>
              )}
              {issue.message}
            </li>
          ))}
        </ul>
      )}
      <details className="alert-meta" data-testid="error-details">
        <summary>{t('errors.details')}</summary>
        {e.message && e.message !== friendly && <p>{t('errors.server', { message: e.message })}</p>}
        <p>
          <code>{t('errors.code', { code: e.code })}</code>
        </p>
      </details>
    </div>
  );
}
