import { createHmac } from 'node:crypto';
import type { IceServer, IceServersResponse } from '@fusionflow/protocol';

export interface IceServerIssuerOptions {
  stunUrls: readonly string[];
  turnUrls: readonly string[];
  /** coturn `static-auth-secret`; TURN is offered only when it and turnUrls are set. */
  turnSecret: string | undefined;
  ttlSeconds: number;
}

/** Who the servers are for: TURN credentials only go to signed-in accounts. */
export interface IceServerHolder {
  readonly userId: string;
  readonly isGuest: boolean;
}

/**
 * ICE servers for a session. TURN credentials follow coturn's REST API (use-auth-secret):
 * username `<expiry unix seconds>:<user id>`, password base64(HMAC-SHA1(secret, username)).
 * They expire on their own; no static TURN password is ever handed out. Guests get STUN only: a
 * guest token costs nothing to mint, and TURN relays cost bandwidth (and could be used as an open
 * relay by anyone who asks).
 */
export class IceServerIssuer {
  constructor(private readonly o: IceServerIssuerOptions) {}

  get turnEnabled(): boolean {
    return this.o.turnUrls.length > 0 && Boolean(this.o.turnSecret);
  }

  issue(holder: IceServerHolder, nowMs = Date.now()): IceServersResponse {
    const iceServers: IceServer[] = [];
    if (this.o.stunUrls.length > 0) iceServers.push({ urls: [...this.o.stunUrls] });
    if (this.turnEnabled && !holder.isGuest) {
      const username = `${Math.floor(nowMs / 1000) + this.o.ttlSeconds}:${holder.userId}`;
      const credential = createHmac('sha1', this.o.turnSecret!).update(username).digest('base64');
      iceServers.push({ urls: [...this.o.turnUrls], username, credential });
    }
    return { iceServers, ttl: this.o.ttlSeconds };
  }
}
