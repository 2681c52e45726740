import { describe, expect, it } from 'vitest';
import { baseLanguage, matchLanguage, sameLanguage } from './languages.js';

describe('language matching', () => {
  it('reads a regional tag as its base language, whatever the case', () => {
    expect(baseLanguage('pt-BR')).toBe('pt');
    expect(baseLanguage('PT-br')).toBe('pt');
    expect(baseLanguage('es')).toBe('es');
    expect(sameLanguage('es', 'ES-mx')).toBe(true);
    expect(sameLanguage('es', 'en')).toBe(false);
  });

  it('picks the first wanted tag that is offered', () => {
    expect(matchLanguage(['de-AT', 'ES-es', 'en'], ['en', 'es'] as const)).toBe('es');
    expect(matchLanguage(['fr'], ['en', 'es'] as const)).toBeUndefined();
    expect(matchLanguage([], ['en'] as const)).toBeUndefined();
  });
});
