import { type Coturn, startCoturn as start } from '../../test/support/coturn.js';

export type { Coturn };

/** coturn for the call scenarios (UDP and TCP on loopback), its log in the run's output directory. */
export function startCoturn(logFile: string): Promise<Coturn> {
  return start({ logFile });
}
