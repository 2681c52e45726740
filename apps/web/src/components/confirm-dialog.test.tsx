import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ConfirmDialog } from './confirm-dialog';

const renderDialog = () => {
  const onConfirm = vi.fn();
  const onCancel = vi.fn();
  render(
    <div>
      <button type="button">Opener</button>
      <ConfirmDialog
        title="Delete this replay?"
        confirmLabel="Delete"
        cancelLabel="Keep it"
        testIdPrefix="x"
        onConfirm={onConfirm}
        onCancel={onCancel}
      />
    </div>,
  );
  return { onConfirm, onCancel };
};

describe('ConfirmDialog', () => {
  it('is a labelled modal dialog with the safe choice focused', () => {
    renderDialog();
    const dialog = screen.getByRole('dialog', { name: 'Delete this replay?' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(dialog.getAttribute('data-testid')).toBe('x-dialog');
    expect(document.activeElement).toBe(screen.getByTestId('x-cancel'));
  });

  it('confirms with the confirm button, cancels with the other one or Escape', () => {
    const { onConfirm, onCancel } = renderDialog();
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect(onConfirm).toHaveBeenCalledTimes(1);
    fireEvent.click(screen.getByRole('button', { name: 'Keep it' }));
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    expect(onCancel).toHaveBeenCalledTimes(2);
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });
});
