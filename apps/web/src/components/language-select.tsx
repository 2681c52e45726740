import { languageName, PREFERRED_LANGUAGES } from '../i18n/languages';

interface LanguageSelectProps {
  id: string;
  value: string;
  onChange: (language: string) => void;
  describedBy?: string;
}

/** A picker of the languages a person can prefer, each named in its own language. */
export function LanguageSelect({ id, value, onChange, describedBy }: LanguageSelectProps) {
  const options: string[] = [...PREFERRED_LANGUAGES];
  // Keep a language set elsewhere (e.g. "pt-BR" through the API) selectable.
  if (value && !options.includes(value)) options.push(value);
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={describedBy}>
      {options.map((code) => (
        <option key={code} value={code} lang={code}>
          {languageName(code)}
        </option>
      ))}
    </select>
  );
}
