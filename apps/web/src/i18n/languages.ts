import { matchLanguage } from '@fusionflow/protocol';

/** Languages the interface is translated into (the first is the fallback). */
export const UI_LANGUAGES = ['en', 'es'] as const;
export type UiLanguage = (typeof UI_LANGUAGES)[number];

/**
 * Languages a person can prefer. Chat is translated into the preferred language; the interface
 * uses it when it is one of `UI_LANGUAGES` and falls back to English otherwise.
 */
export const PREFERRED_LANGUAGES = ['en', 'es', 'ca', 'fr', 'pt', 'de', 'it'] as const;

/** The language's own name for itself ("Español", "Français"), for pickers. */
export function languageName(code: string): string {
  try {
    const name = new Intl.DisplayNames([code], { type: 'language' }).of(code) ?? code;
    return name.charAt(0).toLocaleUpperCase(code) + name.slice(1);
  } catch {
    return code;
  }
}

/** The interface language for a preferred language: itself or its base when translated, else English. */
export function uiLanguageFor(language: string | undefined): UiLanguage {
  return matchLanguage([language ?? ''], UI_LANGUAGES) ?? UI_LANGUAGES[0];
}

/** The first of the browser's languages the interface is translated into, else English. */
export function browserUiLanguage(): UiLanguage {
  const wanted =
    typeof navigator === 'undefined' ? [] : navigator.languages.length > 0 ? navigator.languages : [navigator.language];
  return matchLanguage(wanted, UI_LANGUAGES) ?? UI_LANGUAGES[0];
}

/** The best preferred-language default for a new account: the browser's first language we offer. */
export function browserPreferredLanguage(): string {
  const wanted = typeof navigator === 'undefined' ? [] : navigator.languages;
  return matchLanguage(wanted, PREFERRED_LANGUAGES) ?? 'en';
}
