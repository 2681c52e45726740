import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * "Copy link": puts an address on the clipboard and says so for a moment. Where the clipboard is
 * refused (an insecure origin), the address is shown to copy by hand.
 */
export function CopyLinkButton({ url, label, testId }: { url: string; label: string; testId: string }) {
  const { t } = useTranslation();
  const [state, setState] = useState<'idle' | 'copied' | 'manual'>('idle');
  useEffect(() => {
    if (state !== 'copied') return;
    const timer = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setState('copied');
    } catch {
      setState('manual');
    }
  };
  return (
    <span className="copy-link">
      <button type="button" className="button" data-testid={testId} data-url={url} onClick={() => void copy()}>
        {state === 'copied' ? t('share.copied') : label}
      </button>
      {state === 'manual' && (
        <input readOnly value={url} aria-label={label} onFocus={(e) => e.currentTarget.select()} />
      )}
    </span>
  );
}
