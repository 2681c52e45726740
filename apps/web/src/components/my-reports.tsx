import type { MyReport } from '@fusionflow/protocol';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { governance } from '../api';
import { formatDateTime } from './format';

/** The reports I filed, and whether moderators handled them (and how). */
export function MyReports() {
  const { t, i18n } = useTranslation();
  const [reports, setReports] = useState<MyReport[] | null>(null);
  useEffect(() => {
    governance
      .myReports()
      .then(setReports)
      .catch(() => setReports([]));
  }, []);
  if (!reports || reports.length === 0) return null;
  return (
    <section aria-labelledby="my-reports-title">
      <h2 id="my-reports-title">{t('governance.myReports')}</h2>
      <ul className="plain" data-testid="my-reports">
        {reports.map((r) => (
          <li key={r.id} data-status={r.status}>
            {formatDateTime(r.createdAt, i18n.resolvedLanguage)} · {t(`governance.reasons.${r.reason}`)} ·{' '}
            {t(`governance.reportStatuses.${r.status}`)}
            {r.action ? ` (${t(`governance.actions.${r.action}`)})` : ''}
          </li>
        ))}
      </ul>
    </section>
  );
}
