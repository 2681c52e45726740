import { ConfigError } from '@fusionflow/kit';
import { loadServerConfig, type ServerConfig } from '../config.js';

/** The control plane's settings for a command-line tool; a bad one exits 78 naming the variable. */
export function loadConfigOrExit(): ServerConfig {
  try {
    return loadServerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
