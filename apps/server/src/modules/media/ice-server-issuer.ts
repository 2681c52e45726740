import { turnCredentials } from '@fusionflow/kit';
import type { IceServer, IceServersResponse } from '@fusionflow/protocol';

export interface IceServerIssuerOptions {
  stunUrls: readonly string[];
  turnUrls: readonly string[];
  /** coturn `static-auth-secret`; TURN is offered only when it and turnUrls are set. */
  turnSecret: string | undefined;
  ttlSeconds: number;
}

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
    return this.o.turnUrls.length > 0 && Boolean(this.o.turnSecret);
  }

  issue(holder: IceHolder, nowMs = Date.now()): IceServersResponse {
    const iceServers: IceServer[] = [];
    if (this.o.stunUrls.length > 0) iceServers.push({ urls: [...this.o.stunUrls] });
    if (this.turnEnabled && !holder.isGuest) {
      const credentials = turnCredentials(this.o.turnSecret!, holder.userId, this.o.ttlSeconds, nowMs);
      iceServers.push({ urls: [...this.o.turnUrls], ...credentials });
    }
    return { iceServers, ttl: this.o.ttlSeconds };
  }
}
