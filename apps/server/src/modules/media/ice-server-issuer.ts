import { createHmac } from 'node:crypto';
import type { IceServer, IceServersResponse } from '@fusionflow/protocol';

export interface IceServerIssuerOptions {
  stunUrls: readonly string[];
  turnUrls: readonly string[];
  /** coturn `static-auth-secret`; TURN is offered only when it and turnUrls are set. */
  turnSecret: string | undefined;
  ttlSeconds: number;
}

/**
 * ICE servers for a session. TURN credentials follow coturn's REST API (use-auth-secret):
 * username `<expiry unix seconds>:<user id>`, password base64(HMAC-SHA1(secret, username)).
 * They expire on their own; no static TURN password is ever handed out.
 */
export class IceServerIssuer {
  constructor(private readonly o: IceServerIssuerOptions) {}

  get turnEnabled(): boolean {
    return this.o.turnUrls.length > 0 && Boolean(this.o.turnSecret);
  }

  issue(userId: string, nowMs = Date.now()): IceServersResponse {
    const iceServers: IceServer[] = [];
    if (this.o.stunUrls.length > 0) iceServers.push({ urls: [...this.o.stunUrls] });
    if (this.turnEnabled) {
      const username = `${Math.floor(nowMs / 1000) + this.o.ttlSeconds}:${userId}`;
      const credential = createHmac('sha1', this.o.turnSecret!).update(username).digest('base64');
      iceServers.push({ urls: [...this.o.turnUrls], username, credential });
    }
    return { iceServers, ttl: this.o.ttlSeconds };
  }
}
