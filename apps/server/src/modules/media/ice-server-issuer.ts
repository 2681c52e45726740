import { type IceServerSettings, mintIceServers, turnEnabled } from '@fusionflow/kit';
import type { IceServersResponse } from '@fusionflow/protocol';

export type IceServerIssuerOptions = IceServerSettings;

/** Who the credentials are for: a signed-in account, or a guest (anonymous session). */
export interface IceHolder {
  userId: string;
  isGuest: boolean;
}

/**
 * ICE servers for a session. TURN credentials follow coturn's REST API (use-auth-secret):
 * username `<expiry unix seconds>:<user id>`, password base64(HMAC-SHA1(secret, username)).
 * They expire on their own; no static TURN password is ever handed out. TURN relays traffic at the
 * operator's cost, so only signed-in accounts get it: a guest (which anyone can create at will)
 * gets STUN only. The same rule serves `GET /api/ice-servers` and the credentials inside grants.
 */
export class IceServerIssuer {
  constructor(private readonly o: IceServerIssuerOptions) {}

  get turnEnabled(): boolean {
    return turnEnabled(this.o);
  }

  issue(holder: IceHolder, nowMs = Date.now()): IceServersResponse {
    return { iceServers: mintIceServers(this.o, holder.isGuest ? null : holder.userId, nowMs), ttl: this.o.ttlSeconds };
  }
}
