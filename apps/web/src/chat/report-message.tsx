import { asRoomId, ReportReason } from '@fusionflow/protocol';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { governance } from '../api';
import { ErrorAlert } from '../components/error-alert';

/** A reader reports a chat message to the platform's moderators (reason from the list). */
export function ReportMessage({ roomId, messageId, author }: { roomId: string; messageId: string; author: string }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDetailsElement>(null);
  const [reason, setReason] = useState<ReportReason>('spam');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const send = async () => {
    setError(null);
    try {
      await governance.report({ target: { type: 'message', roomId: asRoomId(roomId), messageId }, reason });
      setSent(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <details className="chat-menu" ref={ref} data-testid="chat-report">
      <summary aria-label={`${t('governance.report')}: ${author}`}>⚑</summary>
      <div className="chat-menu-items">
        {sent ? (
          <p role="status">{t('governance.reportSent')}</p>
        ) : (
          <>
            <label htmlFor={`report-${messageId}`}>{t('governance.reportReason')}</label>
            <select
              id={`report-${messageId}`}
              value={reason}
              onChange={(e) => setReason(e.target.value as ReportReason)}
            >
              {ReportReason.options.map((r) => (
                <option key={r} value={r}>
                  {t(`governance.reasons.${r}`)}
                </option>
              ))}
            </select>
            <button
              type="button"
              className="button button-quiet"
              data-testid="chat-report-send"
              onClick={() => void send()}
            >
              {t('governance.sendReport')}
            </button>
            <ErrorAlert error={error} />
          </>
        )}
      </div>
    </details>
  );
}
