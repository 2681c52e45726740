import type { AdminUserDetail, AdminUserSummary, Role } from '@fusionflow/protocol';
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { governance } from '../../api';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime, formatTokens } from '../../components/format';
import { PasswordResetLink } from './password-reset-link';

const ROLES: Role[] = ['viewer', 'streamer', 'studio', 'moderator', 'admin'];

/**
 * Moderators and admins: find accounts; admins change roles and make password-reset links; both
 * suspend, admins reinstate.
 */
export function UsersSection({ isAdmin }: { isAdmin: boolean }) {
  const { t, i18n } = useTranslation();
  const [q, setQ] = useState('');
  const [users, setUsers] = useState<AdminUserSummary[] | null>(null);
  const [detail, setDetail] = useState<AdminUserDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(err);
    }
  };
  const search = (e?: FormEvent) => {
    e?.preventDefault();
    void run(async () => setUsers(await governance.searchUsers({ q })));
  };
  const open = (id: string) => void run(async () => setDetail(await governance.user(id)));

  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">{t('governance.tabs.users')}</h2>
      <form className="field inline" onSubmit={search}>
        <label htmlFor="user-search">{t('governance.search')}</label>
        <input id="user-search" value={q} maxLength={100} onChange={(e) => setQ(e.target.value)} />
        <button type="submit" className="button button-primary">
          {t('governance.searchButton')}
        </button>
      </form>
      <ErrorAlert error={error} />
      {users && users.length === 0 && <p className="muted">{t('governance.noUsers')}</p>}
      {users && users.length > 0 && (
        <table className="table" data-testid="user-results">
          <thead>
            <tr>
              <th scope="col">{t('governance.name')}</th>
              <th scope="col">{t('governance.email')}</th>
              <th scope="col">{t('governance.role')}</th>
              <th scope="col">{t('governance.signedUp')}</th>
              <th scope="col">{t('governance.status')}</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>
                  <button type="button" className="chat-link" onClick={() => open(u.id)}>
                    {u.displayName}
                  </button>
                </td>
                <td>{u.email}</td>
                <td>{t(`roles.${u.role}`)}</td>
                <td>{formatDateTime(u.createdAt, i18n.resolvedLanguage)}</td>
                <td>
                  {u.suspension
                    ? t('governance.suspendedForever', { reason: u.suspension.reason })
                    : t('governance.active')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {detail && (
        <UserDetail
          detail={detail}
          isAdmin={isAdmin}
          onChanged={() => {
            open(detail.id);
            search();
          }}
          onClose={() => setDetail(null)}
        />
      )}
    </section>
  );
}

function UserDetail(p: { detail: AdminUserDetail; isAdmin: boolean; onChanged: () => void; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const d = p.detail;
  const [role, setRole] = useState<Role>(d.role);
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState('');
  const [error, setError] = useState<unknown>(null);
  const lang = i18n.resolvedLanguage;
  const run = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      p.onChanged();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <article className="card" data-testid="user-detail" aria-label={d.displayName}>
      <h3>{d.displayName}</h3>
      <dl className="facts">
        <dt>{t('governance.email')}</dt>
        <dd>{d.email}</dd>
        <dt>{t('governance.role')}</dt>
        <dd>{t(`roles.${d.role}`)}</dd>
        <dt>{t('governance.signedUp')}</dt>
        <dd>{formatDateTime(d.createdAt, lang)}</dd>
        <dt>{t('governance.balance')}</dt>
        <dd>{formatTokens(d.balance, lang)}</dd>
        <dt>{t('governance.earnings')}</dt>
        <dd>
          {t('governance.earningsValue', {
            available: formatTokens(d.earnings.available, lang),
            total: formatTokens(d.earnings.total, lang),
          })}
        </dd>
        <dt>{t('governance.status')}</dt>
        <dd data-testid="user-status">
          {d.suspension
            ? d.suspension.until
              ? t('governance.suspendedUntil', {
                  until: formatDateTime(d.suspension.until, lang),
                  reason: d.suspension.reason,
                })
              : t('governance.suspendedForever', { reason: d.suspension.reason })
            : t('governance.active')}
        </dd>
        <dt>{t('governance.recentRooms')}</dt>
        <dd>
          {d.recentRooms.length
            ? d.recentRooms.map((r) => `${r.title} (${r.status})`).join(', ')
            : t('governance.none')}
        </dd>
        <dt>{t('governance.reportsAgainst')}</dt>
        <dd>
          {d.reports.length
            ? d.reports.map((r) => t(`governance.reasons.${r.reason}`)).join(', ')
            : t('governance.none')}
        </dd>
      </dl>
      <ErrorAlert error={error} />
      {p.isAdmin && (
        <div className="field inline">
          <label htmlFor="role-select">{t('governance.changeRole')}</label>
          <select id="role-select" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`roles.${r}`)}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="button"
            onClick={() => void run(() => governance.setRole(d.id, role, reason || undefined))}
          >
            {t('governance.saveRole')}
          </button>
        </div>
      )}
      {p.isAdmin && <PasswordResetLink userId={d.id} />}
      <div className="field">
        <label htmlFor="gov-reason">{t('governance.reason')}</label>
        <input id="gov-reason" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="gov-until">{t('governance.until')}</label>
        <input id="gov-until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
      </div>
      <div className="actions">
        {!d.suspension && (
          <button
            type="button"
            className="button button-danger"
            disabled={reason.trim() === ''}
            onClick={() =>
              void run(() => governance.suspend(d.id, reason.trim(), until ? new Date(until).toISOString() : undefined))
            }
          >
            {t('governance.suspend')}
          </button>
        )}
        {d.suspension && p.isAdmin && (
          <button
            type="button"
            className="button"
            onClick={() => void run(() => governance.reinstate(d.id, reason || undefined))}
          >
            {t('governance.reinstate')}
          </button>
        )}
        <button type="button" className="button button-quiet" onClick={p.onClose}>
          {t('governance.close')}
        </button>
      </div>
    </article>
  );
}
