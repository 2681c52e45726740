import { AuditAction, type AuditEvent, type AuditQuery } from '@fusionflow/protocol';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, governance } from '../../api';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../components/format';

type Filters = Pick<AuditQuery, 'actorId' | 'targetId' | 'roomId' | 'action'>;

/** Admins: the audit trail, filtered, paged, exported as CSV. */
export function AuditSection() {
  const { t, i18n } = useTranslation();
  const [filters, setFilters] = useState<Partial<Filters>>({});
  const [applied, setApplied] = useState<Partial<Filters>>({});
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const clean = (f: Partial<Filters>) => Object.fromEntries(Object.entries(f).filter(([, v]) => v)) as Partial<Filters>;
  const load = useCallback(async (f: Partial<Filters>, more?: string) => {
    setError(null);
    try {
      const page = await governance.audit({ ...f, ...(more ? { cursor: more } : {}) });
      setEvents((old) => (more ? [...old, ...page.events] : page.events));
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load(applied);
  }, [load, applied]);
  const exportCsv = async () => {
    try {
      const res = await fetch(governance.auditCsvPath(applied), {
        headers: { authorization: `Bearer ${api.accessToken}` },
      });
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = 'audit.csv';
      a.click();
      URL.revokeObjectURL(url);
    } catch (err) {
      setError(err);
    }
  };
  const field = (key: 'actorId' | 'targetId' | 'roomId', label: string) => (
    <div className="field">
      <label htmlFor={`audit-${key}`}>{label}</label>
      <input
        id={`audit-${key}`}
        maxLength={128}
        value={filters[key] ?? ''}
        onChange={(e) => setFilters({ ...filters, [key]: e.target.value.trim() })}
      />
    </div>
  );
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">{t('governance.auditTitle')}</h2>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(clean(filters));
        }}
      >
        {field('actorId', t('governance.filterActor'))}
        {field('targetId', t('governance.filterTarget'))}
        {field('roomId', t('governance.filterRoom'))}
        <div className="field">
          <label htmlFor="audit-action">{t('governance.filterAction')}</label>
          <select
            id="audit-action"
            value={filters.action ?? ''}
            onChange={(e) =>
              setFilters({ ...filters, action: (e.target.value || undefined) as AuditAction | undefined })
            }
          >
            <option value="">{t('governance.anyAction')}</option>
            {AuditAction.options.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button button-primary">
          {t('governance.apply')}
        </button>
        <button type="button" className="button" onClick={() => void exportCsv()}>
          {t('governance.exportCsv')}
        </button>
      </form>
      <ErrorAlert error={error} />
      {events.length === 0 ? (
        <p className="muted">{t('governance.noEvents')}</p>
      ) : (
        <table className="table" data-testid="audit-events">
          <thead>
            <tr>
              <th scope="col">{t('governance.when')}</th>
              <th scope="col">{t('governance.who')}</th>
              <th scope="col">{t('governance.what')}</th>
              <th scope="col">{t('governance.target')}</th>
              <th scope="col">{t('governance.reason')}</th>
              <th scope="col">{t('governance.details')}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                <td>{formatDateTime(e.at, i18n.resolvedLanguage)}</td>
                <td>
                  {e.actorName ?? e.actorId} <span className="muted">({e.actorRole})</span>
                </td>
                <td>{e.action}</td>
                <td>
                  {e.targetType} {e.targetId}
                  {e.roomId && e.roomId !== e.targetId ? ` · ${e.roomId}` : ''}
                </td>
                <td>{e.reason ?? ''}</td>
                <td>
                  <code>{JSON.stringify(e.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" className="button" onClick={() => void load(applied, cursor)}>
          {t('governance.older')}
        </button>
      )}
    </section>
  );
}
