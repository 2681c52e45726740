/** A language pair an engine can translate (ISO 639-1 codes, as the platform stores languages). */
export interface LanguagePair {
  readonly source: string;
  readonly target: string;
}

/** Which self-hosted translation engine the operator runs. */
export type EngineName = 'libretranslate' | 'apertium';

/**
 * One self-hosted machine-translation engine. Implementations only speak the engine's HTTP API;
 * the Translator around them adds the time limit, circuit breaker, cache and metrics.
 */
export interface TranslationEngine {
  readonly name: EngineName;
  /** The pairs the engine can translate now. */
  pairs(signal: AbortSignal): Promise<LanguagePair[]>;
  /** Translate plain text. Throws TranslationEngineError when the engine refuses or fails. */
  translate(text: string, pair: LanguagePair, signal: AbortSignal): Promise<string>;
}

/** The engine answered with an error (or not at all). `unsupported` marks a pair it lacks. */
export class TranslationEngineError extends Error {
  constructor(
    message: string,
    readonly unsupported = false,
  ) {
    super(message);
    this.name = 'TranslationEngineError';
  }
}

/** Largest response body read from an engine (a chat message's translation is a few KiB at most). */
export const MAX_ENGINE_RESPONSE_BYTES = 1 << 20;

/** Read a JSON response with a size limit; a non-JSON or oversized body is an engine error. */
export async function readEngineJson(response: Response, engine: EngineName): Promise<unknown> {
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_ENGINE_RESPONSE_BYTES) {
    throw new TranslationEngineError(`${engine}: response of ${length} bytes is too large`);
  }
  const text = await response.text();
  if (text.length > MAX_ENGINE_RESPONSE_BYTES) throw new TranslationEngineError(`${engine}: response too large`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new TranslationEngineError(`${engine}: answered HTTP ${response.status} with a body that is not JSON`);
  }
}
