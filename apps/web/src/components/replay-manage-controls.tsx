import { type Replay, RoomTitle } from '@fusionflow/protocol';
import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { ConfirmDialog } from './confirm-dialog';
import { ErrorAlert } from './error-alert';

/** The longest replay title (the protocol's `RoomTitle`). */
const TITLE_MAX = 140;

type Busy = null | 'rename' | 'visibility' | 'delete';

/**
 * The owner's controls on one of their replays: rename it (inline), hide it from everyone else or show it again,
 * and delete it after a confirmation. `onChange` gets the replay as the server now has it; `onDelete` its id once
 * it is gone.
 */
export function ReplayManageControls({
  replay,
  onChange,
  onDelete,
}: {
  replay: Replay;
  onChange: (replay: Replay) => void;
  onDelete: (id: string) => void;
}) {
  const { t } = useTranslation();
  const fieldId = useId();
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(replay.title);
  const [invalid, setInvalid] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<unknown>(null);

  const run = async (kind: Exclude<Busy, null>, action: () => Promise<void>) => {
    setBusy(kind);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const startRename = () => {
    setTitle(replay.title);
    setInvalid(false);
    setError(null);
    setEditing(true);
  };

  const save = (e: FormEvent) => {
    e.preventDefault();
    const parsed = RoomTitle.safeParse(title);
    if (!parsed.success) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    void run('rename', async () => {
      onChange(await api.updateReplay(replay.id, { title: parsed.data }));
      setEditing(false);
    });
  };

  const toggleHidden = () =>
    run('visibility', async () => onChange(await api.updateReplay(replay.id, { hidden: !replay.hidden })));

  const remove = () =>
    run('delete', async () => {
      await api.deleteReplay(replay.id);
      onDelete(replay.id);
    });

  return (
    <fieldset className="replay-manage" data-testid="replay-manage">
      {/* Which replay a screen reader's Rename, Hide and Delete are for: the group is named after it. */}
      <legend className="visually-hidden">{t('replayManage.group', { title: replay.title })}</legend>
      {editing ? (
        <form className="replay-rename" onSubmit={save} noValidate>
          <div className="field">
            <label htmlFor={fieldId}>{t('replayManage.titleLabel')}</label>
            <input
              id={fieldId}
              data-testid="replay-rename-input"
              maxLength={TITLE_MAX}
              aria-invalid={invalid ? true : undefined}
              aria-describedby={invalid ? `${fieldId}-error` : undefined}
              value={title}
              onChange={(e) => setTitle(e.target.value)}
            />
            {invalid && (
              <p className="field-error" id={`${fieldId}-error`} data-testid="replay-rename-error">
                {t('replayManage.titleInvalid', { max: TITLE_MAX })}
              </p>
            )}
          </div>
          <div className="room-actions">
            <button
              type="submit"
              className="button button-primary"
              data-testid="replay-rename-save"
              disabled={busy !== null}
            >
              {busy === 'rename' ? t('replayManage.saving') : t('replayManage.save')}
            </button>
            <button
              type="button"
              className="button"
              data-testid="replay-rename-cancel"
              disabled={busy === 'rename'}
              onClick={() => {
                setEditing(false);
                setInvalid(false);
                setError(null);
              }}
            >
              {t('replayManage.cancel')}
            </button>
          </div>
        </form>
      ) : (
        <div className="room-actions">
          <button
            type="button"
            className="button"
            data-testid="replay-rename"
            disabled={busy !== null}
            onClick={startRename}
          >
            {t('replayManage.rename')}
          </button>
          <button
            type="button"
            className="button"
            data-testid="replay-visibility"
            disabled={busy !== null}
            onClick={() => void toggleHidden()}
          >
            {replay.hidden ? t('replayManage.show') : t('replayManage.hide')}
          </button>
          <button
            type="button"
            className="button button-danger"
            data-testid="replay-delete"
            disabled={busy !== null}
            onClick={() => {
              setError(null);
              setConfirming(true);
            }}
          >
            {busy === 'delete' ? t('replayManage.deleting') : t('replayManage.delete')}
          </button>
        </div>
      )}
      <ErrorAlert error={error} />
      {confirming && (
        <ConfirmDialog
          title={t('replayManage.deleteConfirmTitle')}
          confirmLabel={t('replayManage.deleteConfirm')}
          cancelLabel={t('replayManage.keep')}
          testIdPrefix="replay-delete"
          onConfirm={() => {
            setConfirming(false);
            void remove();
          }}
          onCancel={() => setConfirming(false)}
        />
      )}
    </fieldset>
  );
}
