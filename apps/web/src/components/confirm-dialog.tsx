import { useEffect, useId, useRef } from 'react';

export interface ConfirmDialogProps {
  title: string;
  confirmLabel: string;
  cancelLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  /** Test ids: `<testIdPrefix>-dialog`, `<testIdPrefix>-confirm`, `<testIdPrefix>-cancel`. */
  testIdPrefix: string;
}

/**
 * "Are you sure?" before something that cannot be undone: the safe choice has the focus, Escape picks it, and the
 * focus goes back where it was when the dialog closes.
 */
export function ConfirmDialog({
  title,
  confirmLabel,
  cancelLabel,
  onConfirm,
  onCancel,
  testIdPrefix,
}: ConfirmDialogProps) {
  const titleId = useId();
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    cancelRef.current?.focus();
    return () => previous?.focus?.();
  }, []);
  return (
    <div
      className="dialog"
      role="dialog"
      aria-modal="true"
      aria-labelledby={titleId}
      data-testid={`${testIdPrefix}-dialog`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onCancel();
        }
      }}
    >
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-actions">
        <button
          type="button"
          className="button button-danger"
          data-testid={`${testIdPrefix}-confirm`}
          onClick={onConfirm}
        >
          {confirmLabel}
        </button>
        <button
          ref={cancelRef}
          type="button"
          className="button"
          data-testid={`${testIdPrefix}-cancel`}
          onClick={onCancel}
        >
          {cancelLabel}
        </button>
      </div>
    </div>
  );
}
