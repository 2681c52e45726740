import type { Studio } from '@fusionflow/protocol';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { governance } from '../../api';
import { ErrorAlert } from '../../components/error-alert';
import { formatTokens } from '../../components/format';

/** Admins: studios, their streamers and share; create one, attach and detach streamers. */
export function StudiosSection() {
  const { t, i18n } = useTranslation();
  const [studios, setStudios] = useState<Studio[]>([]);
  const [form, setForm] = useState({ email: '', displayName: '', password: '' });
  const [attach, setAttach] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setStudios(await governance.studios());
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
  const create = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await governance.createStudio(form);
      setForm({ email: '', displayName: '', password: '' });
    });
  };
  return (
    <section aria-labelledby="studios-title">
      <h2 id="studios-title">{t('governance.studiosTitle')}</h2>
      <ErrorAlert error={error} />
      {studios.length === 0 ? (
        <p className="muted">{t('governance.noStudios')}</p>
      ) : (
        <table className="table" data-testid="studios">
          <thead>
            <tr>
              <th scope="col">{t('governance.name')}</th>
              <th scope="col">{t('governance.share')}</th>
              <th scope="col">{t('governance.streamers')}</th>
              <th scope="col" className="num">
                {t('governance.earned')}
              </th>
            </tr>
          </thead>
          <tbody>
            {studios.map((s) => (
              <tr key={s.id}>
                <td>
                  {s.displayName} <span className="muted">{s.email}</span>
                </td>
                <td>{s.sharePercent} %</td>
                <td>
                  <ul className="plain">
                    {s.streamers.map((m) => (
                      <li key={m.id}>
                        {m.displayName}{' '}
                        <button
                          type="button"
                          className="button button-quiet"
                          onClick={() => void run(() => governance.detachStreamer(s.id, m.id))}
                        >
                          {t('governance.detach')}
                        </button>
                      </li>
                    ))}
                  </ul>
                  <input
                    aria-label={t('governance.attach')}
                    placeholder={t('governance.attach')}
                    maxLength={64}
                    value={attach[s.id] ?? ''}
                    onChange={(e) => setAttach({ ...attach, [s.id]: e.target.value.trim() })}
                  />
                  <button
                    type="button"
                    className="button"
                    disabled={!attach[s.id]}
                    onClick={() => void run(() => governance.attachStreamer(s.id, attach[s.id] ?? ''))}
                  >
                    {t('governance.add')}
                  </button>
                </td>
                <td className="num">{formatTokens(s.earned, i18n.resolvedLanguage)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="card" onSubmit={create}>
        <h3>{t('governance.createStudio')}</h3>
        {(['displayName', 'email', 'password'] as const).map((key) => (
          <div className="field" key={key}>
            <label htmlFor={`studio-${key}`}>
              {t(key === 'displayName' ? 'governance.name' : `governance.${key}`)}
            </label>
            <input
              id={`studio-${key}`}
              type={key === 'password' ? 'password' : key === 'email' ? 'email' : 'text'}
              required
              minLength={key === 'password' ? 8 : 1}
              value={form[key]}
              onChange={(e) => setForm({ ...form, [key]: e.target.value })}
            />
          </div>
        ))}
        <button type="submit" className="button button-primary">
          {t('governance.create')}
        </button>
      </form>
    </section>
  );
}
