import type { ServerConfig } from '../config.js';

/** The control plane this machine's settings describe (HOST:PORT), as tools reach it. */
export function controlPlaneUrl(config: Pick<ServerConfig, 'host' | 'port'>): string {
  const host = ['0.0.0.0', '::', 'localhost'].includes(config.host) ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/** Whether a control plane answers there now. */
export async function controlPlaneRunning(config: Pick<ServerConfig, 'host' | 'port'>): Promise<boolean> {
  try {
    return (await fetch(`${controlPlaneUrl(config)}/healthz`, { signal: AbortSignal.timeout(1500) })).ok;
  } catch {
    return false;
  }
}
