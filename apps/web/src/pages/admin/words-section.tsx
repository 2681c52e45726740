import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { governance } from '../../api';
import { ErrorAlert } from '../../components/error-alert';

/** Admins: the words blocked in every room. */
export function WordsSection() {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    governance
      .blockedWords()
      .then((words) => setText(words.join('\n')))
      .catch(setError);
  }, []);
  const save = async () => {
    setError(null);
    setSaved(false);
    try {
      const words = text
        .split('\n')
        .map((w) => w.trim())
        .filter(Boolean);
      setText((await governance.setBlockedWords(words)).join('\n'));
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="words-title">
      <h2 id="words-title">{t('governance.wordsTitle')}</h2>
      <p className="muted" id="words-help">
        {t('governance.wordsHelp')}
      </p>
      <textarea
        aria-labelledby="words-title"
        aria-describedby="words-help"
        rows={8}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <ErrorAlert error={error} />
      <button type="button" className="button button-primary" onClick={() => void save()}>
        {t('governance.save')}
      </button>
      {saved && <p role="status">{t('governance.saved')}</p>}
    </section>
  );
}
