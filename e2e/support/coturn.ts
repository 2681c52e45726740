import { type Coturn, type CoturnOptions, startCoturn as start } from '../../test/support/coturn.js';

export type { Coturn, CoturnOptions };

/** coturn for the call scenarios (UDP and TCP, on loopback unless told), its log in the run's output directory. */
export function startCoturn(logFile: string, options: CoturnOptions = {}): Promise<Coturn> {
  return start({ ...options, logFile });
}
