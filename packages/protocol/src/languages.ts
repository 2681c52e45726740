/**
 * Language matching, the same on every side (server translation, client merging, web UI): `pt-BR`
 * reads Portuguese, so the base language (lower-cased) decides a translation pair or a UI language.
 */
export const baseLanguage = (language: string): string => (language.split('-')[0] ?? language).toLowerCase();

/** Whether two language tags read the same (`es` and `es-MX`, `PT` and `pt-BR`). */
export const sameLanguage = (a: string, b: string): boolean => baseLanguage(a) === baseLanguage(b);

/** The first of `wanted` (tags such as the browser's) whose base language is one of `offered`. */
export function matchLanguage<T extends string>(wanted: readonly string[], offered: readonly T[]): T | undefined {
  for (const tag of wanted) {
    const base = baseLanguage(tag);
    const found = offered.find((l) => l === base);
    if (found) return found;
  }
  return undefined;
}
