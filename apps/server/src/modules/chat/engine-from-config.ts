import type { ServerConfig } from '../../config.js';
import { ApertiumEngine } from './apertium-engine.js';
import { LibreTranslateEngine } from './libretranslate-engine.js';
import type { TranslationEngine } from './translation-engine.js';

/** The translation engine the settings name, if any (the platform and the doctor build it alike). */
export function engineFromConfig(
  config: Pick<ServerConfig, 'translationEngine' | 'translationUrl' | 'translationApiKey'>,
): TranslationEngine | undefined {
  if (config.translationEngine === 'libretranslate' && config.translationUrl) {
    return new LibreTranslateEngine(config.translationUrl, config.translationApiKey);
  }
  if (config.translationEngine === 'apertium' && config.translationUrl)
    return new ApertiumEngine(config.translationUrl);
  return undefined;
}
