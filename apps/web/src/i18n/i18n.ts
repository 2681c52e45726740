import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import es from './es.json';
import { browserUiLanguage, UI_LANGUAGES } from './languages';

/** Every interface language has every English key (the compiler checks `es` against `en`). */
const resources = {
  en: { translation: en },
  es: { translation: es satisfies typeof en },
};

function setDocumentLanguage(language: string): void {
  document.documentElement.lang = language;
}

i18n.on('languageChanged', setDocumentLanguage);

void i18n.use(initReactI18next).init({
  resources,
  lng: browserUiLanguage(),
  fallbackLng: UI_LANGUAGES[0],
  supportedLngs: UI_LANGUAGES,
  nonExplicitSupportedLngs: true,
  load: 'languageOnly',
  initAsync: false,
  interpolation: { escapeValue: false }, // React escapes.
  returnNull: false,
});

export { i18n };
