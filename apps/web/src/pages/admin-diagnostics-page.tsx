import type { DiagnosticsReport } from '@fusionflow/protocol';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { ErrorAlert } from '../components/error-alert';
import { formatDateTime } from '../components/format';
import { useSession } from '../session/session-context';

/** Admins: the doctor's report — every dependency, what is wrong and what to change. */
export function AdminDiagnosticsPage() {
  const { t, i18n } = useTranslation();
  const { user } = useSession();
  const [report, setReport] = useState<DiagnosticsReport | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const run = useCallback(async (fresh: boolean) => {
    setError(null);
    setRunning(true);
    try {
      setReport(await api.getDiagnostics({ fresh }));
    } catch (err) {
      setError(err);
    } finally {
      setRunning(false);
    }
  }, []);
  useEffect(() => {
    if (user?.role === 'admin') void run(false);
  }, [run, user?.role]);

  if (user?.role !== 'admin') return <p>{t('admin.onlyAdmins')}</p>;
  return (
    <div>
      <title>{`${t('admin.diagnosticsTitle')} · ${t('app.name')}`}</title>
      <h1>{t('admin.diagnosticsTitle')}</h1>
      <p className="muted">{t('admin.diagnosticsIntro')}</p>
      <button type="button" className="button" disabled={running} onClick={() => void run(true)}>
        {running ? t('admin.checking') : t('admin.runAgain')}
      </button>
      <ErrorAlert error={error} />
      {report && (
        <>
          <p
            data-testid="diagnostics-status"
            data-status={report.status}
            className={report.status === 'ok' ? 'status' : 'alert'}
          >
            {t('admin.overall', { status: t(`admin.statuses.${report.status}`) })} ·{' '}
            {t('admin.checkedAt', { when: formatDateTime(report.checkedAt, i18n.resolvedLanguage) })}
          </p>
          <table className="table" data-testid="diagnostics">
            <thead>
              <tr>
                <th scope="col">{t('admin.check')}</th>
                <th scope="col">{t('admin.result')}</th>
                <th scope="col">{t('admin.fix')}</th>
              </tr>
            </thead>
            <tbody>
              {report.checks.map((c) => (
                <tr key={c.id} data-testid="diagnostic" data-check={c.id} data-status={c.status}>
                  <th scope="row">
                    {c.title}
                    <div className={c.status === 'fail' ? 'alert' : 'muted'}>{t(`admin.statuses.${c.status}`)}</div>
                  </th>
                  <td>{c.summary}</td>
                  <td>{c.status === 'ok' ? '' : (c.fix ?? '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
