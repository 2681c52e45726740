import type { Report, ReportAction } from '@fusionflow/protocol';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { governance } from '../../api';
import { ErrorAlert } from '../../components/error-alert';
import { formatDateTime } from '../../components/format';

const ACTIONS: Record<Report['target']['type'], ReportAction[]> = {
  message: ['dismiss', 'delete_message', 'mute', 'ban', 'suspend'],
  user: ['dismiss', 'suspend'],
  broadcast: ['dismiss', 'suspend'],
};

/** Moderators and admins: the report queue — claim, then resolve with an action. */
export function ReportsSection({ myId }: { myId: string }) {
  const { t, i18n } = useTranslation();
  const [reports, setReports] = useState<Report[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const load = useCallback(async () => {
    try {
      setReports(await governance.reportQueue());
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const run = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      await load();
    } catch (err) {
      setError(err);
    }
  };
  const target = (r: Report) =>
    r.target.type === 'user'
      ? t('governance.targets.user')
      : t(`governance.targets.${r.target.type}`, { room: r.target.roomId });

  return (
    <section aria-labelledby="reports-title">
      <h2 id="reports-title">{t('governance.reportQueue')}</h2>
      <ErrorAlert error={error} />
      {reports.length === 0 ? (
        <p className="muted">{t('governance.noReports')}</p>
      ) : (
        <table className="table" data-testid="report-queue">
          <thead>
            <tr>
              <th scope="col">{t('governance.reported')}</th>
              <th scope="col">{t('governance.target')}</th>
              <th scope="col">{t('governance.reason')}</th>
              <th scope="col">{t('governance.note')}</th>
              <th scope="col">{t('governance.action')}</th>
            </tr>
          </thead>
          <tbody>
            {reports.map((r) => (
              <tr key={r.id} data-testid="report-row">
                <td>{formatDateTime(r.createdAt, i18n.resolvedLanguage)}</td>
                <td>
                  {target(r)}
                  {r.subjectUserId && <div className="muted">{r.subjectUserId}</div>}
                  {r.messageText && <blockquote className="muted">{r.messageText}</blockquote>}
                </td>
                <td>{t(`governance.reasons.${r.reason}`)}</td>
                <td>{r.note ?? ''}</td>
                <td className="actions">
                  {r.status === 'open' && (
                    <button
                      type="button"
                      className="button"
                      onClick={() => void run(() => governance.claimReport(r.id))}
                    >
                      {t('governance.claim')}
                    </button>
                  )}
                  {r.status === 'claimed' && r.claimedBy !== myId && (
                    <span>{t('governance.claimedBy', { name: r.claimedBy })}</span>
                  )}
                  {(r.status === 'open' || r.claimedBy === myId) && (
                    <>
                      <input
                        aria-label={t('governance.note')}
                        maxLength={1000}
                        value={notes[r.id] ?? ''}
                        onChange={(e) => setNotes({ ...notes, [r.id]: e.target.value })}
                      />
                      {ACTIONS[r.target.type].map((action) => (
                        <button
                          key={action}
                          type="button"
                          className={action === 'dismiss' ? 'button button-quiet' : 'button button-danger'}
                          onClick={() =>
                            void run(() =>
                              governance.resolveReport(r.id, { action, ...(notes[r.id] ? { note: notes[r.id] } : {}) }),
                            )
                          }
                        >
                          {t(`governance.actions.${action}`)}
                        </button>
                      ))}
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
