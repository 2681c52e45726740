import { z } from 'zod';
import {
  type LanguagePair,
  readEngineJson,
  type TranslationEngine,
  TranslationEngineError,
} from './translation-engine.js';

const ListPairsResponse = z.object({
  responseData: z.array(z.object({ sourceLanguage: z.string(), targetLanguage: z.string() })),
});
const TranslateResponse = z.object({
  responseData: z.object({ translatedText: z.string() }),
  responseStatus: z.number().optional(),
});
const ErrorResponse = z.object({ message: z.string().optional(), explanation: z.string().optional() });

/**
 * Apertium names languages with ISO 639-3 codes (`eng`, `spa`), the platform with ISO 639-1
 * (`en`, `es`); the pairs Debian packages ship, and a few more. Variants (`spa_ES`, `cat_valencia`)
 * are left out: the plain code is the pair a reader of that language gets.
 */
const ISO3_TO_ISO1: Record<string, string> = {
  eng: 'en',
  spa: 'es',
  cat: 'ca',
  fra: 'fr',
  fre: 'fr',
  por: 'pt',
  ita: 'it',
  deu: 'de',
  ger: 'de',
  glg: 'gl',
  oci: 'oc',
  eus: 'eu',
  ron: 'ro',
  nld: 'nl',
  arg: 'an',
  ast: 'ast',
  epo: 'eo',
  srd: 'sc',
  nob: 'nb',
  nno: 'nn',
  dan: 'da',
  swe: 'sv',
  isl: 'is',
  rus: 'ru',
  ukr: 'uk',
  pol: 'pl',
  ces: 'cs',
  slk: 'sk',
  hin: 'hi',
  urd: 'ur',
  ara: 'ar',
  mlt: 'mt',
  kaz: 'kk',
  tat: 'tt',
};
const toIso1 = (code: string): string | undefined => (code.length === 2 ? code : ISO3_TO_ISO1[code]);

/**
 * Apertium APy: `GET /listPairs` and `GET /translate?langpair=en|es&q=…` (Debian: `apertium-apy`
 * with pairs such as `apertium-eng-spa`). Rule-based: fast and fully offline, with fewer pairs
 * than LibreTranslate.
 */
export class ApertiumEngine implements TranslationEngine {
  readonly name = 'apertium' as const;
  readonly #base: string;
  /** The engine's own code pair for each of ours (`en|es` → `eng|spa`). */
  #native = new Map<string, string>();

  constructor(url: string) {
    this.#base = url.replace(/\/+$/, '');
  }

  async pairs(signal: AbortSignal): Promise<LanguagePair[]> {
    const res = await fetch(`${this.#base}/listPairs`, { signal, headers: { accept: 'application/json' } });
    const body = await readEngineJson(res, this.name);
    if (!res.ok) throw new TranslationEngineError(`apertium: /listPairs answered HTTP ${res.status}`);
    const parsed = ListPairsResponse.safeParse(body);
    if (!parsed.success) throw new TranslationEngineError('apertium: /listPairs answered an unexpected shape');
    const native = new Map<string, string>();
    const pairs: LanguagePair[] = [];
    for (const p of parsed.data.responseData) {
      const source = toIso1(p.sourceLanguage);
      const target = toIso1(p.targetLanguage);
      if (!source || !target || source === target) continue;
      const key = `${source}|${target}`;
      if (native.has(key)) continue;
      native.set(key, `${p.sourceLanguage}|${p.targetLanguage}`);
      pairs.push({ source, target });
    }
    this.#native = native;
    return pairs;
  }

  async translate(text: string, pair: LanguagePair, signal: AbortSignal): Promise<string> {
    const langpair = this.#native.get(`${pair.source}|${pair.target}`) ?? `${pair.source}|${pair.target}`;
    // markUnknown=no: words Apertium does not know come back as they are, without a leading `*`.
    const query = new URLSearchParams({ langpair, q: text, markUnknown: 'no' });
    const res = await fetch(`${this.#base}/translate?${query}`, { signal, headers: { accept: 'application/json' } });
    const body = await readEngineJson(res, this.name);
    if (!res.ok) {
      const err = ErrorResponse.safeParse(body).data;
      const message = err?.explanation ?? err?.message ?? `HTTP ${res.status}`;
      throw new TranslationEngineError(`apertium: ${message}`, /not installed/i.test(message));
    }
    const parsed = TranslateResponse.safeParse(body);
    if (!parsed.success) throw new TranslationEngineError('apertium: /translate answered an unexpected shape');
    return parsed.data.responseData.translatedText;
  }
}
