import { z } from 'zod';
import {
  type LanguagePair,
  readEngineJson,
  type TranslationEngine,
  TranslationEngineError,
} from './translation-engine.js';

const LanguagesResponse = z.array(
  z.object({ code: z.string(), name: z.string().optional(), targets: z.array(z.string()).optional() }),
);
const TranslateResponse = z.object({ translatedText: z.string() });
const ErrorResponse = z.object({ error: z.string() });

/**
 * LibreTranslate (the production choice): `POST /translate` with `{ q, source, target, format,
 * api_key? }` answers `{ translatedText }`; `GET /languages` lists languages with their `targets`.
 */
export class LibreTranslateEngine implements TranslationEngine {
  readonly name = 'libretranslate' as const;
  readonly #base: string;

  constructor(
    url: string,
    private readonly apiKey?: string,
  ) {
    this.#base = url.replace(/\/+$/, '');
  }

  async pairs(signal: AbortSignal): Promise<LanguagePair[]> {
    const res = await fetch(`${this.#base}/languages`, { signal, headers: { accept: 'application/json' } });
    const body = await readEngineJson(res, this.name);
    if (!res.ok) throw new TranslationEngineError(`libretranslate: /languages answered HTTP ${res.status}`);
    const parsed = LanguagesResponse.safeParse(body);
    if (!parsed.success) throw new TranslationEngineError('libretranslate: /languages answered an unexpected shape');
    const codes = parsed.data.map((l) => l.code);
    const pairs: LanguagePair[] = [];
    for (const lang of parsed.data) {
      // Old servers have no `targets`: every language translates into every other.
      for (const target of lang.targets ?? codes) if (target !== lang.code) pairs.push({ source: lang.code, target });
    }
    return pairs;
  }

  async translate(text: string, pair: LanguagePair, signal: AbortSignal): Promise<string> {
    const res = await fetch(`${this.#base}/translate`, {
      method: 'POST',
      signal,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        q: text,
        source: pair.source,
        target: pair.target,
        format: 'text',
        ...(this.apiKey ? { api_key: this.apiKey } : {}),
      }),
    });
    const body = await readEngineJson(res, this.name);
    if (!res.ok) {
      const message = ErrorResponse.safeParse(body).data?.error ?? `HTTP ${res.status}`;
      // LibreTranslate answers 400 for a language it does not have.
      throw new TranslationEngineError(`libretranslate: ${message}`, res.status === 400 && /language/i.test(message));
    }
    const parsed = TranslateResponse.safeParse(body);
    if (!parsed.success) throw new TranslationEngineError('libretranslate: /translate answered an unexpected shape');
    return parsed.data.translatedText;
  }
}
